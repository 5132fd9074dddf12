#include "core/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace danlu {

namespace {

struct UnitDef {
  std::string_view suffix;
  double factor;
  Quantity kind;
};

constexpr double kMinute = 60, kHour = 3600, kDay = 86400, kYear = 365 * kDay;

// Suffixes are matched exactly (case matters: "Mb/s" is megabits, "MB/s" megabytes).
// The same suffix never appears under two kinds, so a wrong-kind unit can be named.
const std::vector<UnitDef>& units() {
  static const std::vector<UnitDef> table = {
      // counts
      {"k", 1e3, Quantity::Count},
      {"K", 1e3, Quantity::Count},
      {"M", 1e6, Quantity::Count},
      {"G", 1e9, Quantity::Count},
      {"T", 1e12, Quantity::Count},
      {"P", 1e15, Quantity::Count},
      {"Ki", 1024.0, Quantity::Count},
      {"Mi", 1048576.0, Quantity::Count},
      {"Gi", 1073741824.0, Quantity::Count},
      {"Ti", 1099511627776.0, Quantity::Count},
      // bytes
      {"B", 1, Quantity::Bytes},
      {"kB", 1e3, Quantity::Bytes},
      {"KB", 1e3, Quantity::Bytes},
      {"MB", 1e6, Quantity::Bytes},
      {"GB", 1e9, Quantity::Bytes},
      {"TB", 1e12, Quantity::Bytes},
      {"PB", 1e15, Quantity::Bytes},
      {"KiB", 1024.0, Quantity::Bytes},
      {"MiB", 1048576.0, Quantity::Bytes},
      {"GiB", 1073741824.0, Quantity::Bytes},
      {"TiB", 1099511627776.0, Quantity::Bytes},
      // rates, in bytes/s (bits divided by 8)
      {"b/s", 1 / 8.0, Quantity::ByteRate},
      {"kb/s", 1e3 / 8, Quantity::ByteRate},
      {"Mb/s", 1e6 / 8, Quantity::ByteRate},
      {"Gb/s", 1e9 / 8, Quantity::ByteRate},
      {"Tb/s", 1e12 / 8, Quantity::ByteRate},
      {"Gbps", 1e9 / 8, Quantity::ByteRate},
      {"B/s", 1, Quantity::ByteRate},
      {"kB/s", 1e3, Quantity::ByteRate},
      {"MB/s", 1e6, Quantity::ByteRate},
      {"GB/s", 1e9, Quantity::ByteRate},
      {"TB/s", 1e12, Quantity::ByteRate},
      // time
      {"ns", 1e-9, Quantity::Time},
      {"us", 1e-6, Quantity::Time},
      {"µs", 1e-6, Quantity::Time},
      {"ms", 1e-3, Quantity::Time},
      {"s", 1, Quantity::Time},
      {"min", kMinute, Quantity::Time},
      {"h", kHour, Quantity::Time},
      {"d", kDay, Quantity::Time},
      {"w", 7 * kDay, Quantity::Time},
      {"y", kYear, Quantity::Time},
      // power
      {"W", 1, Quantity::Power},
      {"kW", 1e3, Quantity::Power},
      {"MW", 1e6, Quantity::Power},
      {"GW", 1e9, Quantity::Power},
      // money
      {"USD", 1, Quantity::Money},
      {"kUSD", 1e3, Quantity::Money},
      {"MUSD", 1e6, Quantity::Money},
      // energy price
      {"USD/kWh", 1, Quantity::EnergyPrice},
      {"USD/MWh", 1e-3, Quantity::EnergyPrice},
      // compute rate
      {"FLOP/s", 1, Quantity::FlopRate},
      {"GFLOP/s", 1e9, Quantity::FlopRate},
      {"TFLOP/s", 1e12, Quantity::FlopRate},
      {"PFLOP/s", 1e15, Quantity::FlopRate},
      {"EFLOP/s", 1e18, Quantity::FlopRate},
      {"TFLOPS", 1e12, Quantity::FlopRate},
      {"PFLOPS", 1e15, Quantity::FlopRate},
      // fraction
      {"%", 0.01, Quantity::Fraction},
  };
  return table;
}

std::string_view kind_name(Quantity q) {
  switch (q) {
    case Quantity::Count: return "a count";
    case Quantity::Real: return "a number";
    case Quantity::Fraction: return "a fraction";
    case Quantity::Bytes: return "a size";
    case Quantity::LinkRate:
    case Quantity::ByteRate: return "a rate";
    case Quantity::Time:
    case Quantity::Duration: return "a time";
    case Quantity::Power: return "a power";
    case Quantity::Money: return "an amount of money";
    case Quantity::EnergyPrice: return "an energy price";
    case Quantity::FlopRate: return "a compute rate";
  }
  return "a quantity";
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Which unit kinds a field of kind `q` accepts (a count-like suffix is a
// multiplier for money: "10M" USD).
bool accepts(Quantity field, Quantity unit) {
  if (field == unit) return true;
  if (field == Quantity::Duration && unit == Quantity::Time) return true;
  if (field == Quantity::LinkRate && unit == Quantity::ByteRate) return true;
  if (field == Quantity::Money && unit == Quantity::Count) return true;
  return false;
}

}  // namespace

std::string expected_text(Quantity q) {
  switch (q) {
    case Quantity::Count: return "a count like 2048, \"16M\" or \"15.6T\"";
    case Quantity::Real: return "a number";
    case Quantity::Fraction: return "a fraction like 0.05 or \"5%\"";
    case Quantity::Bytes: return "a size like \"80GB\" or \"192GiB\"";
    case Quantity::LinkRate: return "a link rate like \"400Gb/s\" or \"1.8TB/s\"";
    case Quantity::ByteRate: return "a rate like \"3.35TB/s\"";
    case Quantity::Time: return "a time like \"2us\", \"30min\" or \"4y\"";
    case Quantity::Duration: return "a time with its unit, like \"60s\", \"10min\" or \"4y\"";
    case Quantity::Power: return "a power like \"700W\" or \"132kW\"";
    case Quantity::Money: return "an amount in USD like 300000 or \"10M\"";
    case Quantity::EnergyPrice: return "an energy price in USD/kWh like 0.08";
    case Quantity::FlopRate: return "a compute rate like \"989TFLOP/s\"";
  }
  return "a quantity";
}

double parse_quantity(const std::string& raw, Quantity q) {
  std::string text = trim(raw);
  // Money may be written "$3M".
  if (q == Quantity::Money && !text.empty() && text[0] == '$') text = trim(text.substr(1));
  double value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || text.empty())
    throw UnitError(fmt::format("expected {}, found \"{}\"", expected_text(q), raw));
  if (!std::isfinite(value))
    throw UnitError(fmt::format("expected {}, found \"{}\" (not finite)", expected_text(q), raw));
  std::string suffix = trim(std::string_view(ptr, static_cast<size_t>(end - ptr)));
  if (suffix.empty()) {
    if (q == Quantity::LinkRate) return value / 8.0;  // plain link rates are bits/s
    if (q == Quantity::Duration && value != 0)
      throw UnitError(fmt::format("expected {}, found \"{}\" (which unit: \"{}s\", \"{}h\" or \"{}y\"?)",
                                  expected_text(q), raw, text, text, text));
    return value;
  }
  for (const auto& u : units()) {
    if (u.suffix != suffix) continue;
    if (!accepts(q, u.kind))
      throw UnitError(fmt::format("expected {}, found \"{}\" (\"{}\" is the unit of {})", expected_text(q), raw, suffix,
                                  kind_name(u.kind)));
    return value * u.factor;
  }
  throw UnitError(fmt::format("expected {}, found \"{}\" (unknown unit \"{}\")", expected_text(q), raw, suffix));
}

std::string format_quantity(double v, Quantity q) {
  struct Step {
    double factor;
    const char* suffix;
  };
  auto scaled = [v](std::initializer_list<Step> steps, const char* base) {
    for (const auto& s : steps)
      if (std::fabs(v) >= s.factor) {
        const double scaled = v / s.factor;
        // Past the largest prefix, whole digits read better than "1e+04T".
        return std::fabs(scaled) >= 1e4 ? fmt::format("{:.0f}{}", scaled, s.suffix)
                                        : fmt::format("{:.4g}{}", scaled, s.suffix);
      }
    return fmt::format("{:.4g}{}", v, base);
  };
  switch (q) {
    case Quantity::Count: return scaled({{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}, "");
    case Quantity::Bytes: return scaled({{1e15, "PB"}, {1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}}, "B");
    case Quantity::LinkRate:
      if (v * 8 >= 1e9) return fmt::format("{:.4g}Gb/s", v * 8 / 1e9);
      return fmt::format("{:.4g}b/s", v * 8);
    case Quantity::ByteRate: return scaled({{1e12, "TB/s"}, {1e9, "GB/s"}, {1e6, "MB/s"}}, "B/s");
    case Quantity::Time:
    case Quantity::Duration:
      if (v == 0) return "0s";
      if (v >= kYear) return fmt::format("{:.4g}y", v / kYear);
      if (v >= kDay) return fmt::format("{:.4g}d", v / kDay);
      if (v >= kHour) return fmt::format("{:.4g}h", v / kHour);
      if (v >= kMinute) return fmt::format("{:.4g}min", v / kMinute);
      if (v >= 1) return fmt::format("{:.4g}s", v);
      if (v >= 1e-3) return fmt::format("{:.4g}ms", v * 1e3);
      if (v >= 1e-6) return fmt::format("{:.4g}us", v * 1e6);
      return fmt::format("{:.4g}ns", v * 1e9);
    case Quantity::Power: return scaled({{1e6, "MW"}, {1e3, "kW"}}, "W");
    case Quantity::Money: return scaled({{1e9, "G"}, {1e6, "M"}, {1e3, "k"}}, "") + " USD";
    case Quantity::EnergyPrice: return fmt::format("{:.4g} USD/kWh", v);
    case Quantity::FlopRate: return scaled({{1e15, "PFLOP/s"}, {1e12, "TFLOP/s"}, {1e9, "GFLOP/s"}}, "FLOP/s");
    case Quantity::Fraction:
    case Quantity::Real: return fmt::format("{:.6g}", v);
  }
  return fmt::format("{}", v);
}

}  // namespace danlu
