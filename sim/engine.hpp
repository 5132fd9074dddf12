// The engine interface: one training step from the schedule and the network.
// Implementations are registered by name in engine.cpp ("analytic", "des"),
// which is what `sim.engine` and `--engine` select.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/power.hpp"
#include "scenario/engine_names.hpp"
#include "scenario/scenario.hpp"
#include "topologies/network.hpp"
#include "workload/schedule.hpp"

namespace danlu {

// The kernel context of a scenario's run: its accelerator, precision
// recipe, launch mode and the compute model's constants.
inline KernelContext kernel_context(const Scenario& s) {
  return make_kernel_context(s.cluster.accelerator, s.training, s.constants, s.cluster.system.host_bytes_per_s);
}

struct StepResult {
  double time_s = 0;
  double compute_s = 0;       // the slowest stage's compute
  double host_wait_s = 0;     // of compute_s: the GPU idle, waiting for the host's launches and syncs
  double exposed_comm_s = 0;  // communication not hidden under compute
  double bubble_s = 0;        // pipeline fill and drain (and stragglers)
  double optimizer_s = 0;
  PerKind<double> comm_s;               // exposed, by kind
  std::vector<std::string> algorithms;  // "tp all-gather: ring", ...
  StepActivity activity;                // how one GPU spends the step, for the power model
  // DES only: average power per GPU in equal slices of the step (empty from
  // the analytic engine). The power model takes peak and trough from it.
  std::vector<double> gpu_power_profile_w;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual StepResult run(const Scenario& s, const StepSchedule& sched, const Network& net) const = 0;
  // Whether run() needs the expanded per-chunk schedule.
  virtual bool needs_expanded_schedule() const = 0;
  // Refuses, before any work, a scenario the engine could not run within
  // this machine's memory (throws InputError with an estimate).
  virtual void check(const Scenario&) const {}
};

// What an engine may be asked beyond the step itself.
struct EngineOptions {
  std::string trace_path;        // DES: write the timeline here (Chrome trace-event JSON; gzip when it ends in .gz)
  std::vector<int> trace_ranks;  // only these ranks (empty: all)
  double trace_from_s = 0;       // only activity overlapping [from, to) of simulated time
  double trace_to_s = 1e300;
  // DES budgets (--max-memory, --max-seconds). Memory: a replay whose
  // estimate exceeds it is refused before any work; 0 = half of this
  // machine's physical memory. Seconds: a replay still running then is
  // stopped (BudgetError), one estimated to need more is refused; 0 = none.
  double max_memory_bytes = 0;
  double max_seconds = 0;
  // DES: called about once a second of wall time while a replay runs, with
  // the simulated time reached and the activities recorded so far.
  std::function<void(double simulated_s, long activities)> progress;
};

std::unique_ptr<Engine> make_engine(const std::string& name, const EngineOptions& options = {});

// The implementations (each in its own .cpp).
std::unique_ptr<Engine> make_analytic_engine(const EngineOptions& options);
std::unique_ptr<Engine> make_des_engine(const EngineOptions& options);

}  // namespace danlu
