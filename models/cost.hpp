// Renting or buying: what a run and a fleet cost.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/names.hpp"

namespace danlu {

struct BuySpec {
  double server_usd = 0;  // per system unit (node or rack)
  double network_usd_per_gpu = 0;
  double facility_usd_per_mw = 0;
  double depreciation_s = 0;
  double maintenance_per_year = 0;
  double cost_of_capital_per_year = 0;
  // False when the system is not sold (TPU pods, Trainium) and the scenario
  // gives no server price: every figure of owning is then n/a.
  bool possible = true;
};

struct CostSpec {
  double rent_usd_per_gpu_hour = 0;
  std::string rent_basis;  // where the rate comes from (kRentBasis, or the scenario)
  double reserved_discount = 0;
  BuySpec buy;
  double utilization = 0.9;
  double horizon_s = 0;
};

// Data-centre shells and their power and cooling plant outlive the IT inside
// them: the build-out is spread over 15 years (typical facility depreciation).
inline constexpr double kFacilityLifeYears = 15;

struct CostInputs {
  CostSpec spec;
  int gpus = 0;
  int units = 0;               // what server_usd buys: nodes or racks
  double run_hours = 0;        // wall clock of the whole run, goodput included
  double facility_w = 0;       // average facility power in training
  double facility_peak_w = 0;  // what the facility must be built for
  double electricity_usd_per_kwh = 0;
  double tokens = 0;
};

enum class CostOption { rent, buy };
template <>
struct NameTable<CostOption> {
  static constexpr std::array<std::string_view, 2> names{"rent", "buy"};
};

struct CostResult {
  double rent_usd = 0;                      // the run, renting its GPU-hours
  double buy_usd = 0;                       // the run's share of an owned fleet's cost
  std::optional<double> break_even_months;  // of continuous use; none when owning never catches up
  double usd_per_million_tokens = 0;        // with the cheaper option
  bool buy_possible = true;                 // false: the buy figures below are n/a (0 here, null in JSON)
  double capex_usd = 0;                     // servers, network and facility build-out
  double servers_usd = 0, network_usd = 0, facility_usd = 0;  // the parts of capex_usd
  double fleet_buy_usd = 0;                                   // owning the fleet over the horizon
  double fleet_rent_usd = 0;                                  // renting its useful GPU-hours over the horizon
  double owned_usd_per_gpu_hour = 0;                          // per useful GPU-hour when owning
  double rent_usd_per_month = 0;                              // the fleet's useful GPU-hours, rented
  double own_usd_per_month = 0;                               // running an owned fleet: maintenance and electricity

  // The cheaper way to run (renting when owning is n/a), and its cost.
  CostOption cheaper() const { return buy_possible && buy_usd < rent_usd ? CostOption::buy : CostOption::rent; }
  double cheaper_usd() const { return cheaper() == CostOption::buy ? buy_usd : rent_usd; }
};

// Buying: capital (servers and network over the depreciation period, the
// facility over kFacilityLifeYears) as annuities at the cost of capital, plus
// maintenance on the IT capital, plus electricity; the fleet does useful work
// `utilization` of its hours, so a run carries run_hours / utilization of the
// fixed costs. Renting pays only the run's GPU-hours. Break-even: the months of
// continuous use after which capex plus running costs fall below renting the
// same useful GPU-hours.
CostResult cost(const CostInputs& in);

}  // namespace danlu
