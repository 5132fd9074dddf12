// The schedule of one training step: what every pipeline stage computes and
// communicates, in what order. Both engines read this and nothing else about
// the workload, so they can be held against each other.
//
// Layout of the contract
// - A stage runs `order`: slots (microbatch, chunk, pass). Pass F is the forward
//   of one model chunk for one microbatch, B its backward (input and weight
//   gradients; only input gradients under zero-bubble), W the weight gradients
//   deferred by zero-bubble.
// - The work of a slot does not depend on the microbatch: chunks[c].work(pass)
//   lists its items in order, each a compute op or a communication op, all per
//   GPU (after the TP, CP and EP split).
// - Between slots: F(mb, c) on stage s needs F(mb, c) of stage s-1 (stage 0
//   needs F(mb, c-1) of the last stage); B(mb, c) on stage s needs B(mb, c) of
//   stage s+1 (the last stage needs B(mb, c+1) of stage 0, or its own F(mb, c)
//   on the last virtual stage). Each crossing is a point-to-point send of
//   pp_send_bytes.
// - After the last backward: the data-parallel gradient reduction (dp_comm, in
//   buckets, overlappable with the backward when training.overlap.dp_comm),
//   then the optimizer, then ZeRO's parameter all-gather (dp_after).
//
// Units: FLOPs, bytes, ranks. Communication `bytes` is the whole buffer a rank
// holds: the reduced buffer for all-reduce, the gathered output for
// all-gather, the input for reduce-scatter, the data a rank sends for
// all-to-all and send/recv.
#pragma once

#include <string>
#include <vector>

#include "models/training.hpp"
#include "workload/context.hpp"
#include "workload/model.hpp"

namespace danlu {

struct ChunkWork : PassWork {
  std::vector<int> layers;  // global layer indices
};

// Equal gradient buckets, reduced one after another.
struct Buckets {
  CommOp bucket;  // one bucket
  int count = 0;
  double total_bytes() const { return bucket.bytes * count; }
};

struct StageSchedule {
  int stage = 0;
  // How many of this stage's layers (all chunks) are of each of
  // StepSchedule::variants, by index.
  std::vector<int> variant_count;
  std::vector<ChunkWork> chunks;  // [vpp]; empty unless the schedule was expanded
  std::vector<Slot> order;
  std::vector<Buckets> dp_comm;  // gradient reduction (dense, then expert parameters)
  ComputeOp optimizer;
  std::vector<Buckets> dp_after;  // ZeRO 1/2: parameter all-gather after the optimizer
};

struct StepSchedule {
  // One layer's work for one microbatch, for each distinct layer: its type
  // in the model's stack (workload/layer.hpp), what it recomputes, whether
  // its activations go to host memory; the first virtual stage's head
  // (embedding) and the last one's tail (logits, loss, MTP). Every chunk is
  // the concatenation of these, so engines may cost each once.
  struct LayerVariant {
    LayerType type;
    Recompute recompute = Recompute::none;
    bool offload = false;
    PassWork work;
  };
  std::vector<LayerVariant> variants;
  PassWork head, tail;
  // The variant of a layer without (false) or with (true) routed experts as
  // the schedule built it; the first one of that kind without
  // recompute_layers or offload.
  const PassWork& layer(bool moe) const;
  std::vector<StageSchedule> stages;  // [pp]
  int microbatches = 0;
  double pp_send_bytes = 0;   // one activation (or its gradient) across a stage boundary
  double executed_flops = 0;  // whole cluster, one step, recomputation included
  double model_flops = 0;     // whole cluster, one step, report convention
  double tokens = 0;          // per step
};

// expand = false leaves StageSchedule::chunks empty (the analytic engine costs
// the per-kind layer work instead, which is much faster).
StepSchedule build_schedule(const ModelSpec& model, const TrainingSpec& training, bool expand = true);
// The same with the model's parameter counts given (count_params).
StepSchedule build_schedule(const ModelSpec& model, const TrainingSpec& training, const ParamCounts& pc,
                            bool expand = true);

// FLOPs of all compute items of all slots of one stage (per GPU); needs an
// expanded schedule.
double stage_flops(const StageSchedule& st);

// Rank distance between the neighbours of each kind's group; expert groups
// fold over the attention ranks (Parallelism::expert_group).
PerKind<int> comm_strides(const Parallelism& p);

}  // namespace danlu
