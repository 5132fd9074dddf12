// Grouped-query attention (MHA, GQA and MQA through kv_heads), with an
// optional sliding window; and the order of ops every attention kind shares.
#include "workload/layers/attention.hpp"

#include <algorithm>
#include <memory>

namespace danlu {

// Scores and weighted values over the whole sequence (the report convention
// counts full, not causal, attention; so does Megatron's executed count).
double AttentionKind::core_flops(const ModelSpec& m, const LayerPart&, double tokens) const {
  const double q_width = static_cast<double>(m.heads) * m.head_dim;
  return 2 * 2 * tokens * static_cast<double>(m.seq_len) * q_width;
}

double AttentionKind::activation_bytes(const LayerContext& c, const LayerPart&) const {
  double bytes = kept_bytes(c);
  if (!c.again(RecomputeModule::core_attn) && !c.t.flash_attention) {
    // Without a fused kernel the s x s scores stay for the backward: the
    // softmax output (2 bytes), plus dropout mask (1) and output (2) when used.
    const double s = c.seq / c.cp;
    const double per_score = c.m.dropout ? 5.0 : 2.0;
    bytes += per_score * (c.m.heads / c.tp) * s * s * c.t.micro_batch;
  }
  return bytes;
}

// Attention for one microbatch on this GPU: per sequence and local head,
// queries against the keys they see (causal: half of them on average; with
// CP, Megatron's load-balanced split keeps that true on every rank).
WorkItem AttentionKind::core(const LayerContext& c, const LayerPart& part, const char* name, bool forward,
                             double report_flops) const {
  WorkItem w;
  ComputeOp& op = w.compute;
  op.name = name;
  op.kind = forward ? OpKind::attention_forward : OpKind::attention_backward;
  op.flops = report_flops;
  op.m = c.seq / c.cp;
  op.n = keys_seen(c, part);
  op.k = core_head_dim(c.m);
  op.count = c.t.micro_batch * c.m.heads / c.tp;
  // Q, K, V and O (and their gradients in the backward) through HBM once.
  const double qkvo = c.tokens * kActBytes * (qk_width(c) + v_width(c) + kv_read_width(c) * c.cp);
  op.bytes = forward ? qkvo : 2.0 * qkvo;
  return w;
}

double AttentionKind::keys_seen(const LayerContext& c, const LayerPart& part) const {
  const double window = static_cast<double>(part.window);
  return part.window > 0 ? std::min(c.seq / 2, window * (1 - window / (2 * c.seq))) : c.seq / 2;
}

Linear AttentionKind::out_proj(const LayerContext& c) const {
  return {"output projection", "output projection dgrad", "output projection wgrad", c.tokens, c.h, v_width(c)};
}

namespace {

// Without a fused kernel (Megatron before 2023) the s x s scores are GEMM
// outputs, written, softmaxed (read + write), dropped out (read + write +
// a 1-byte mask) and read again: batched GEMMs plus that traffic.
double scores(const LayerContext& c) { return c.t.micro_batch * c.m.heads / c.tp * (c.seq / c.cp) * c.seq; }

void unfused_forward(const LayerContext& c, std::vector<WorkItem>& w, const char* scores_name, const char* ctx_name) {
  const double b = c.t.micro_batch * c.m.heads / c.tp, s = c.seq / c.cp;
  w.push_back(c.gemm(scores_name, s, c.seq, c.m.head_dim, b, false, 0));
  w.push_back(memory_op("softmax+dropout", scores(c) * (c.m.dropout ? 9.0 : 4.0), c.m.dropout ? 2 : 1));
  w.push_back(c.gemm(ctx_name, s, c.m.head_dim, c.seq, b, false, 0));
}

void unfused_backward(const LayerContext& c, std::vector<WorkItem>& w) {
  const double b = c.t.micro_batch * c.m.heads / c.tp, s = c.seq / c.cp, d = c.m.head_dim;
  w.push_back(c.gemm("attention context dgrad", s, c.seq, d, b, false, 0));  // dP = dO V^T
  w.push_back(c.gemm("attention context vgrad", c.seq, d, s, b, false, 0));  // dV = P^T dO
  w.push_back(memory_op("softmax+dropout backward", scores(c) * (c.m.dropout ? 9.0 : 6.0), c.m.dropout ? 2 : 1));
  w.push_back(c.gemm("attention scores qgrad", s, d, c.seq, b, false, 0));  // dQ = dS K
  w.push_back(c.gemm("attention scores kgrad", c.seq, d, s, b, false, 0));  // dK = dS^T Q
}

// Context parallelism gathers every rank's keys and values for the forward
// and reduces their gradients back in the backward.
double cp_exchange_bytes(const LayerContext& c, double kv_width) {
  return 2.0 * c.seq * c.t.micro_batch * kv_width * kActBytes;
}

}  // namespace

void AttentionKind::forward(const LayerContext& c, const LayerPart& part, std::vector<WorkItem>& w, bool repeat) const {
  const double split = c.tp * c.cp;
  c.tp_enter(w, false);
  for (const Linear& l : inputs(c)) c.linear_forward(w, l);
  w.push_back(memory_op("rotary embedding", c.tokens * 2.0 * rope_width(c) * kActBytes));
  if (c.cp > 1)
    w.push_back(comm("cp kv all-gather", CommKind::cp, Collective::all_gather,
                     cp_exchange_bytes(c, kv_width_per_gpu(c)), c.t.par.cp, true));
  select_keys(c, w, true);
  if (c.t.flash_attention)
    w.push_back(core(c, part, repeat ? "recompute attention" : "attention", true,
                     attention_flops(c.m, part, c.seq * c.t.micro_batch) / split));
  else
    unfused_forward(c, w, "attention scores", "attention context");
  c.linear_forward(w, out_proj(c));
  c.tp_exit(w, false);
}

void AttentionKind::backward(const LayerContext& c, const LayerPart& part, PassWork& p) const {
  std::vector<WorkItem>& w = p.backward;
  const double split = c.tp * c.cp;
  const double core_fwd = attention_flops(c.m, part, c.seq * c.t.micro_batch);
  c.tp_exit(w, true);
  c.linear_backward(p, out_proj(c));
  recompute_inputs(c, w);
  if (c.t.flash_attention) {
    if (c.again(RecomputeModule::core_attn)) w.push_back(core(c, part, "recompute attention", true, core_fwd / split));
    // The score matmuls have no weights: their backward is all input gradients.
    w.push_back(core(c, part, "attention backward", false, 2.0 * core_fwd / split));
  } else {
    if (c.again(RecomputeModule::core_attn))
      unfused_forward(c, w, "recompute attention scores", "recompute attention context");
    unfused_backward(c, w);
  }
  select_keys(c, w, false);
  if (c.cp > 1)
    w.push_back(comm("cp kv reduce-scatter", CommKind::cp, Collective::reduce_scatter,
                     cp_exchange_bytes(c, kv_width_per_gpu(c)), c.t.par.cp, true));
  w.push_back(memory_op("rotary embedding backward", c.tokens * 2.0 * rope_width(c) * kActBytes));
  const std::vector<Linear> in = inputs(c);
  for (auto it = in.rbegin(); it != in.rend(); ++it) c.linear_backward(p, *it);
  c.tp_enter(w, true);
}

namespace {

// Grouped-query attention: one fused QKV projection, query heads split over
// TP, KV heads too (replicated when fewer than tp).
class Gqa final : public AttentionKind {
 public:
  std::string_view name() const override { return "attention"; }

