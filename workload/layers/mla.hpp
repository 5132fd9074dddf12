// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): queries and keys/
// values pass through low-rank latents; the down-projections are small and
// not split over TP, the up-projections split by heads. DeepSeek Sparse
// Attention (layers/dsa.cpp) extends it.
#pragma once

#include <algorithm>
#include <memory>

#include "workload/layers/attention.hpp"

namespace danlu {

class Mla : public AttentionKind {
 public:
  std::string_view name() const override { return "mla"; }

  PartParams params(const ModelSpec& m) const override {
    const MlaSpec& a = *m.mla;
    const double h = static_cast<double>(m.hidden);
    const double heads = m.heads;
    const double q =
        a.q_lora_rank > 0 ? h * a.q_lora_rank + a.q_lora_rank * heads * a.qk_head_dim() : h * heads * a.qk_head_dim();
    const double kv =
        h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank * heads * (a.qk_nope_head_dim + a.v_head_dim);
    const double all = q + kv + heads * a.v_head_dim * h;
    // The latent norms sit inside the part.
    return {all, all, 0, static_cast<double>(a.q_lora_rank + a.kv_lora_rank)};
  }
  GpuParams params_per_gpu(const ModelSpec& m, const Parallelism& p, const PartParams& whole) const override {
    const MlaSpec& a = *m.mla;
    const double h = static_cast<double>(m.hidden);
    const double down = h * (a.q_lora_rank + a.kv_lora_rank + a.qk_rope_head_dim);
    return {down + (whole.total - down) / p.tp, 0};
  }
  double core_flops(const ModelSpec& m, const LayerPart&, double tokens) const override {
    const MlaSpec& a = *m.mla;
    return 2 * tokens * static_cast<double>(m.seq_len) * m.heads * (a.qk_head_dim() + a.v_head_dim);
  }

 protected:
  std::vector<Linear> inputs(const LayerContext& c) const override {
    const MlaSpec& a = *c.m.mla;
    const double heads = c.m.heads / c.tp;
    std::vector<Linear> out;
    if (a.q_lora_rank > 0) {
      out.push_back({"q down-projection", "q down-projection dgrad", "q down-projection wgrad", c.tokens,
                     static_cast<double>(a.q_lora_rank), c.h});
      out.push_back({"q up-projection", "q up-projection dgrad", "q up-projection wgrad", c.tokens,
                     heads * a.qk_head_dim(), static_cast<double>(a.q_lora_rank)});
      out.back().up_projection = true;
    } else {
      out.push_back(
          {"q projection", "q projection dgrad", "q projection wgrad", c.tokens, heads * a.qk_head_dim(), c.h});
    }
    out.push_back({"kv down-projection", "kv down-projection dgrad", "kv down-projection wgrad", c.tokens,
                   static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim), c.h});
    out.push_back({"kv up-projection", "kv up-projection dgrad", "kv up-projection wgrad", c.tokens,
                   heads * (a.qk_nope_head_dim + a.v_head_dim), static_cast<double>(a.kv_lora_rank)});
    out.back().up_projection = true;
    return out;
  }
  double qk_width(const LayerContext& c) const override { return c.m.heads / c.tp * c.m.mla->qk_head_dim(); }
  double v_width(const LayerContext& c) const override { return c.m.heads / c.tp * c.m.mla->v_head_dim; }
  double kv_read_width(const LayerContext& c) const override { return qk_width(c) + v_width(c); }
  // QK^T over the query-key head width, PV over the value width: k is
  // their mean (4 m n k counts both products).
  double core_head_dim(const ModelSpec& m) const override { return (m.mla->qk_head_dim() + m.mla->v_head_dim) / 2.0; }
  // The rotary part of each local query head and the one shared rotary key.
  double rope_width(const LayerContext& c) const override {
    return (c.m.heads / c.tp + 1.0) * c.m.mla->qk_rope_head_dim;
  }
  // The latent queries and keys/values (norm input and the up-projections'
  // inputs), the shared rotary key, then per head Q and K at the query-key
  // width, V and O at the value width. With mla_up_proj recomputed, Q, K
  // and V come again from the latents.
  double kept_bytes(const LayerContext& c) const override {
    const MlaSpec& a = *c.m.mla;
    const double gemm_in = saved_gemm_input_bytes(c.t);
    const double heads = c.m.heads / c.tp;
    const double qkv = c.again(RecomputeModule::mla_up_proj) ? 0.0 : 4.0 * a.qk_head_dim() + 2.0 * a.v_head_dim;
    return c.tokens * ((2.0 + gemm_in) * (a.q_lora_rank + a.kv_lora_rank) + 2.0 * a.qk_rope_head_dim +
                       heads * (qkv + (2.0 + (gemm_in < 2.0 ? gemm_in : 0.0)) * a.v_head_dim));
  }
  void recompute_inputs(const LayerContext& c, std::vector<WorkItem>& w) const override {
    if (!c.again(RecomputeModule::mla_up_proj)) return;
    for (const Linear& l : inputs(c))
      if (l.up_projection) {
        c.linear_forward(w, l);
        w.back().compute.name = "recompute up-projection";
      }
    w.push_back(memory_op("recompute rotary embedding", c.tokens * 2.0 * rope_width(c) * kActBytes));
  }
};

}  // namespace danlu
