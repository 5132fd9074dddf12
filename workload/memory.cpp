#include "workload/memory.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "workload/block.hpp"

namespace danlu {

namespace {

// Bytes per element for weights and gradients: matmuls in fp8/fp4 still keep
// bf16 weights and gradients (Transformer Engine casts on the fly), and fp32 /
// tf32 training keeps everything in fp32.
double weight_bytes(Precision p) { return (p == Precision::fp32 || p == Precision::tf32) ? 4.0 : 2.0; }

// Optimizer states per parameter: Adam keeps two moments, SGD one momentum;
// mixed precision adds an fp32 master copy (the 12 of ZeRO's 2+2+12).
double optimizer_bytes(const TrainingSpec& t) {
  bool mixed = weight_bytes(t.precision) < 4.0;
  double states = t.optimizer == Optimizer::sgd ? 4.0 : 8.0;
  return states + (mixed ? 4.0 : 0.0);
}

}  // namespace

double optimizer_step_bytes(const TrainingSpec& t) {
  const double w = weight_bytes(t.precision);
  // Mixed precision reads the gradient and writes the low-precision copy;
  // fp32 reads the gradient and updates the weights in place.
  return 2.0 * optimizer_bytes(t) + (w < 4.0 ? 2.0 : 3.0) * w;
}

double layer_activation_bytes(const ModelSpec& m, const TrainingSpec& t, int layer) {
  return layer_activation_bytes(m, t, layer, t.recompute);
}

double layer_activation_bytes(const ModelSpec& m, const TrainingSpec& t, int layer, Recompute recompute) {
  return type_activation_bytes(LayerContext(m, t, recompute), m.stack.of(layer));
}

StageParams stage_params(const ModelSpec& m, const TrainingSpec& t, int stage) {
  return stage_params(m, t, stage, layer_map(t), count_params(m));
}

namespace {
StageParams stage_params(const ModelSpec& m, const TrainingSpec& t, int stage, const LayerMap& map,
                         const ParamCounts& pc, const std::vector<PartList<GpuParams>>& per_type) {
  const double tp = t.par.tp;
  const double h = static_cast<double>(m.hidden);
  // Sums in locals, layer by layer and part by part (the order keeps every
  // figure reproducible).
  double dense = 0, expert = 0;
  const int* index = m.stack.index.data();
  auto add_layer = [&](int layer) {
    for (const GpuParams& g : per_type[static_cast<size_t>(index[layer])]) {
      dense += g.dense;
      expert += g.expert;
    }
  };
  for (int c = 0; c < map.vpp; ++c)
    for (int layer = map.at(stage, c).first; layer < map.at(stage, c).end(); ++layer) add_layer(layer);
  const bool first = stage == 0, last = stage == t.par.pp - 1;
  if (first) dense += pc.embedding / tp;
  if (last) {
    // A tied output layer on another stage needs its own copy of the embedding.
    dense += (m.tied_embeddings ? (first ? 0.0 : pc.embedding) : pc.output) / tp + pc.final_norm;
    // MTP modules: a layer of the last type each, and the 2h x h projection.
    for (int i = 0; i < m.mtp_layers; ++i) {
      add_layer(m.layers - 1);
      dense += 2 * h * h / tp + 3 * h;
    }
  }
  return {dense, expert};
}
}  // namespace

StageParams stage_params(const ModelSpec& m, const TrainingSpec& t, int stage, const LayerMap& map,
                         const ParamCounts& pc) {
  return all_stage_params(m, t, map, pc)[static_cast<size_t>(stage)];
}

std::vector<StageParams> all_stage_params(const ModelSpec& m, const TrainingSpec& t, const LayerMap& map,
                                          const ParamCounts& pc) {
  // What one layer of each type adds, computed once per type.
  std::vector<PartList<GpuParams>> per_type;
  per_type.reserve(m.stack.types.size());
  for (size_t i = 0; i < m.stack.types.size(); ++i)
    per_type.push_back(type_params_per_gpu(m, t.par, m.stack.types[i], pc.types[i]));
  std::vector<StageParams> out;
  out.reserve(static_cast<size_t>(t.par.pp));
  for (int stage = 0; stage < t.par.pp; ++stage) out.push_back(stage_params(m, t, stage, map, pc, per_type));
  return out;
}

MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage) {
  return stage_memory(m, t, a, stage, layer_map(t), count_params(m));
}

namespace {
// Activation bytes of one layer of each type under each recomputation
// choice, worked out when first asked (stages share them).
class LayerBytes {
 public:
  LayerBytes(const ModelSpec& m, const TrainingSpec& t) : m_(m), t_(t), bytes_(m.stack.types.size(), {-1, -1, -1}) {}
  double at(int layer, Recompute rc) {
    double& b = bytes_[static_cast<size_t>(m_.stack.index[static_cast<size_t>(layer)])][static_cast<size_t>(rc)];
    if (b < 0) b = layer_activation_bytes(m_, t_, layer, rc);
    return b;
  }

