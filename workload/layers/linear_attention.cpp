// Chunked linear attention with the gated delta rule: gated DeltaNet (Yang,
// Kautz and Hatamizadeh 2025; Qwen3-Next) and Kimi Delta Attention (Kimi
// Linear), as flash-linear-attention runs them. Projections give q and k per
// key head, v and the output gate per value head, and the gates; a short
// causal conv1d runs over q, k and v; the delta rule runs chunk by chunk; a
// gated RMSNorm and the output projection follow. Tensor parallelism splits
// the heads, so the layer is one tensor-parallel region.
#include <memory>

#include "workload/layers/scan.hpp"

namespace danlu {

namespace {

// Width of the input projections' outputs per token. Gated DeltaNet: q, k,
// v, the output gate z, and a scalar beta and decay per value head. KDA: q,
// k, v and beta; its per-channel decay and its output gate come through
// low-rank projections (the ranks' inputs counted in gate_inputs()).
double in_width(const LinearAttentionSpec& s) {
  const double qkv = 2.0 * s.key_width() + s.value_width();
  return s.gate_rank > 0 ? qkv + s.heads : qkv + s.value_width() + 2.0 * s.heads;
}
// KDA's low-rank gate projections: down to gate_rank twice (decay, output
// gate), then up to the key width and the value width.
double gate_params(const ModelSpec& m) {
  const LinearAttentionSpec& s = *m.linear_attention;
  if (s.gate_rank == 0) return 0;
  return s.gate_rank * (2.0 * static_cast<double>(m.hidden) + s.key_width() + s.value_width());
}

class LinearAttention final : public ScanKind {
 public:
  std::string_view name() const override { return "linear_attention"; }

  PartParams params(const ModelSpec& m) const override {
    const LinearAttentionSpec& s = *m.linear_attention;
    const double h = static_cast<double>(m.hidden);
    const double conv = (2.0 * s.key_width() + s.value_width()) * s.conv_kernel;
    // A and dt's bias per value head (KDA: dt's bias per key channel).
    const double decay = s.heads + (s.gate_rank > 0 ? s.key_width() : s.heads);
    const double all = h * in_width(s) + gate_params(m) + conv + decay + s.value_width() * h;
    // The output norm's weight (one head's width, shared) sits inside the part.
    return {all, all, 0, static_cast<double>(s.value_head_dim), conv + decay};
  }
  GpuParams params_per_gpu(const ModelSpec&, const Parallelism& p, const PartParams& whole) const override {
    return {whole.total / p.tp, 0};
  }

  // The chunked delta rule (Yang et al. 2024, "Parallelizing Linear
  // Transformers with the Delta Rule over Sequence Length"), per token and
  // value head, in multiply-adds: within a chunk of C tokens, Q K^T and
  // K K^T (for the WY form of the updates; C x dk each), the scores and the
  // WY transform applied to the values and keys (C x (dk + 2 dv)); across
  // chunks, the state read by the queries, the correction W S and the state
  // update K^T U (dk x dv each). The conv1d adds conv_kernel per channel.
  double core_flops(const ModelSpec& m, const LayerPart&, double tokens) const override {
    const LinearAttentionSpec& s = *m.linear_attention;
    const double c = s.chunk, dk = s.key_head_dim, dv = s.value_head_dim;
    const double rule = s.heads * (c * (3.0 * dk + 2.0 * dv) + 3.0 * dk * dv);
    return 2.0 * tokens * (rule + s.conv_kernel * (2.0 * s.key_width() + s.value_width()));
  }

  // The projections' outputs, the conv's outputs, the core's output and
  // the output projection's input, per GPU.
  double activation_bytes(const LayerContext& c, const LayerPart&) const override {
    const LinearAttentionSpec& s = *c.m.linear_attention;
    const double gates = s.gate_rank > 0 ? s.key_width() + s.value_width() : 0.0;
    const double per_token = kActBytes * (in_width(s) + gates + 2.0 * s.key_width() + 2.0 * s.value_width()) +
                             saved_gemm_input_bytes(c.t) * s.value_width();
    return c.tokens * per_token / c.tp;
  }

 protected:
  ScanShape shape(const ModelSpec& m) const override {
    const LinearAttentionSpec& s = *m.linear_attention;
    return {static_cast<double>(s.chunk),
            static_cast<double>(s.key_head_dim),
            static_cast<double>(s.heads),
            static_cast<double>(s.key_head_dim) * s.value_head_dim,
            2.0 * s.key_width() + s.value_width(),
            2.0 * s.key_width() + 2.0 * s.value_width(),
            s.value_width()};
  }
  std::vector<Linear> inputs(const LayerContext& c) const override {
    const LinearAttentionSpec& s = *c.m.linear_attention;
    std::vector<Linear> out{{"linear attention in projection", "linear attention in projection dgrad",
                             "linear attention in projection wgrad", c.tokens, in_width(s) / c.tp, c.h}};
    // KDA's low-rank gates: the small down-projections are replicated, the
    // up-projections split by heads.
    if (s.gate_rank > 0) {
      out.push_back({"gate down-projection", "gate down-projection dgrad", "gate down-projection wgrad", c.tokens,
                     2.0 * s.gate_rank, c.h});
      out.push_back({"gate up-projection", "gate up-projection dgrad", "gate up-projection wgrad", c.tokens,
                     (s.key_width() + s.value_width()) / c.tp, static_cast<double>(s.gate_rank)});
    }
    return out;
  }
  Linear out_proj(const LayerContext& c) const override {
    return {"linear attention out projection",
            "linear attention out projection dgrad",
            "linear attention out projection wgrad",
            c.tokens,
            c.h,
            c.m.linear_attention->value_width() / c.tp};
  }
};

}  // namespace

std::unique_ptr<LayerKind> make_linear_attention_layer() { return std::make_unique<LinearAttention>(); }

}  // namespace danlu
