#include "views/result_view.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/units.hpp"

namespace danlu {

Json layout_json(const TrainingSpec& t) {
  return {{"tp", t.par.tp},
          {"pp", t.par.pp},
          {"dp", t.par.dp},
          {"cp", t.par.cp},
          {"ep", t.par.ep},
          {"vpp", t.par.vpp},
          {"micro_batch", t.micro_batch},
          {"recompute", std::string(to_name(t.recompute))},
          {"zero", t.zero}};
}

Json assumptions_json(const Scenario& s) {
  const BuySpec& b = s.cost.buy;
  const double year = 365.0 * 86400;
  Json j = {{"rent_usd_per_gpu_hour", s.cost.rent_usd_per_gpu_hour},
            {"rent_basis", s.cost.rent_basis},
            {"rent_list_usd_per_gpu_hour", s.cluster.accelerator.rent_list_usd_per_hour},
            {"reserved_discount", s.cost.reserved_discount},
            {"server_usd", b.possible ? Json(b.server_usd) : Json(nullptr)},
            {"server_unit", to_name(s.cluster.system.unit)},
            {"network_usd_per_gpu", b.network_usd_per_gpu},
            {"facility_usd_per_mw", b.facility_usd_per_mw},
            {"depreciation_years", b.depreciation_s / year},
            {"maintenance_per_year", b.maintenance_per_year},
            {"cost_of_capital_per_year", b.cost_of_capital_per_year},
            {"utilization", s.cost.utilization},
            {"pue", s.facility.pue},
            {"electricity_usd_per_kwh", s.facility.electricity_usd_per_kwh},
            {"gpu_mtbf_hours", s.reliability.given ? Json(s.reliability.gpu_mtbf_s / 3600) : Json(nullptr)}};
  return j;
}

Json result_json(const Scenario& s, const Result& r) {
  const MemoryBreakdown& m = r.memory;
  const StepResult& st = r.step;
  Json j;
  j["scenario"] = s.name;
  j["engine"] = r.engine;
  j["gpus"] = s.cluster.gpus;
  j["accelerator"] = s.cluster.accelerator.name;
  j["system"] = s.cluster.system.name;
  j["fits"] = m.fits();
  j["model"] = {{"params", r.params.total}, {"active_params", r.params.active}, {"layers", s.model.layers}};
  j["memory"] = {{"per_gpu_bytes", m.total()},
                 {"capacity_bytes", m.capacity_bytes},
                 {"weights_bytes", m.weights_bytes},
                 {"gradients_bytes", m.gradients_bytes},
                 {"optimizer_bytes", m.optimizer_bytes},
                 {"activations_bytes", m.activations_bytes},
                 {"other_bytes", m.other_bytes},
                 {"shortfall_bytes", m.shortfall_bytes()},
                 {"stage", m.stage}};
  j["step"] = {{"time_s", st.time_s},
               {"compute_s", st.compute_s},
               {"host_wait_s", st.host_wait_s},
               {"exposed_comm_s", st.exposed_comm_s},
               {"bubble_s", st.bubble_s},
               {"optimizer_s", st.optimizer_s},
               {"comm",
                {{"tp_s", st.comm_s[CommKind::tp]},
                 {"pp_s", st.comm_s[CommKind::pp]},
                 {"dp_s", st.comm_s[CommKind::dp]},
                 {"cp_s", st.comm_s[CommKind::cp]},
                 {"ep_s", st.comm_s[CommKind::ep]}}},
               {"tokens_per_s", r.tokens_per_s},
               {"model_flops_per_token", r.model_flops_per_token},
               {"tflops_per_gpu", r.tflops_per_gpu},
               {"mfu", r.mfu},
               {"hfu", r.hfu},
               {"uncertainty", s.uncertainty},
               {"algorithms", st.algorithms}};
  j["training"] = {{"tokens", s.training.tokens},
                   {"steps", r.steps},
                   {"days", r.days},
                   {"gpu_hours", r.gpu_hours},
                   {"goodput", r.goodput}};
  if (s.reliability.given)
    j["reliability"] = {{"job_mtbf_s", r.reliability.job_mtbf_s},
                        {"checkpoint_interval_s", r.reliability.interval_s},
                        {"young_daly_interval_s", r.reliability.young_daly_s},
                        {"checkpoint_share", r.reliability.checkpoint_share},
                        {"failure_share", r.reliability.failure_share}};
  const PowerResult& pw = r.power;
  j["power"] = {{"gpu_w", pw.gpu_w},
                {"it_mw", pw.it_w / 1e6},
                {"facility_mw", pw.facility_w / 1e6},
                {"pue", s.facility.pue},
                {"rack_kw", pw.rack_w / 1e3},
                {"racks", pw.racks},
                {"cooling", to_name(pw.cooling)},
                {"coolable", pw.coolable},
                {"peak_it_mw", pw.peak_it_w / 1e6},
                {"energy_mwh", pw.energy_mwh},
                {"trough_it_mw", pw.trough_it_w / 1e6},
                {"swing_mw", (pw.peak_it_w - pw.trough_it_w) / 1e6},
                {"cooling_needed", cooling_needed_name(pw.cooling_needed)},
                {"network_kw", pw.network_w / 1e3},
                {"switches", r.fabric.switches},
                {"transceivers", r.fabric.transceivers}};
  if (!pw.it_profile_w.empty()) {
    Json profile = Json::array();
    for (double w : pw.it_profile_w) profile.push_back(w / 1e6);
    j["power"]["it_profile_mw"] = profile;
  }
  const CostResult& c = r.cost;
  // Owning a system that is not sold: its figures are null, not zero.
  auto owned = [&](double v) { return c.buy_possible ? Json(v) : Json(nullptr); };
  j["cost"] = {{"rent_usd", c.rent_usd},
               {"buy_usd", owned(c.buy_usd)},
               {"cheaper", to_name(c.cheaper())},
               {"break_even_months", c.break_even_months ? Json(*c.break_even_months) : Json(nullptr)},
               {"usd_per_million_tokens", c.usd_per_million_tokens},
               {"capex_usd", owned(c.capex_usd)},
               {"owned_usd_per_gpu_hour", owned(c.owned_usd_per_gpu_hour)},
               {"fleet_buy_usd", owned(c.fleet_buy_usd)},
               {"fleet_rent_usd", c.fleet_rent_usd},
               {"rent_usd_per_month", c.rent_usd_per_month},
               {"own_usd_per_month", owned(c.own_usd_per_month)},
               {"horizon_months", s.cost.horizon_s / (365.0 * 86400) * 12},
               {"buy_possible", c.buy_possible},
               {"capex_parts",
                {{"servers_usd", owned(c.servers_usd)},
                 {"network_usd", owned(c.network_usd)},
                 {"facility_usd", owned(c.facility_usd)}}}};
  j["assumptions"] = assumptions_json(s);
  j["warnings"] = r.warnings;
  return j;
}

namespace {
std::string gb(double b) { return fmt::format("{:.1f}", b / 1e9); }

// A one-line bar of the step's parts: compute, communication, bubble, optimizer.
std::string bar(const StepResult& st, int width) {
  const double parts[4] = {st.compute_s, st.exposed_comm_s, st.bubble_s, st.optimizer_s};
  const char* glyphs[4] = {"█", "▓", "░", "▒"};
  std::string out;
  int used = 0;
  for (int i = 0; i < 4; ++i) {
    int n = static_cast<int>(std::lround(parts[i] / st.time_s * width));
    if (i == 3) n = width - used;
    for (int k = 0; k < n && used < width; ++k, ++used) out += glyphs[i];
  }
  return out;
}
}  // namespace

std::string result_text(const Scenario& s, const Result& r) {
  const auto& p = s.training.par;
  const MemoryBreakdown& m = r.memory;
  const StepResult& st = r.step;
  std::string out;
  out += fmt::format("{}  ({} engine)\n", s.name, r.engine);
  out += fmt::format(
      "  {} x {} in {} x {}, {} over {} ({} each way); tp {} pp {} dp {} cp {} ep {}{}, {}, {}, {} recompute\n",
      s.cluster.gpus, s.cluster.accelerator.name, s.cluster.racks, s.cluster.system.name, s.cluster.topology,
      s.cluster.fabric.name, format_quantity(s.cluster.fabric.port_bytes_per_s, Quantity::LinkRate), p.tp, p.pp, p.dp,
      p.cp, p.ep, p.vpp > 1 ? fmt::format(" vpp {}", p.vpp) : "", to_string(s.training.precision),
      s.training.schedule->name(), to_name(s.training.recompute));
  out += fmt::format("model     {:.1f}B params ({:.1f}B active), {} layers\n", r.params.total / 1e9,
                     r.params.active / 1e9, s.model.layers);
  out += fmt::format(
      "memory    {} of {} GB per GPU ({}): weights {}, gradients {}, optimizer {}, activations {}, other {}\n",
      gb(m.total()), gb(m.capacity_bytes),
      m.fits() ? "fits" : fmt::format("DOES NOT FIT, {} GB short", gb(m.shortfall_bytes())), gb(m.weights_bytes),
      gb(m.gradients_bytes), gb(m.optimizer_bytes), gb(m.activations_bytes), gb(m.other_bytes));
  out += fmt::format("step      {:.3f} s{}  {}\n", st.time_s,
                     s.uncertainty > 0 ? fmt::format(" ± {:.0f}%", 100 * s.uncertainty) : "", bar(st, 40));
  auto pct = [&](double x) { return fmt::format("{:.1f}%", 100 * x / st.time_s); };
  out += fmt::format(
      "          █ compute {:.3f} s ({})  ▓ exposed comm {:.3f} s ({})  ░ bubble {:.3f} s ({})  ▒ optimizer {:.3f} s\n",
      st.compute_s, pct(st.compute_s), st.exposed_comm_s, pct(st.exposed_comm_s), st.bubble_s, pct(st.bubble_s),
      st.optimizer_s);
  std::string comm;
  for (CommKind k : kCommKinds)
    if (st.comm_s[k] > 0) comm += fmt::format("{}{} {:.3f} s", comm.empty() ? "" : ", ", to_string(k), st.comm_s[k]);
  if (!comm.empty()) out += fmt::format("          exposed comm by kind: {}\n", comm);
  // Small kernels the host cannot issue fast enough (MoE experts at small
  // micro-batches): the part of compute that is the GPU waiting.
  if (st.host_wait_s > 0.01 * st.time_s)
    out += fmt::format(
        "          of compute, waiting for the host {:.3f} s ({}): kernel launches and syncs (CUDA graphs or larger "
        "micro-batches cut it)\n",
        st.host_wait_s, pct(st.host_wait_s));
  out += fmt::format("rate      {} tokens/s, {:.0f} TFLOP/s per GPU, MFU {:.1f}%, HFU {:.1f}%\n",
                     format_quantity(r.tokens_per_s, Quantity::Count), r.tflops_per_gpu, 100 * r.mfu, 100 * r.hfu);
  out += fmt::format("training  {} tokens: {} steps, {:.1f} days, {} GPU-hours (goodput {:.3f})\n",
                     format_quantity(s.training.tokens, Quantity::Count),
                     format_quantity(std::ceil(r.steps), Quantity::Count), r.days,
                     format_quantity(r.gpu_hours, Quantity::Count), r.goodput);
  const PowerResult& pw = r.power;
  out += fmt::format(
      "power     {:.0f} W per GPU; IT {:.2f} MW (peak {:.2f}, swing {:.2f} MW), facility {:.2f} MW at PUE {:.2f}; "
      "{:.0f} MWh for the run\n",
      pw.gpu_w, pw.it_w / 1e6, pw.peak_it_w / 1e6, (pw.peak_it_w - pw.trough_it_w) / 1e6, pw.facility_w / 1e6,
      s.facility.pue, pw.energy_mwh);
  out +=
      fmt::format("racks     {} racks at {:.1f} kW peak each: {} cooling {} (needs {}); {} switches, {} transceivers\n",
                  pw.racks, pw.rack_w / 1e3, to_name(pw.cooling), pw.coolable ? "holds it" : "DOES NOT hold it",
                  cooling_needed_name(pw.cooling_needed), r.fabric.switches, r.fabric.transceivers);
  const CostResult& c = r.cost;
  // "buy" is the run's share of an owned fleet; the fleet's capital comes
  // first, so the share is never read as the purchase price.
  if (c.buy_possible)
    out += fmt::format(
        "cost      rent ${} vs buy ${} for the run: {} is cheaper; ${:.2f} per M tokens; owning costs ${:.2f} "
        "per useful GPU-hour; break-even {}\n"
        "          buying the fleet costs ${} up front (servers ${}, network ${}, facility ${}); buy above "
        "is the run's share of owning it\n",
        format_quantity(c.rent_usd, Quantity::Count), format_quantity(c.buy_usd, Quantity::Count), to_name(c.cheaper()),
        c.usd_per_million_tokens, c.owned_usd_per_gpu_hour,
        c.break_even_months ? fmt::format("after {:.1f} months", *c.break_even_months) : "never",
        format_quantity(c.capex_usd, Quantity::Count), format_quantity(c.servers_usd, Quantity::Count),
        format_quantity(c.network_usd, Quantity::Count), format_quantity(c.facility_usd, Quantity::Count));
  else
    out += fmt::format("cost      rent ${} for the run, buy n/a (not sold); ${:.2f} per M tokens\n",
                       format_quantity(c.rent_usd, Quantity::Count), c.usd_per_million_tokens);
  out += fmt::format(
      "          rent at ${:.2f} per GPU-hour{}: {}\n", s.cost.rent_usd_per_gpu_hour * (1 - s.cost.reserved_discount),
      s.cost.reserved_discount > 0
          ? fmt::format(" ({:.0f}% off ${:.2f})", 100 * s.cost.reserved_discount, s.cost.rent_usd_per_gpu_hour)
          : "",
      s.cost.rent_basis);
  if (s.reliability.given)
    out += fmt::format(
        "failures  job MTBF {:.1f} h; checkpoint every {:.0f} s (Young/Daly {:.0f} s): {:.1f}% writing, "
        "{:.1f}% lost to failures\n",
        r.reliability.job_mtbf_s / 3600, r.reliability.interval_s, r.reliability.young_daly_s,
        100 * r.reliability.checkpoint_share, 100 * r.reliability.failure_share);
  for (const auto& w : r.warnings) out += fmt::format("note      {}\n", w);
  return out;
}

Table flat_table(const std::vector<Json>& rows) {
  Table t;
  std::vector<std::vector<std::pair<std::string, std::string>>> flat;
  for (const auto& r : rows) {
    flat.push_back(flatten_json(r));
    for (const auto& [k, v] : flat.back())
      if (std::find(t.header.begin(), t.header.end(), k) == t.header.end()) t.header.push_back(k);
  }
  for (const auto& f : flat) {
    std::vector<std::string> row(t.header.size());
    for (const auto& [k, v] : f)
      row[static_cast<size_t>(std::find(t.header.begin(), t.header.end(), k) - t.header.begin())] = v;
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string render_rows(const std::vector<Json>& rows, const std::string& format) {
  if (format == "json") {
    if (rows.size() == 1) return rows[0].dump(2) + "\n";
    return Json(rows).dump(2) + "\n";
  }
  if (format == "jsonl") {
    std::string out;
    for (const auto& r : rows) out += r.dump() + "\n";
    return out;
  }
  Table t = flat_table(rows);
  return t.render(format == "markdown" ? "markdown" : "csv");
}

}  // namespace danlu
