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
  const double u = c.utilization;
  const double price = c.rent_usd_per_gpu_hour * (1 - c.reserved_discount);
  const double gpu_hours = in.gpus * in.run_hours;
  r.rent_usd = gpu_hours * price;
  // Over the horizon and by the month: renting the fleet's useful GPU-hours.
  const double horizon_years = c.horizon_s / kSecondsPerYear;
  const double useful_hours = horizon_years * kHoursPerYear * u;
  const double month_hours = kHoursPerYear / 12 * u;
  r.fleet_rent_usd = in.gpus * useful_hours * price;
  r.rent_usd_per_month = in.gpus * month_hours * price;
  if (!b.possible) {
    r.buy_possible = false;
    r.usd_per_million_tokens = in.tokens > 0 ? r.rent_usd / (in.tokens / 1e6) : 0;
    return r;
  }

  r.servers_usd = in.units * b.server_usd;
  r.network_usd = in.gpus * b.network_usd_per_gpu;
  r.facility_usd = in.facility_peak_w / 1e6 * b.facility_usd_per_mw;
  const double it_capex = r.servers_usd + r.network_usd;
  r.capex_usd = it_capex + r.facility_usd;
  const double years = b.depreciation_s / kSecondsPerYear;
  const double fixed_per_year = annuity(it_capex, years, b.cost_of_capital_per_year) +
                                annuity(r.facility_usd, kFacilityLifeYears, b.cost_of_capital_per_year) +
                                b.maintenance_per_year * it_capex;
  const double power_usd_per_hour = in.facility_w / 1e3 * in.electricity_usd_per_kwh;
  r.buy_usd = fixed_per_year / kHoursPerYear * in.run_hours / u + power_usd_per_hour * in.run_hours;
  r.owned_usd_per_gpu_hour = (fixed_per_year / kHoursPerYear / u + power_usd_per_hour) / in.gpus;
  r.usd_per_million_tokens = in.tokens > 0 ? r.cheaper_usd() / (in.tokens / 1e6) : 0;

  // The owned fleet, against renting its useful GPU-hours.
  r.fleet_buy_usd = fixed_per_year * horizon_years + power_usd_per_hour * useful_hours;
  r.own_usd_per_month = b.maintenance_per_year * it_capex / 12 + power_usd_per_hour * month_hours;
  if (r.rent_usd_per_month > r.own_usd_per_month)
    r.break_even_months = r.capex_usd / (r.rent_usd_per_month - r.own_usd_per_month);
  return r;
}

}  // namespace danlu
