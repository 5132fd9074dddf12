// What the attention kinds share: projections into the heads, rotary
// embedding, the key/value exchange of context parallelism, a fused
// (FlashAttention-class) or unfused core, and the output projection back,
// inside one tensor-parallel region. A kind says how it projects (its inputs,
// per-head widths) and what it keeps; the order of ops is common.
#pragma once

#include <vector>

#include "workload/layer.hpp"

namespace danlu {

class AttentionKind : public LayerKind {
 public:
  double core_flops(const ModelSpec& m, const LayerPart& part, double tokens) const override;
  double activation_bytes(const LayerContext& c, const LayerPart& part) const override;
  void forward(const LayerContext& c, const LayerPart& part, std::vector<WorkItem>& w, bool repeat) const override;
  void backward(const LayerContext& c, const LayerPart& part, PassWork& p) const override;

 protected:
  // The projections into attention, in order.
  virtual std::vector<Linear> inputs(const LayerContext& c) const = 0;
  // Per-GPU widths of a token's query-key and value (all local heads).
  virtual double qk_width(const LayerContext& c) const = 0;
  virtual double v_width(const LayerContext& c) const = 0;
  // Per-GPU width of the keys and values the core reads per token.
  virtual double kv_read_width(const LayerContext& c) const = 0;
  // The head width of the core's products (the mean of QK^T's and PV's).
  virtual double core_head_dim(const ModelSpec& m) const = 0;
  // Widths the rotary embedding reads and writes per token, per GPU.
  virtual double rope_width(const LayerContext& c) const = 0;
  // Bytes the projections and the core keep for the backward (not the
  // score matrix of an unfused core).
  virtual double kept_bytes(const LayerContext& c) const = 0;
  // Ops that recomputation of the projections repeats before the backward
  // of the core (MLA's up-projections); none by default.
  virtual void recompute_inputs(const LayerContext&, std::vector<WorkItem>&) const {}
  // The keys a query attends to on average: causal, half the sequence; in
  // a sliding window of w, at most w (less the ramp at the start).
  virtual double keys_seen(const LayerContext& c, const LayerPart& part) const;
  // The core's own model FLOPs (core_flops less what select_keys runs).
  virtual double attention_flops(const ModelSpec& m, const LayerPart& part, double tokens) const {
    return core_flops(m, part, tokens);
  }
  // Ops that pick the keys before the core (DSA's indexer), forward or
  // backward; none by default.
  virtual void select_keys(const LayerContext&, std::vector<WorkItem>&, bool /*forward*/) const {}

  // GQA's per-GPU widths: query heads split over TP, KV heads too unless
  // fewer than tp (then each GPU holds one).
  static double q_width_per_gpu(const LayerContext& c) { return static_cast<double>(c.m.heads) * c.m.head_dim / c.tp; }
  static double kv_width_per_gpu(const LayerContext& c) { return c.m.head_dim * std::max(1.0, c.m.kv_heads / c.tp); }

 private:
  WorkItem core(const LayerContext& c, const LayerPart& part, const char* name, bool forward,
                double report_flops) const;
  Linear out_proj(const LayerContext& c) const;
};

}  // namespace danlu
