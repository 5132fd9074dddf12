// How a model is trained: precision, batch, the parallel layout, recomputation,
// the pipeline schedule and what overlaps. Read by the memory model, the
// schedule and the engines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/hardware.hpp"

namespace danlu {

enum class Recompute { none, selective, full };
enum class PipelineSchedule { gpipe, one_f_one_b, interleaved, zero_bubble };

struct Parallelism {
  int tp = 1, pp = 1, dp = 1, cp = 1, ep = 1, vpp = 1;
  // How ranks are numbered, innermost first (Megatron's default tp-cp-dp-pp;
  // expert groups are consecutive data-parallel ranks). Decides which groups
  // share a scale-up domain.
  std::string rank_order = "tp-cp-dp-pp";

  // Distance in rank numbers between neighbours of one group of `dim`
  // ("tp", "cp", "dp", "pp"): the product of the dimensions inside it.
  int stride(const std::string& dim) const;
};

struct Overlap {
  bool dp_comm = true;
  bool tp_comm = false;
  bool pp_comm = true;
};

struct TrainingSpec {
  Precision precision = Precision::bf16;
  std::int64_t global_batch = 0;  // sequences per step
  int micro_batch = 1;            // sequences per microbatch
  Parallelism par;
  bool sequence_parallel = true;
  int zero = 1;
  Recompute recompute = Recompute::selective;
  // A fused attention kernel (FlashAttention) never stores the s x s score
  // matrix; without it the scores are written and read several times per pass
  // and kept for the backward unless recomputed (Megatron before 2023).
  bool flash_attention = true;
  PipelineSchedule schedule = PipelineSchedule::one_f_one_b;
  Overlap overlap;
  double tokens = 0;              // whole run
  std::string optimizer = "adam";
  std::vector<int> stage_layers;  // layers per pipeline stage (size pp), always filled

  std::int64_t microbatches() const { return global_batch / (static_cast<std::int64_t>(micro_batch) * par.dp); }
};

// Layers per pipeline stage, as even as possible; stages short of a layer are
// the first and last (they also carry the embedding and the logits).
std::vector<int> even_stage_layers(int layers, int pp);

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
  const LayerRange& at(int stage, int chunk) const { return ranges[static_cast<size_t>(stage * vpp + chunk)]; }
};
LayerMap layer_map(const TrainingSpec& t);

// Microbatch-chunks whose activations a stage holds at its peak, for the
// pipeline schedule (1F1B: pp - stage, capped at the microbatches; GPipe: all of
// them; interleaved: Megatron's warm-up count plus one).
double chunks_in_flight(const TrainingSpec& t, int stage);

std::string_view to_string(Recompute r);
std::string_view to_string(PipelineSchedule s);

}  // namespace danlu
