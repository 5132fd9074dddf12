// The engine interface: one training step from the schedule and the network.
// Implementations are registered by name in engine.cpp ("analytic", "des"),
// which is what `sim.engine` and `--engine` select.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/power.hpp"
#include "sim/scenario.hpp"
#include "sim/schedule.hpp"
#include "topologies/network.hpp"

namespace danlu {

// Calibration constants of the compute model, one value for every run and chip.
// Isolated large GEMMs reach 75-85% of the dense peak in cuBLAS and rocBLAS
// measurements; a transformer layer's sequence of GEMMs with their epilogues
// (bias, gradient accumulation into fp32) runs a little lower. 0.72 is the one
// value that best fits the 19 Selene runs of scenarios/calibration (mean
// absolute error 3.2%, worst 7.9%); 0.68-0.76 all stay under 5% mean error.
inline constexpr double kMatmulEfficiency = 0.72;
// Memory-bound kernels reach ~85% of the HBM bandwidth (STREAM-like copies).
inline constexpr double kHbmEfficiency = 0.85;
// Each compute op pays a fixed cost for launch, tail effects and wave
// quantisation; it is what makes small ops inefficient.
inline constexpr double kOpOverhead_s = 6e-6;

// Time of one compute op on `acc` at `precision` (roofline plus overhead).
double compute_time(const ComputeOp& op, const Accelerator& acc, Precision precision);


struct StepResult {
  double time_s = 0;
  double compute_s = 0;       // the slowest stage's compute
  double exposed_comm_s = 0;  // communication not hidden under compute
  double bubble_s = 0;        // pipeline fill and drain (and stragglers)
  double optimizer_s = 0;
  double comm_s[5] = {0, 0, 0, 0, 0};  // exposed, by CommKind (tp, cp, ep, pp, dp)
  std::vector<std::string> algorithms;  // "tp all-gather: ring", ...
  StepActivity activity;  // how one GPU spends the step, for the power model
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
};

// What an engine may be asked beyond the step itself.
struct EngineOptions {
  std::string trace_path;  // DES: write the timeline here (Chrome trace-event JSON)
};

std::unique_ptr<Engine> make_engine(const std::string& name, const EngineOptions& options = {});
std::vector<std::string> engine_names();

// The implementations (each in its own .cpp).
std::unique_ptr<Engine> make_analytic_engine(const EngineOptions& options);
std::unique_ptr<Engine> make_des_engine(const EngineOptions& options);

}  // namespace danlu