  PartParams params(const ModelSpec& m) const override {
    const double h = static_cast<double>(m.hidden);
    const double q_width = static_cast<double>(m.heads) * m.head_dim;
    const double kv_width = static_cast<double>(m.kv_heads) * m.head_dim;
    // A sink is one learned logit per head (GPT-OSS).
    const double sinks = m.attention_sinks ? m.heads : 0;
    const double all = h * q_width + 2 * h * kv_width + q_width * h + sinks;
    return {all, all, 0, 0, sinks};
  }
  GpuParams params_per_gpu(const ModelSpec& m, const Parallelism& p, const PartParams&) const override {
    const double tp = p.tp;
    const double h = static_cast<double>(m.hidden);
    // K and V projections are replicated when there are fewer KV heads than tp.
    const double kv_replicated = 2.0 * h * m.head_dim * std::max(1.0, m.kv_heads / tp);
    const double q_o = 2.0 * h * static_cast<double>(m.heads) * m.head_dim / tp;
    const double sinks = m.attention_sinks ? m.heads / tp : 0.0;
    return {q_o + kv_replicated + sinks, 0};
  }

 protected:
  std::vector<Linear> inputs(const LayerContext& c) const override {
    return {{"qkv projection", "qkv projection dgrad", "qkv projection wgrad", c.tokens,
             q_width_per_gpu(c) + 2 * kv_width_per_gpu(c), c.h}};
  }
  double qk_width(const LayerContext& c) const override { return q_width_per_gpu(c); }
  double v_width(const LayerContext& c) const override { return q_width_per_gpu(c); }
  double kv_read_width(const LayerContext& c) const override { return 2 * kv_width_per_gpu(c); }
  double core_head_dim(const ModelSpec& m) const override { return m.head_dim; }
  double rope_width(const LayerContext& c) const override { return q_width_per_gpu(c) + kv_width_per_gpu(c); }
  // Q, K, V and the attention output (kept in 16 bits by the fused kernel,
  // and quantised again as the output projection's input under fp8).
  double kept_bytes(const LayerContext& c) const override {
    const double gemm_in = saved_gemm_input_bytes(c.t);
    return c.tokens * q_width_per_gpu(c) * (4.0 + (gemm_in < 2.0 ? gemm_in : 0.0)) +
           2.0 * c.tokens * kv_width_per_gpu(c) * 2.0;
  }
};

}  // namespace

std::unique_ptr<LayerKind> make_attention_layer() { return std::make_unique<Gqa>(); }

}  // namespace danlu
