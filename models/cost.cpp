#include "models/cost.hpp"

#include <cmath>

namespace danlu {

namespace {
constexpr double kHoursPerYear = 8760;
constexpr double kSecondsPerYear = kHoursPerYear * 3600;

// Yearly payment that repays `capital` over `years` at `rate`.
double annuity(double capital, double years, double rate) {
  if (years <= 0) return capital;
  if (rate <= 0) return capital / years;
  return capital * rate / (1 - std::pow(1 + rate, -years));
}
}  // namespace

CostResult cost(const CostInputs& in) {
  const CostSpec& c = in.spec;
  const BuySpec& b = c.buy;
  CostResult r;
  const double price = c.rent_usd_per_gpu_hour * (1 - c.reserved_discount);
  const double gpu_hours = in.gpus * in.run_hours;
  r.rent_usd = gpu_hours * price;

  if (!b.possible) {
    // Only renting: the run's cost, its $/M tokens and the fleet's rent.
    r.buy_possible = false;
    r.cheaper = "rent";
    r.usd_per_million_tokens = in.tokens > 0 ? r.rent_usd / (in.tokens / 1e6) : 0;
    const double useful_hours = c.horizon_s / kSecondsPerYear * kHoursPerYear * c.utilization;
    r.fleet_rent_usd = in.gpus * useful_hours * price;
    r.rent_usd_per_month = in.gpus * kHoursPerYear / 12 * c.utilization * price;
    return r;
  }
  r.servers_usd = in.units * b.server_usd;
  r.network_usd = in.gpus * b.network_usd_per_gpu;
  r.facility_usd = in.facility_peak_w / 1e6 * b.facility_usd_per_mw;
  const double it_capex = r.servers_usd + r.network_usd;
  const double facility_capex = r.facility_usd;
  r.capex_usd = it_capex + facility_capex;
  const double years = b.depreciation_s / kSecondsPerYear;
  const double fixed_per_year = annuity(it_capex, years, b.cost_of_capital_per_year) +
                                annuity(facility_capex, kFacilityLifeYears, b.cost_of_capital_per_year) +
                                b.maintenance_per_year * it_capex;
  const double power_usd_per_hour = in.facility_w / 1e3 * in.electricity_usd_per_kwh;
  const double u = c.utilization;
  r.buy_usd = fixed_per_year / kHoursPerYear * in.run_hours / u + power_usd_per_hour * in.run_hours;
  r.owned_usd_per_gpu_hour = (fixed_per_year / kHoursPerYear / u + power_usd_per_hour) / in.gpus;
  r.cheaper = r.buy_usd < r.rent_usd ? "buy" : "rent";
  const double best = std::min(r.buy_usd, r.rent_usd);
  r.usd_per_million_tokens = in.tokens > 0 ? best / (in.tokens / 1e6) : 0;

  // Over the horizon: the owned fleet, against renting its useful GPU-hours.
  const double horizon_years = c.horizon_s / kSecondsPerYear;
  const double useful_hours = horizon_years * kHoursPerYear * u;
  r.fleet_buy_usd = fixed_per_year * horizon_years + power_usd_per_hour * useful_hours;
  r.fleet_rent_usd = in.gpus * useful_hours * price;

  const double month_hours = kHoursPerYear / 12 * u;
  const double rent_month = in.gpus * month_hours * price;
  const double own_month = b.maintenance_per_year * it_capex / 12 + power_usd_per_hour * month_hours;
  r.rent_usd_per_month = rent_month;
  r.own_usd_per_month = own_month;
  if (rent_month > own_month) r.break_even_months = r.capex_usd / (rent_month - own_month);
  return r;
}

}  // namespace danlu
