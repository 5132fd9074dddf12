#include "sim/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace danlu {

Result evaluate(const Scenario& s, const Engine& engine, const std::string& engine_name) {
  Result r;
  r.engine = engine_name;
  r.params = count_params(s.model);
  r.memory = memory_per_gpu(s.model, s.training, s.cluster.accelerator, r.params);
  engine.check(s);
  StepSchedule sched = build_schedule(s.model, s.training, r.params, engine.needs_expanded_schedule());
  Network net = make_network(s.cluster);
  r.step = engine.run(s, sched, net);

  r.tokens_per_step = sched.tokens;
  r.model_flops_per_token = model_flops_per_token(s.model);
  r.executed_flops_per_step = sched.executed_flops;
  const double gpus = s.cluster.gpus;
  const double peak = s.cluster.accelerator.peak(s.training.precision);
  r.tokens_per_s = sched.tokens / r.step.time_s;
  r.tflops_per_gpu = sched.model_flops / r.step.time_s / gpus / 1e12;
  r.mfu = sched.model_flops / (r.step.time_s * gpus * peak);
  r.hfu = sched.executed_flops / (r.step.time_s * gpus * peak);
  r.steps = s.training.tokens / sched.tokens;
  r.reliability = goodput(s.reliability, s.cluster.gpus);
  r.goodput = r.reliability.goodput;
  double wall_s = r.steps * r.step.time_s / r.goodput;
  r.days = wall_s / 86400.0;
  r.gpu_hours = wall_s * gpus / 3600.0;

  // Power: the GPU's states over the step, the parts the topology counts.
  r.fabric = fabric_counts(s.cluster);
  PowerInputs pin;
  pin.cluster = &s.cluster;
  pin.activity = r.step.activity;
  pin.gpu_profile_w = r.step.gpu_power_profile_w;
  pin.switches = r.fabric.switches;
  pin.transceivers = r.fabric.transceivers;
  pin.facility = s.facility;
  pin.run_hours = wall_s / 3600.0;
  r.power = power(pin);

  CostInputs cin;
  cin.spec = s.cost;
  cin.gpus = s.cluster.gpus;
  cin.units = s.cluster.system.unit == SystemUnit::rack ? s.cluster.racks : s.cluster.nodes;
  cin.run_hours = wall_s / 3600.0;
  cin.facility_w = r.power.facility_w;
  cin.facility_peak_w = r.power.peak_it_w * s.facility.pue;
  cin.electricity_usd_per_kwh = s.facility.electricity_usd_per_kwh;
  cin.tokens = s.training.tokens;
  r.cost = cost(cin);

  // Every field has a physical range, but their product can still leave
  // doubles (1e300 GPUs-hours of tiny steps): a figure that is not finite is
  // an input problem, never a number to print.
  for (const auto& [what, v] : {std::pair{"step time", r.step.time_s},
                                {"tokens/s", r.tokens_per_s},
                                {"days", r.days},
                                {"power", r.power.facility_w},
                                {"energy", r.power.energy_mwh},
                                {"rent", r.cost.rent_usd},
                                {"buy", r.cost.buy_usd}})
    if (!std::isfinite(v) || v < 0)
      throw InputError(
          Location{s.file, 0, 0}, "",
          fmt::format("the {} comes out as {}: some value of the scenario is out of any sensible range", what, v));
  r.warnings = s.warnings;
  if (!r.memory.fits()) {
    // What to do about it: a layout left to its default (tp 1, pp 1, all
    // data parallel) is the usual cause for a large model.
    const auto defaulted_field = [&](const char* path) {
      const auto e =
          std::find_if(s.explain.begin(), s.explain.end(), [&](const ExplainEntry& x) { return x.path == path; });
      return e != s.explain.end() && e->source.rfind("default", 0) == 0;
    };
    const bool defaulted = defaulted_field("training.parallelism.tp") && defaulted_field("training.parallelism.pp");
    r.warnings.push_back(fmt::format(
        "does not fit: stage {} needs {:.1f} GB per GPU, {:.1f} GB usable ({:.1f} GB short); {}`danlu search` on "
        "this scenario finds the layouts that fit",
        r.memory.stage, r.memory.total() / 1e9, r.memory.capacity_bytes / 1e9, r.memory.shortfall_bytes() / 1e9,
        defaulted
            ? fmt::format("no training.parallelism was given, so tp 1 pp 1 dp {} was assumed: ", s.training.par.dp)
            : ""));
  }
  if (!s.reliability.given) r.warnings.push_back("no reliability block: goodput taken as 1 (no failures)");
  if (!r.cost.buy_possible)
    r.warnings.push_back(fmt::format("{} is not sold: owning is n/a; give cost.buy.gpu_server (USD per {}) to compare",
                                     s.cluster.system.name, to_name(s.cluster.system.unit)));
  if (!r.power.coolable)
    r.warnings.push_back(fmt::format(
        "a rack draws {:.0f} kW at peak, over the {:.0f} kW that {} cooling holds; it needs {}", r.power.rack_w / 1e3,
        s.facility.max_rack_w / 1e3, to_name(s.facility.cooling), cooling_needed_name(r.power.cooling_needed)));
  if (s.reliability.given && r.goodput < 0.5)
    r.warnings.push_back(fmt::format("goodput {:.2f}: failures every {:.1f} min of a {}-GPU job leave little progress",
                                     r.goodput, r.reliability.job_mtbf_s / 60, s.cluster.gpus));
  return r;
}

Result evaluate(const Scenario& s, const std::string& engine, const EngineOptions& options) {
  std::string name = engine.empty() ? s.sim.engine : engine;
  auto e = make_engine(name, options);
  return evaluate(s, *e, name);
}

}  // namespace danlu
