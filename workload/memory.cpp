#include "workload/memory.hpp"

#include <algorithm>

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

double saved_gemm_input_bytes(const TrainingSpec& t) {
  if (bytes_per_element(t.precision) >= 2.0) return 2.0;
  // The element plus its share of a block scale (1 byte per 32 for MX
  // formats, per 16 for NVFP4, per 128 for blockwise; per tensor otherwise).
  double scale = 0;
  if (t.precision == Precision::fp8)
    scale = t.fp8_recipe == Fp8Recipe::mxfp8 ? 1.0 / 32 : t.fp8_recipe == Fp8Recipe::blockwise ? 4.0 / 128 : 0.0;
  else if (t.precision == Precision::fp4)
    scale = t.fp4_recipe == Fp4Recipe::nvfp4 ? 1.0 / 16 : 1.0 / 32;
  return bytes_per_element(t.precision) + scale;
}

double layer_activation_bytes(const ModelSpec& m, const TrainingSpec& t, int layer) {
  return layer_activation_bytes(m, t, layer, t.recompute);
}

double layer_activation_bytes(const ModelSpec& m, const TrainingSpec& t, int layer, Recompute recompute) {
  const double s = static_cast<double>(m.seq_len) / t.par.cp;
  const double b = t.micro_batch;
  const double h = static_cast<double>(m.hidden);
  const double tp = t.par.tp;
  const bool sp = t.sequence_parallel && t.par.tp > 1;
  const double rep = sp ? tp : 1.0;  // divisor of the tensors outside the TP region
  const double sb = s * b;

  if (recompute == Recompute::full) return 2.0 * sb * h / rep;

  // A GEMM saves its input for the weight gradient; in an fp8 or fp4 recipe
  // it saves the quantised copy it computed with (Transformer Engine), not
  // the 16-bit tensor.
  const double gemm_in = saved_gemm_input_bytes(t);

  // Selective recomputation keeps only the inputs of the modules it repeats.
  auto again = [&](RecomputeModule mod) { return recomputes(t, recompute, mod); };

  // Outside the TP region: the inputs of both norms (16-bit) and their
  // outputs, which are the QKV and FC1 GEMMs' inputs (recomputed with
  // layernorm); dropout masks.
  const double norm_outputs = again(RecomputeModule::layernorm) ? 0.0 : 2.0 * gemm_in;
  double outside = ((4.0 + norm_outputs) * sb * h + (m.dropout ? 2.0 * sb * h : 0.0)) / rep;

  // Attention inside the TP region: Q, K, V and the attention output (kept
  // in 16 bits by the fused kernel, and quantised again as the output
  // projection's input under fp8). KV heads fewer than tp are replicated, so
  // each GPU holds at least one.
  const double q_per_gpu = static_cast<double>(m.heads) * m.head_dim / tp;
  const double kv_per_gpu = m.head_dim * std::max(1.0, m.kv_heads / tp);
  double attention = sb * q_per_gpu * (4.0 + (gemm_in < 2.0 ? gemm_in : 0.0)) + 2.0 * sb * kv_per_gpu * 2.0;
  if (m.mla) {
    // MLA: the latent queries and keys/values (norm input and the up-
    // projections' inputs), the shared rotary key, then per head Q and K at
    // the query-key width, V and O at the value width.
    // With mla_up_proj recomputed, Q, K and V come again from the latents.
    const MlaSpec& a = *m.mla;
    const double heads = m.heads / tp;
    const double qkv = again(RecomputeModule::mla_up_proj) ? 0.0 : 4.0 * a.qk_head_dim() + 2.0 * a.v_head_dim;
    attention = sb * ((2.0 + gemm_in) * (a.q_lora_rank + a.kv_lora_rank) + 2.0 * a.qk_rope_head_dim +
                      heads * (qkv + (2.0 + (gemm_in < 2.0 ? gemm_in : 0.0)) * a.v_head_dim));
  }
  if (!again(RecomputeModule::core_attn) && !t.flash_attention) {
    // softmax output (2 bytes), plus dropout mask (1) and output (2) when used
    double per_score = m.dropout ? 5.0 : 2.0;
    attention += per_score * (m.heads / tp) * s * s * b;
  }

  // FFN inside the TP region: GeLU stores its input and output (2x 2sbf);
  // The activation function keeps fc1's outputs (gate and up with SwiGLU,
  // 2 bytes each), and fc2 its input (2 bytes, or its quantised copy).
  const double fc1_out = 2.0 * ffn_input_matrices(m);
  auto ffn = [&](double f) { return (fc1_out + gemm_in) * sb * f / tp; };
  // moe_act recomputes the experts' activation output (fc2's input).
  const double act_out = again(RecomputeModule::moe_act) ? 0.0 : gemm_in;
  double mlp;
  if (m.is_moe_layer(layer)) {
    // The routed copies this GPU's experts process: its tokens' top_k
    // assignments (times the capacity factor), gathered over the expert-
    // tensor group; each keeps the dispatched hidden state (the expert FC1's
    // input) and its share of the expert's FFN width.
    const double fe = static_cast<double>(m.moe->expert_ffn_hidden);
    const double etp = t.par.etp;
    const double rows = sb / rep * m.moe->top_k * m.moe->expert_load() * etp;
    const double per_row = gemm_in * h + (fc1_out + act_out) * fe / etp;
    mlp = rows * per_row + m.moe->shared_experts * ffn(fe);
  } else {
    // A recomputed dense MLP keeps only its input (a norm output, above).
    mlp = again(RecomputeModule::mlp) ? 0.0 : ffn(static_cast<double>(m.ffn_hidden));
  }
  return outside + attention + mlp;
}