 private:
  const ModelSpec& m_;
  const TrainingSpec& t_;
  std::vector<std::array<double, 3>> bytes_;
};

MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage,
                             const LayerMap& map, const ParamCounts& pc, const StageParams& p, LayerBytes& layers);
}  // namespace

MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage,
                             const LayerMap& map, const ParamCounts& pc) {
  LayerBytes layers(m, t);
  return stage_memory(m, t, a, stage, map, pc, stage_params(m, t, stage, map, pc), layers);
}

namespace {
MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage,
                             const LayerMap& map, const ParamCounts& pc, const StageParams& p, LayerBytes& layers) {
  MemoryBreakdown mb;
  mb.stage = stage;
  mb.capacity_bytes = a.hbm_usable_bytes;
  const double d = static_cast<double>(t.par.dp) * t.par.cp;  // ZeRO shards over dp x cp
  const double d_expert = t.par.expert_data_parallel();       // ranks holding the same experts
  auto shard = [&](double per_param, int from_stage) {
    bool sharded = t.zero >= from_stage;
    return per_param * (p.dense / (sharded ? d : 1.0) + p.expert / (sharded ? d_expert : 1.0));
  };
  mb.weights_bytes = shard(weight_bytes(t.precision), 3);
  mb.gradients_bytes = shard(weight_bytes(t.precision), 2);
  mb.optimizer_bytes = shard(optimizer_bytes(t), 1);

  // Activations: per chunk, the layers' bytes times the microbatch-chunks in flight.
  // Layers of one kind and recomputation keep the same bytes: cost each once.
  // The stage's first offload_activations layers keep theirs in host memory,
  // but for the two in transit (one leaving, one coming back).
  double per_chunk_set = 0, in_transit = 0;
  int local_layer = 0;
  for (int c = 0; c < map.vpp; ++c)
    for (int layer = map.at(stage, c).first; layer < map.at(stage, c).end(); ++layer, ++local_layer) {
      const Recompute rc = layer_recompute(t, layer - map.at(stage, c).first);
      const double b = layers.at(layer, rc);
      if (local_layer < t.offload_activation_layers)
        in_transit = std::max(in_transit, 2.0 * b);
      else
        per_chunk_set += b;
    }
  const double in_flight = chunks_in_flight(t, stage);
  // A stage's chunks are alike in size; in-flight counts microbatch-chunks.
  double acts = per_chunk_set / t.par.vpp * in_flight + in_transit;
  const double s = static_cast<double>(m.seq_len) / t.par.cp;
  const double sb = s * t.micro_batch;
  const double rep = (t.sequence_parallel && t.par.tp > 1) ? t.par.tp : 1.0;
  if (stage == t.par.pp - 1) {
    // fp32 logits for the loss of the microbatch in flight, and the final norm's
    // input; each MTP module keeps a layer's activations and its own logits
    // (the last virtual stage holds one microbatch at a time).
    const double head =
        4.0 * sb * static_cast<double>(m.vocab) / t.par.tp + 2.0 * sb * static_cast<double>(m.hidden) / rep;
    const double mtp_layer = m.mtp_layers > 0 ? layers.at(m.layers - 1, t.recompute) : 0.0;
    acts += head + m.mtp_layers * (head + mtp_layer);
  }
  if (stage == 0 && m.dropout)
    acts += sb * static_cast<double>(m.hidden) / rep * std::min(in_flight, static_cast<double>(t.par.pp));
  mb.activations_bytes = acts;

  double tensors = mb.weights_bytes + mb.gradients_bytes + mb.optimizer_bytes + mb.activations_bytes;
  mb.other_bytes = kFrameworkFixedBytes + kFragmentation * tensors;
  if (t.zero == 3) {
    // FSDP gathers the next layer's full weights while computing this one.
    double layer = 0;
    for (size_t i = 0; i < m.stack.types.size(); ++i)
      layer = std::max(layer, type_zero3_buffer(m, m.stack.types[i], pc.types[i]));
    mb.other_bytes += 2.0 * layer / t.par.tp * weight_bytes(t.precision);
  }
  return mb;
}
}  // namespace

MemoryBreakdown memory_per_gpu(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a) {
  return memory_per_gpu(m, t, a, count_params(m));
}

MemoryBreakdown memory_per_gpu(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, const ParamCounts& pc) {
  const LayerMap map = layer_map(t);
  const std::vector<StageParams> params = all_stage_params(m, t, map, pc);
  LayerBytes layers(m, t);
  MemoryBreakdown worst = stage_memory(m, t, a, 0, map, pc, params[0], layers);
  for (int s = 1; s < t.par.pp; ++s) {
    MemoryBreakdown mb = stage_memory(m, t, a, s, map, pc, params[static_cast<size_t>(s)], layers);
    if (mb.total() > worst.total()) worst = mb;
  }
  return worst;
}

}  // namespace danlu
