// How a model is trained: precision, batch, the parallel layout, recomputation,
// the pipeline schedule and what overlaps. Read by the memory model, the
// schedule and the engines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.hpp"
#include "models/hardware.hpp"
#include "models/pipeline.hpp"

namespace danlu {

enum class Recompute { none, selective, full };
template <>
struct NameTable<Recompute> {
  static constexpr std::array<std::string_view, 3> names{"none", "selective", "full"};
};

// Selective recomputation module by module (Megatron-Core's
// recompute_modules): the attention core (its default), the norms, MLA's
// up-projections (and the rotary embedding after them), a dense layer's MLP,
// the experts' activation function. Each repeats its forward in the backward
// and keeps only its input.
enum class RecomputeModule { core_attn, layernorm, mla_up_proj, mlp, moe_act };
template <>
struct NameTable<RecomputeModule> {
  static constexpr std::array<std::string_view, 5> names{"core_attn", "layernorm", "mla_up_proj", "mlp", "moe_act"};
};

// How an fp8 recipe scales its tensors (Transformer Engine's recipes):
// tensorwise = one scale per tensor from its current amax (an extra read of
// every tensor before its cast); delayed = per-tensor scale from the amax
// history (no extra pass); mxfp8 = one scale per 32 elements, computed in the
// cast (Blackwell); blockwise = DeepSeek-V3's 1x128 activation and 128x128
// weight blocks.
enum class Fp8Recipe { tensorwise, delayed, mxfp8, blockwise };
template <>
struct NameTable<Fp8Recipe> {
  static constexpr std::array<std::string_view, 4> names{"tensorwise", "delayed", "mxfp8", "blockwise"};
};
// nvfp4 = 16-element blocks with an fp8 scale and a per-tensor scale (NVIDIA);
// mxfp4 = 32-element blocks with a power-of-two scale (OCP, AMD).
enum class Fp4Recipe { nvfp4, mxfp4 };
template <>
struct NameTable<Fp4Recipe> {
  static constexpr std::array<std::string_view, 2> names{"nvfp4", "mxfp4"};
};
// How MoE tokens cross the expert-parallel group: NCCL's all-to-all (one
// copy per expert), or a hierarchical dispatcher (DeepEP, Hybrid-EP: one
// copy per remote scale-up domain, forwarded there over NVLink).
enum class EpDispatch { alltoall, hierarchical };
template <>
struct NameTable<EpDispatch> {
  static constexpr std::array<std::string_view, 2> names{"alltoall", "hierarchical"};
};
// CUDA graphs (or any whole-graph capture): none = every kernel launched from
// the host; partial = the layers' attention and router parts captured; full =
// the whole forward and backward captured.
enum class CudaGraphs { none, partial, full };
template <>
struct NameTable<CudaGraphs> {
  static constexpr std::array<std::string_view, 3> names{"none", "partial", "full"};
};

// The optimizer's state per parameter: Adam and AdamW keep two fp32
// moments, SGD one momentum.
enum class Optimizer { adam, adamw, sgd };
template <>
struct NameTable<Optimizer> {
  static constexpr std::array<std::string_view, 3> names{"adam", "adamw", "sgd"};
};

struct Parallelism {
  int tp = 1, pp = 1, dp = 1, cp = 1, ep = 1, vpp = 1;
  // Expert tensor parallelism: how many ranks split each expert's weights.
  // Megatron-Core folds expert parallelism over the same tp x cp x dp ranks
  // as attention: ep x etp must divide them, and the expert-data-parallel
  // size is tp x cp x dp / (ep x etp). Default: tp (Megatron's default).
  int etp = 1;
  // How ranks are numbered, innermost first (Megatron's default tp-cp-dp-pp;
  // expert groups are consecutive data-parallel ranks). Decides which groups
  // share a scale-up domain.
  std::string rank_order = "tp-cp-dp-pp";

