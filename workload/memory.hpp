// Memory per GPU: weights, gradients, optimizer states, activations and an
// allowance for the framework, for the most loaded pipeline stage.
#pragma once

#include <vector>

#include "models/hardware.hpp"
#include "models/training.hpp"
#include "workload/layer.hpp"
#include "workload/model.hpp"

namespace danlu {

struct MemoryBreakdown {
  double weights_bytes = 0;
  double gradients_bytes = 0;
  double optimizer_bytes = 0;
  double activations_bytes = 0;
  double other_bytes = 0;
  double capacity_bytes = 0;  // the accelerator's usable HBM
  int stage = 0;              // the pipeline stage these figures are for (the fullest)

  double total() const { return weights_bytes + gradients_bytes + optimizer_bytes + activations_bytes + other_bytes; }
  bool fits() const { return total() <= capacity_bytes; }
  double shortfall_bytes() const { return fits() ? 0.0 : total() - capacity_bytes; }
};

// Activation bytes one layer keeps for one microbatch on one GPU, the sum of
// what its kinds keep (workload/layers/), following Korthikanti et al. 2022
// (section 4), generalised to GQA, SwiGLU and MoE: with TP t and sequence
// parallelism everything is split t ways; without it the layer-norm and
// dropout tensors (10sbh for GPT) are replicated; selective recomputation (or
// a fused FlashAttention kernel, which never stores them) drops the attention
// score tensors (5as^2b); full recomputation keeps only the layer input
// (2sbh). Sequence length is divided by CP. For GPT-style layers this
// reproduces the paper's sbh(10 + 24/t + 5as/ht), sbh(34/t + 5as/ht),
// sbh(34/t) and 2sbh/t exactly.
double layer_activation_bytes(const ModelSpec& m, const TrainingSpec& t, int layer);
double layer_activation_bytes(const ModelSpec& m, const TrainingSpec& t, int layer, Recompute recompute);

// Bytes the optimizer step moves per local parameter: every state (moments,
// fp32 master) read and written, plus the gradient and the weights. Adam in
// bf16: 2 x 12 + 2 + 2 = 28; SGD with momentum: 2 x 8 + 4 = 20.
double optimizer_step_bytes(const TrainingSpec& t);

// Parameters held by one GPU of a stage, split by kind (before ZeRO): dense
// ones replicated across data parallelism (sharded by ZeRO over dp*cp),
// routed experts (sharded by ZeRO over dp*cp/ep).
using StageParams = GpuParams;
StageParams stage_params(const ModelSpec& m, const TrainingSpec& t, int stage);

MemoryBreakdown memory_per_gpu(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a);
MemoryBreakdown memory_per_gpu(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, const ParamCounts& pc);
MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage);

// The same with the layer map and parameter counts computed once by the caller
// (they dominate the cost of evaluating a scenario otherwise).
StageParams stage_params(const ModelSpec& m, const TrainingSpec& t, int stage, const LayerMap& map,
                         const ParamCounts& pc);
// Every stage's at once (what the layer kinds give per GPU is worked out once).
std::vector<StageParams> all_stage_params(const ModelSpec& m, const TrainingSpec& t, const LayerMap& map,
                                          const ParamCounts& pc);
MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage,
                             const LayerMap& map, const ParamCounts& pc);

// The documented allowance beyond tensors: communication buffers, library
// workspaces and allocator fragmentation.
inline constexpr double kFrameworkFixedBytes = 2e9;  // NCCL buffers, cuBLAS/cuDNN workspaces
inline constexpr double kFragmentation = 0.05;       // caching-allocator slack on top of tensors

}  // namespace danlu
