#include "models/transformer.hpp"

namespace danlu {

std::string_view to_string(Activation a) { return a == Activation::swiglu ? "swiglu" : "gelu"; }

namespace {
// Matrices in one FFN: gate, up and down for SwiGLU; up and down for GeLU.
double ffn_matrices(const ModelSpec& m) { return m.activation == Activation::swiglu ? 3.0 : 2.0; }
}  // namespace

ParamCounts count_params(const ModelSpec& m) {
  ParamCounts p;
  const double h = static_cast<double>(m.hidden);
  const double q_width = static_cast<double>(m.heads) * m.head_dim;
  const double kv_width = static_cast<double>(m.kv_heads) * m.head_dim;
  p.embedding = static_cast<double>(m.vocab) * h + (m.learned_positions ? static_cast<double>(m.seq_len) * h : 0.0);
  p.output = m.tied_embeddings ? 0.0 : static_cast<double>(m.vocab) * h;
  p.attention_per_layer = h * q_width + 2 * h * kv_width + q_width * h;
  p.norms_per_layer = 2 * h;
  p.dense_mlp_per_layer = ffn_matrices(m) * h * static_cast<double>(m.ffn_hidden);
  p.final_norm = h;
  double layers_dense = m.layers - m.moe_layers();
  double total = p.embedding + p.output + p.final_norm +
                 m.layers * (p.attention_per_layer + p.norms_per_layer) + layers_dense * p.dense_mlp_per_layer;
  double active = total;
  if (m.moe) {
    p.expert_per_expert = ffn_matrices(m) * h * static_cast<double>(m.moe->expert_ffn_hidden);
    p.router_per_layer = h * m.moe->experts;
    double per_layer_all = (m.moe->experts + m.moe->shared_experts) * p.expert_per_expert + p.router_per_layer;
    double per_layer_active = (m.moe->top_k + m.moe->shared_experts) * p.expert_per_expert + p.router_per_layer;
    total += m.moe_layers() * per_layer_all;
    active += m.moe_layers() * per_layer_active;
    p.expert_total = m.moe_layers() * m.moe->experts * p.expert_per_expert;
  }
  p.total = total;
  p.active = active;
  return p;
}

double model_flops_per_token(const ModelSpec& m, const ParamCounts& p) {
  return 6.0 * p.active + 12.0 * m.layers * static_cast<double>(m.hidden) * static_cast<double>(m.seq_len);
}

LayerFlops layer_forward_flops(const ModelSpec& m, int layer, double tokens) {
  const double h = static_cast<double>(m.hidden);
  const double q_width = static_cast<double>(m.heads) * m.head_dim;
  const double kv_width = static_cast<double>(m.kv_heads) * m.head_dim;
  LayerFlops f;
  f.qkv = 2 * tokens * h * (q_width + 2 * kv_width);
  // Scores and weighted values over the whole sequence (the report convention
  // counts full, not causal, attention; so does Megatron's executed count).
  f.attn_core = 2 * 2 * tokens * static_cast<double>(m.seq_len) * q_width;
  f.out_proj = 2 * tokens * q_width * h;
  if (m.is_moe_layer(layer)) {
    double per_expert = 2 * tokens * ffn_matrices(m) * h * static_cast<double>(m.moe->expert_ffn_hidden);
    f.mlp = (m.moe->top_k + m.moe->shared_experts) * per_expert;
    f.router = 2 * tokens * h * m.moe->experts;
  } else {
    f.mlp = 2 * tokens * ffn_matrices(m) * h * static_cast<double>(m.ffn_hidden);
  }
  return f;
}

double logits_forward_flops(const ModelSpec& m, double tokens) {
  return 2 * tokens * static_cast<double>(m.hidden) * static_cast<double>(m.vocab);
}

}  // namespace danlu
