#include "workload/transformer.hpp"

namespace danlu {

std::string_view to_string(Activation a) { return a == Activation::swiglu ? "swiglu" : "gelu"; }

double ffn_matrices(const ModelSpec& m) { return m.activation == Activation::swiglu ? 3.0 : 2.0; }

ParamCounts count_params(const ModelSpec& m) {
  ParamCounts p;
  const double h = static_cast<double>(m.hidden);
  const double q_width = static_cast<double>(m.heads) * m.head_dim;
  const double kv_width = static_cast<double>(m.kv_heads) * m.head_dim;
  p.embedding = static_cast<double>(m.vocab) * h + (m.learned_positions ? static_cast<double>(m.seq_len) * h : 0.0);
  p.output = m.tied_embeddings ? 0.0 : static_cast<double>(m.vocab) * h;
  p.attention_per_layer = h * q_width + 2 * h * kv_width + q_width * h;
  p.norms_per_layer = 2 * h;
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    const double heads = m.heads;
    const double q =
        a.q_lora_rank > 0 ? h * a.q_lora_rank + a.q_lora_rank * heads * a.qk_head_dim() : h * heads * a.qk_head_dim();
    const double kv =
        h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank * heads * (a.qk_nope_head_dim + a.v_head_dim);
    p.attention_per_layer = q + kv + heads * a.v_head_dim * h;
    p.norms_per_layer += a.q_lora_rank + a.kv_lora_rank;  // the latent norms
  }
  p.dense_mlp_per_layer = ffn_matrices(m) * h * static_cast<double>(m.ffn_hidden);
  p.final_norm = h;
  double layers_dense = m.layers - m.moe_layers();
  double total = p.embedding + p.output + p.final_norm + m.layers * (p.attention_per_layer + p.norms_per_layer) +
                 layers_dense * p.dense_mlp_per_layer;
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
  // An MTP module: the hidden state and the next token's embedding, each
  // normed, concatenated and projected back (2h x h), then one transformer
  // layer of the model's last kind; embedding and output head are shared.
  const double last_ffn = m.moe ? (m.moe->experts + m.moe->shared_experts) * p.expert_per_expert + p.router_per_layer
                                : p.dense_mlp_per_layer;
  p.mtp = m.mtp_layers * (2 * h * h + 3 * h + p.attention_per_layer + p.norms_per_layer + last_ffn);
  return p;
}

double model_flops_per_token(const ModelSpec& m) {
  // Layers of one kind cost the same: count the dense ones and the MoE ones once.
  const int moe = m.moe_layers();
  double forward = logits_forward_flops(m, 1);
  if (moe < m.layers) forward += (m.layers - moe) * layer_forward_flops(m, 0, 1).total();
  if (moe > 0) forward += moe * layer_forward_flops(m, m.moe->dense_layers, 1).total();
  return 3.0 * forward;
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
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    const ParamCounts pc = count_params(m);
    const double out = static_cast<double>(m.heads) * a.v_head_dim * h;
    f.qkv = 2 * tokens * (pc.attention_per_layer - out);
    f.out_proj = 2 * tokens * out;
    f.attn_core = 2 * tokens * static_cast<double>(m.seq_len) * m.heads * (a.qk_head_dim() + a.v_head_dim);
  }
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
