#include "sim/evaluate.hpp"

#include <fmt/format.h>

namespace danlu {

Result evaluate(const Scenario& s, const Engine& engine, const std::string& engine_name) {
  Result r;
  r.engine = engine_name;
  r.params = count_params(s.model);
  r.memory = memory_per_gpu(s.model, s.training, s.cluster.accelerator);
  StepSchedule sched = build_schedule(s, engine.needs_expanded_schedule());
  Network net = make_network(s.cluster);
  r.step = engine.run(s, sched, net);

  r.tokens_per_step = sched.tokens;
  r.model_flops_per_token = model_flops_per_token(s.model, r.params);
  r.executed_flops_per_step = sched.executed_flops;
  const double gpus = s.cluster.gpus;
  const double peak = s.cluster.accelerator.peak(s.training.precision);
  r.tokens_per_s = sched.tokens / r.step.time_s;
  r.tflops_per_gpu = sched.model_flops / r.step.time_s / gpus / 1e12;
  r.mfu = sched.model_flops / (r.step.time_s * gpus * peak);
  r.hfu = sched.executed_flops / (r.step.time_s * gpus * peak);
  r.steps = s.training.tokens / sched.tokens;
  r.goodput = 1.0;
  double wall_s = r.steps * r.step.time_s / r.goodput;
  r.days = wall_s / 86400.0;
  r.gpu_hours = wall_s * gpus / 3600.0;

  r.warnings = s.warnings;
  if (!r.memory.fits())
    r.warnings.push_back(fmt::format("does not fit: stage {} needs {:.1f} GB per GPU, {:.1f} GB usable ({:.1f} GB short)",
                                     r.memory.stage, r.memory.total() / 1e9, r.memory.capacity_bytes / 1e9,
                                     r.memory.shortfall_bytes() / 1e9));
  if (!s.reliability.given) r.warnings.push_back("no reliability block: goodput taken as 1 (no failures)");
  return r;
}

Result evaluate(const Scenario& s, const std::string& engine, const EngineOptions& options) {
  std::string name = engine.empty() ? s.sim.engine : engine;
  auto e = make_engine(name, options);
  return evaluate(s, *e, name);
}

}  // namespace danlu
