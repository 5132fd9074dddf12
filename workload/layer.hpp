// The layer interface: one implementation per layer kind, each in its own
// file under workload/layers/, registered by name in layers/registry.cpp.
// A kind declares, for one part of a layer, its parameters (whole and on one
// GPU), its model FLOPs, the activation bytes it keeps for the backward (per
// recomputation choice and precision recipe, through the LayerContext), and
// the ops it lowers to, communication included. Parameter counts, memory per
// GPU and the step's schedule read only this.
//
// Model FLOPs count 2 per active weight per token for every kind, plus the
// kind's own core (core_flops).
//
// A layer of the stack is one or two parts (ModelSpec::stack), each behind
// its own pre-norm and residual add; the norms and residuals between parts
// are the layer's (workload/block.hpp), not a kind's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workload/context.hpp"

namespace danlu {

// Parameters one GPU holds of a part (after TP and EP, before ZeRO).
struct GpuParams {
  double dense = 0;   // replicated over data parallelism (sharded by ZeRO over dp*cp)
  double expert = 0;  // routed experts (sharded by ZeRO over the expert-data group)
};

class LayerKind {
 public:
  virtual ~LayerKind() = default;
  virtual std::string_view name() const = 0;
  // Whether the part holds routed experts (expert parallelism splits them).
  virtual bool routed() const { return false; }

  virtual PartParams params(const ModelSpec& m) const = 0;
  // `whole` is params(m), computed once by the caller.
  virtual GpuParams params_per_gpu(const ModelSpec& m, const Parallelism& p, const PartParams& whole) const = 0;
  // Weights ZeRO-3 gathers before the part computes (whole, before the TP
  // split), and what its gather buffer holds at the largest.
  virtual double zero3_gathered(const ModelSpec& /*m*/, const PartParams& whole) const { return whole.total; }
  virtual double zero3_buffer(const ModelSpec& /*m*/, const PartParams& whole) const { return whole.total; }

  // Model FLOPs of the forward over `tokens` tokens (report convention)
  // beyond one multiply-add per token per weight it touches (2 x active
  // parameters, counted for every kind alike): attention's scores and
  // weighted values.
  virtual double core_flops(const ModelSpec& /*m*/, const LayerPart& /*part*/, double /*tokens*/) const { return 0; }

  // Bytes the part keeps for its backward, one microbatch on one GPU, when
  // the layer is not fully recomputed.
  virtual double activation_bytes(const LayerContext& c, const LayerPart& part) const = 0;

  // Its ops: the forward (`repeat`: the copy full recomputation runs before
  // the backward), and the backward (input gradients; weight gradients too,
  // or into the W pass when the schedule splits them), each starting and
  // ending on the residual stream outside the TP region.
  virtual void forward(const LayerContext& c, const LayerPart& part, std::vector<WorkItem>& w, bool repeat) const = 0;
  virtual void backward(const LayerContext& c, const LayerPart& part, PassWork& p) const = 0;
};

// The kind of that name; std::logic_error for one not registered.
const LayerKind& layer_kind(std::string_view name);
std::vector<std::string> layer_kind_names();

}  // namespace danlu
