// Unit-bearing quantities ("900GB/s", "2us", "700W", "15.6T") parsed in one place.
//
// Every parser returns SI base units: bytes, seconds, watts, USD, FLOP/s, and
// bytes/s for both kinds of rate. A plain number is taken in the field's base
// unit, except a LinkRate, where the scenario contract says bits/s.
#pragma once

#include <stdexcept>
#include <string>

namespace danlu {

enum class Quantity {
  Count,        // 16M, 15.6T, 2Ki
  Real,         // any plain real number
  Fraction,     // 0.05 or 5%
  Bytes,        // 192GB, 80GiB
  LinkRate,     // 400Gb/s, 1.8TB/s; plain number = bits/s; result bytes/s
  ByteRate,     // 3.35TB/s; plain number = bytes/s; result bytes/s
  Time,         // 700ns, 2us, 90d, 4y; result seconds
  Duration,     // a Time that must carry its unit (0 aside): "4" could be seconds or years
  Power,        // 700W, 132kW; result watts
  Money,        // 300000, 10M, 3.5k USD; result USD
  EnergyPrice,  // 0.08 or 0.08USD/kWh; result USD per kWh
  FlopRate,     // 989TFLOP/s, 2.5PFLOP/s; result FLOP/s
};

// What to write in "expected ..." for each kind, e.g. "a time like \"2us\"".
std::string expected_text(Quantity q);

// Thrown with a message that completes "expected ..., found ...".
class UnitError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

double parse_quantity(const std::string& text, Quantity q);

// Human rendering with a sensible prefix, e.g. 8.0e10 bytes -> "80 GB".
std::string format_quantity(double value, Quantity q);

}  // namespace danlu
