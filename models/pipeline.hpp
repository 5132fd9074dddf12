// Pipeline schedules, chosen by training.pipeline_schedule: the order in
// which a stage runs its passes, the micro-batch chunks whose activations
// it holds at its peak (memory model), and the fill and drain it adds to a
// step (analytic engine; the DES replays the order itself). Each is one
// file in models/schedules/, listed by name in its registry.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace danlu {

// Forward; backward (input and weight gradients, or input gradients only
// when the schedule splits them); weight gradients.
enum class Pass { F, B, W };

struct Slot {
  int microbatch = 0;
  int chunk = 0;
  Pass pass = Pass::F;
};

class PipelineSchedule {
 public:
  virtual ~PipelineSchedule() = default;
  virtual const char* name() const = 0;
  // The passes stage `stage` of `pp` runs, in order, over `microbatches`
  // micro-batches of `vpp` chunks each.
  virtual std::vector<Slot> order(int pp, int vpp, int microbatches, int stage) const = 0;
  // Chunks whose activations stage `stage` holds at once, at its peak.
  virtual double chunks_in_flight(int pp, int vpp, double microbatches, int stage) const = 0;
  // What the pipeline adds to the slowest stage's micro-batches: given a
  // stage's mean time per micro-batch (all its chunks) and the mean of
  // forward + backward - weight-gradient time.
  virtual double fill_s(int pp, int vpp, double stage_s, double f_b_minus_w_s) const = 0;
  // Whether backward is split into B and a separately scheduled W.
  virtual bool splits_weight_grad() const { return false; }
  // Whether it runs virtual stages (vpp > 1 needs one that does).
  virtual bool runs_virtual_stages() const { return false; }
  // Why this schedule cannot run `microbatches` over `pp` stages, or "".
  virtual std::string layout_problem(int /*pp*/, std::int64_t /*microbatches*/) const { return {}; }
};

// The schedule of that name; logic_error for a name the loader would refuse.
const PipelineSchedule& pipeline_schedule(std::string_view name);
std::vector<std::string> pipeline_schedule_names();

}  // namespace danlu