StageParams stage_params(const ModelSpec& m, const TrainingSpec& t, int stage) {
  return stage_params(m, t, stage, layer_map(t), count_params(m));
}

StageParams stage_params(const ModelSpec& m, const TrainingSpec& t, int stage, const LayerMap& map,
                         const ParamCounts& pc) {
  const double tp = t.par.tp;
  const double h = static_cast<double>(m.hidden);
  // K and V projections are replicated when there are fewer KV heads than tp.
  // MLA's down-projections are not split; its up- and output projections are.
  double attention;
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    const double down = h * (a.q_lora_rank + a.kv_lora_rank + a.qk_rope_head_dim);
    attention = down + (pc.attention_per_layer - down) / tp;
  } else {
    const double kv_replicated = 2.0 * h * m.head_dim * std::max(1.0, m.kv_heads / tp);
    const double q_o = 2.0 * h * static_cast<double>(m.heads) * m.head_dim / tp;
    attention = q_o + kv_replicated;
  }
  const double experts_split = static_cast<double>(t.par.etp) * t.par.ep;
  StageParams p;
  auto add_layer = [&](bool moe) {
    p.dense += attention + pc.norms_per_layer;
    if (moe) {
      p.dense += m.moe->shared_experts * pc.expert_per_expert / tp + pc.router_per_layer;
      p.expert += m.moe->experts * pc.expert_per_expert / experts_split;
    } else {
      p.dense += pc.dense_mlp_per_layer / tp;
    }
  };
  for (int c = 0; c < map.vpp; ++c)
    for (int layer = map.at(stage, c).first; layer < map.at(stage, c).end(); ++layer) add_layer(m.is_moe_layer(layer));
  const bool first = stage == 0, last = stage == t.par.pp - 1;
  if (first) p.dense += pc.embedding / tp;
  if (last) {
    // A tied output layer on another stage needs its own copy of the embedding.
    p.dense += (m.tied_embeddings ? (first ? 0.0 : pc.embedding) : pc.output) / tp + pc.final_norm;
    // MTP modules: a layer each, and the 2h x h projection.
    for (int i = 0; i < m.mtp_layers; ++i) {
      add_layer(m.moe.has_value());
      p.dense += 2 * h * h / tp + 3 * h;
    }
  }
  return p;
}

MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage) {
  return stage_memory(m, t, a, stage, layer_map(t), count_params(m));
}

MemoryBreakdown stage_memory(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a, int stage,
                             const LayerMap& map, const ParamCounts& pc) {
  MemoryBreakdown mb;
  mb.stage = stage;
  mb.capacity_bytes = a.hbm_usable_bytes;
  StageParams p = stage_params(m, t, stage, map, pc);
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
  double per_chunk_set = 0, cached[2][3] = {{-1, -1, -1}, {-1, -1, -1}}, in_transit = 0;
  int local_layer = 0;
  for (int c = 0; c < map.vpp; ++c)
    for (int layer = map.at(stage, c).first; layer < map.at(stage, c).end(); ++layer, ++local_layer) {
      const Recompute rc = layer_recompute(t, layer - map.at(stage, c).first);
      double& b = cached[m.is_moe_layer(layer) ? 1 : 0][static_cast<int>(rc)];
      if (b < 0) b = layer_activation_bytes(m, t, layer, rc);
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
    const double mtp_layer = m.mtp_layers > 0 ? layer_activation_bytes(m, t, m.layers - 1) : 0.0;
    acts += head + m.mtp_layers * (head + mtp_layer);
  }
  if (stage == 0 && m.dropout)
    acts += sb * static_cast<double>(m.hidden) / rep * std::min(in_flight, static_cast<double>(t.par.pp));
  mb.activations_bytes = acts;

  double tensors = mb.weights_bytes + mb.gradients_bytes + mb.optimizer_bytes + mb.activations_bytes;
  mb.other_bytes = kFrameworkFixedBytes + kFragmentation * tensors;
  if (t.zero == 3) {
    // FSDP gathers the next layer's full weights while computing this one.
    double layer =
        pc.attention_per_layer + std::max(pc.dense_mlp_per_layer, pc.expert_per_expert * (m.moe ? m.moe->top_k : 1));
    mb.other_bytes += 2.0 * layer / t.par.tp * weight_bytes(t.precision);
  }
  return mb;
}

MemoryBreakdown memory_per_gpu(const ModelSpec& m, const TrainingSpec& t, const Accelerator& a) {
  const LayerMap map = layer_map(t);
  const ParamCounts pc = count_params(m);
  MemoryBreakdown worst = stage_memory(m, t, a, 0, map, pc);
  for (int s = 1; s < t.par.pp; ++s) {
    MemoryBreakdown mb = stage_memory(m, t, a, s, map, pc);
    if (mb.total() > worst.total()) worst = mb;
  }
  return worst;
}

}  // namespace danlu