  // Distance in rank numbers between neighbours of one group of `dim`
  // ("tp", "cp", "dp", "pp"): the product of the dimensions inside it.
  int stride(const std::string& dim) const;
  // A rank's coordinate along `dim`, and the rank with that coordinate
  // changed.
  int coord(int rank, const std::string& dim) const;
  int with(int rank, const std::string& dim, int value) const;
  // The ranks of `rank`'s expert-parallel group, and of its expert-data-
  // parallel group (the ranks holding the same experts), in Megatron-Core's
  // folded order: inside a pipeline stage, the tp, cp and dp coordinates
  // flattened in rank order, then split as etp (innermost), ep, edp.
  std::vector<int> expert_group(int rank) const;
  std::vector<int> expert_data_group(int rank) const;
  int expert_data_parallel() const { return tp * cp * dp / (ep * etp); }
  // Rank distance between neighbours of an expert group (and of an
  // expert-data group) where they are evenly spaced, as in the default order.
  int expert_stride() const;
  int expert_data_stride() const;
};

struct Overlap {
  bool dp_comm = true;
  bool tp_comm = false;
  bool pp_comm = true;
  // MoE dispatch and combine hidden under another micro-batch's compute
  // (Megatron's overlap_moe_expert_parallel_comm, the 1F1B all-to-all
  // overlap; DualPipe-style schedules).
  bool ep_comm = false;
};

struct TrainingSpec {
  Precision precision = Precision::bf16;
  std::int64_t global_batch = 0;  // sequences per step
  int micro_batch = 1;            // sequences per microbatch
  Parallelism par;
  bool sequence_parallel = true;
  int zero = 1;
  Recompute recompute = Recompute::selective;
  // With full recomputation, how many layers of each pipeline chunk are
  // recomputed (Megatron's recompute_method block + recompute_num_layers);
  // the rest keep their activations. -1 = every layer.
  int recompute_layers = -1;
  // With selective recomputation, the modules recomputed (a bit per
  // RecomputeModule).
  unsigned recompute_modules = 1U << static_cast<unsigned>(RecomputeModule::core_attn);
  // A fused attention kernel (FlashAttention) never stores the s x s score
  // matrix; without it the scores are written and read several times per pass
  // and kept for the backward unless recomputed (Megatron before 2023).
  bool flash_attention = true;
  const PipelineSchedule* schedule = &pipeline_schedule("1f1b");
  Overlap overlap;
  double tokens = 0;  // whole run
  Optimizer optimizer = Optimizer::adam;
  std::vector<int> stage_layers;  // layers per pipeline stage (size pp), always filled
  Fp8Recipe fp8_recipe = Fp8Recipe::tensorwise;
  Fp4Recipe fp4_recipe = Fp4Recipe::nvfp4;
  CudaGraphs cuda_graphs = CudaGraphs::none;
  EpDispatch ep_dispatch = EpDispatch::alltoall;
  // Megatron's account_for_{embedding,loss}_in_pipeline_split: the embedding
  // and the loss each take one layer's place in the first and last virtual
  // stage, so 126 layers fill PP 16 x VP 8 = 128 chunks.
  bool split_embedding = false;
  bool split_loss = false;
  // Layers (per GPU) whose saved activations go to host memory during the
  // forward and come back for the backward (Megatron's cpu_offloading_num_layers).
  int offload_activation_layers = 0;

  std::int64_t microbatches() const { return global_batch / (static_cast<std::int64_t>(micro_batch) * par.dp); }
};

// Layer places that the embedding and the loss take on pipeline stage `stage`
// when they count in the split (0, 1 or 2).
inline int stage_split_units(const TrainingSpec& t, int stage) {
  return int(t.split_embedding && stage == 0) + int(t.split_loss && stage == t.par.pp - 1);
}

// Layers per pipeline stage, as even as possible; stages short of a layer are
// the first and last (they also carry the embedding and the logits).
std::vector<int> even_stage_layers(int layers, int pp);

// The default split of `layers` over t's pipeline stages: even over the
// layers and the places the embedding and loss take (pipeline_split), those
// places then coming off the first and last stage. The loader and the
// layout search both use it, so a searched layout is the one `run` gives.
std::vector<int> default_stage_layers(int layers, const TrainingSpec& t);

// Whether every stage holds at least one layer place per virtual chunk.
bool stages_fill_chunks(const TrainingSpec& t);

// The model layers each pipeline stage runs, per virtual chunk: a chunk holds
// the consecutive layers [first, first + count). A stage's layers are split
// into vpp chunks as evenly as possible, and virtual stage c*pp + s follows
// virtual stage c*pp + s - 1, as in Megatron's interleaved schedule.
struct LayerRange {
  int first = 0;
  int count = 0;
  int end() const { return first + count; }
};
struct LayerMap {
  int vpp = 1;
  std::vector<LayerRange> ranges;  // [stage * vpp + chunk]
  const LayerRange& at(int stage, int chunk) const { return ranges[static_cast<size_t>(stage) * vpp + chunk]; }
};
LayerMap layer_map(const TrainingSpec& t);

// Microbatch-chunks whose activations a stage holds at its peak, for the
// pipeline schedule (1F1B: pp - stage, capped at the microbatches; GPipe: all of
// them; interleaved: Megatron's warm-up count plus one).
double chunks_in_flight(const TrainingSpec& t, int stage);

// Whether a layer that recomputes `rc` repeats module `m` in its backward.
inline bool recomputes(const TrainingSpec& t, Recompute rc, RecomputeModule m) {
  return rc == Recompute::selective && ((t.recompute_modules >> static_cast<unsigned>(m)) & 1U) != 0;
}

// The recomputation a layer runs: the scenario's, except that under full
// recomputation limited to `recompute_layers` per chunk the later layers of
// each chunk recompute nothing.
inline Recompute layer_recompute(const TrainingSpec& t, int index_in_chunk) {
  if (t.recompute == Recompute::full && t.recompute_layers >= 0 && index_in_chunk >= t.recompute_layers)
    return Recompute::none;
  return t.recompute;
}

}  // namespace danlu
