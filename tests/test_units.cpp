#include <doctest/doctest.h>

#include "core/units.hpp"

using namespace danlu;
using doctest::Approx;

TEST_CASE("counts") {
  CHECK(parse_quantity("2048", Quantity::Count) == 2048);
  CHECK(parse_quantity("16M", Quantity::Count) == 16e6);
  CHECK(parse_quantity("15.6T", Quantity::Count) == Approx(15.6e12));
  CHECK(parse_quantity("3k", Quantity::Count) == 3000);
  CHECK(parse_quantity("2G", Quantity::Count) == 2e9);
  CHECK(parse_quantity("1P", Quantity::Count) == 1e15);
  CHECK(parse_quantity("2Ki", Quantity::Count) == 2048);
  CHECK(parse_quantity("1Mi", Quantity::Count) == 1048576);
  CHECK(parse_quantity("1Gi", Quantity::Count) == 1073741824.0);
  CHECK(parse_quantity("1Ti", Quantity::Count) == 1099511627776.0);
  CHECK(parse_quantity(" 16 M ", Quantity::Count) == 16e6);
}

TEST_CASE("bytes") {
  CHECK(parse_quantity("192GB", Quantity::Bytes) == 192e9);
  CHECK(parse_quantity("141 GB", Quantity::Bytes) == 141e9);
  CHECK(parse_quantity("80GiB", Quantity::Bytes) == 80.0 * 1073741824.0);
  CHECK(parse_quantity("512B", Quantity::Bytes) == 512);
  CHECK(parse_quantity("4kB", Quantity::Bytes) == 4000);
  CHECK(parse_quantity("1MB", Quantity::Bytes) == 1e6);
  CHECK(parse_quantity("2TB", Quantity::Bytes) == 2e12);
  CHECK(parse_quantity("1KiB", Quantity::Bytes) == 1024);
  CHECK(parse_quantity("1MiB", Quantity::Bytes) == 1048576);
  CHECK(parse_quantity("1TiB", Quantity::Bytes) == 1099511627776.0);
  CHECK(parse_quantity("1000", Quantity::Bytes) == 1000);
}

TEST_CASE("rates: bits and bytes, plain link rates are bits/s") {
  CHECK(parse_quantity("400Gb/s", Quantity::LinkRate) == Approx(50e9));
  CHECK(parse_quantity("1.8TB/s", Quantity::LinkRate) == Approx(1.8e12));
  CHECK(parse_quantity("1.6Tb/s", Quantity::LinkRate) == Approx(200e9));
  CHECK(parse_quantity("100Mb/s", Quantity::LinkRate) == Approx(12.5e6));
  CHECK(parse_quantity("400e9", Quantity::LinkRate) == Approx(50e9));  // bits/s
  CHECK(parse_quantity("3.35TB/s", Quantity::ByteRate) == Approx(3.35e12));
  CHECK(parse_quantity("3.35e12", Quantity::ByteRate) == Approx(3.35e12));  // bytes/s
  CHECK(parse_quantity("900GB/s", Quantity::ByteRate) == Approx(900e9));
}

TEST_CASE("time, power, money, prices, compute") {
  CHECK(parse_quantity("700ns", Quantity::Time) == Approx(700e-9));
  CHECK(parse_quantity("2us", Quantity::Time) == Approx(2e-6));
  CHECK(parse_quantity("5ms", Quantity::Time) == Approx(5e-3));
  CHECK(parse_quantity("60s", Quantity::Time) == 60);
  CHECK(parse_quantity("30min", Quantity::Time) == 1800);
  CHECK(parse_quantity("50000h", Quantity::Time) == 50000 * 3600.0);
  CHECK(parse_quantity("90d", Quantity::Time) == 90 * 86400.0);
  CHECK(parse_quantity("4y", Quantity::Time) == 4 * 365 * 86400.0);
  CHECK(parse_quantity("700W", Quantity::Power) == 700);
  CHECK(parse_quantity("132kW", Quantity::Power) == 132e3);
  CHECK(parse_quantity("1.5MW", Quantity::Power) == 1.5e6);
  CHECK(parse_quantity("10M", Quantity::Money) == 10e6);
  CHECK(parse_quantity("$3M", Quantity::Money) == 3e6);
  CHECK(parse_quantity("300000", Quantity::Money) == 300000);
  CHECK(parse_quantity("0.08", Quantity::EnergyPrice) == Approx(0.08));
  CHECK(parse_quantity("0.08USD/kWh", Quantity::EnergyPrice) == Approx(0.08));
  CHECK(parse_quantity("80USD/MWh", Quantity::EnergyPrice) == Approx(0.08));
  CHECK(parse_quantity("989TFLOP/s", Quantity::FlopRate) == Approx(989e12));
  CHECK(parse_quantity("2.5PFLOP/s", Quantity::FlopRate) == Approx(2.5e15));
  CHECK(parse_quantity("5%", Quantity::Fraction) == Approx(0.05));
}

TEST_CASE("a unit of the wrong kind is an error that names the kind") {
  auto msg = [](const char* text, Quantity q) {
    try {
      parse_quantity(text, q);
    } catch (const UnitError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("400GB", Quantity::Time) ==
        "expected a time like \"2us\", \"30min\" or \"4y\", found \"400GB\" (\"GB\" is the unit of a size)");
  CHECK(msg("2us", Quantity::Bytes).find("(\"us\" is the unit of a time)") != std::string::npos);
  CHECK(msg("700W", Quantity::Bytes).find("(\"W\" is the unit of a power)") != std::string::npos);
  CHECK(msg("80GB", Quantity::LinkRate).find("is the unit of a size") != std::string::npos);
  CHECK(msg("400Gb/s", Quantity::Bytes).find("is the unit of a rate") != std::string::npos);
  CHECK(msg("16M", Quantity::Time).find("is the unit of a count") != std::string::npos);
  CHECK(msg("1TB", Quantity::Count).find("is the unit of a size") != std::string::npos);
  CHECK(msg("5kW", Quantity::Money).find("is the unit of a power") != std::string::npos);
  CHECK(msg("10parsecs", Quantity::Time).find("unknown unit \"parsecs\"") != std::string::npos);
  CHECK(msg("fast", Quantity::Time) == "expected a time like \"2us\", \"30min\" or \"4y\", found \"fast\"");
  CHECK(msg("", Quantity::Count).find("expected a count") == 0);
  CHECK(msg("inf", Quantity::Count).find("expected a count") == 0);
  CHECK(msg("5%", Quantity::Time).find("is the unit of a fraction") != std::string::npos);
}

TEST_CASE("formatting picks a readable prefix") {
  CHECK(format_quantity(80e9, Quantity::Bytes) == "80GB");
  CHECK(format_quantity(2e-6, Quantity::Time) == "2us");
  CHECK(format_quantity(1800, Quantity::Time) == "30min");
  CHECK(format_quantity(300000, Quantity::Money) == "300k USD");
  CHECK(format_quantity(50e9, Quantity::LinkRate) == "400Gb/s");
  CHECK(format_quantity(132e3, Quantity::Power) == "132kW");
}
