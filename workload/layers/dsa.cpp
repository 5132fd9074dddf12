// DeepSeek Sparse Attention (DeepSeek-V3.2-Exp tech report, 2025): MLA whose
// queries each attend to top_k keys, picked by a lightning indexer. The
// indexer projects the query latent to a few small heads and the hidden
// state to one shared key, scores every earlier key (ReLU, weighted over its
// heads, in FP8), and keeps the top_k. Its work still grows with L^2, but
// with a small width; the core's grows with L x top_k.
#include <algorithm>
#include <memory>

#include "workload/layers/mla.hpp"

namespace danlu {

namespace {

class Dsa final : public Mla {
 public:
  std::string_view name() const override { return "dsa"; }

  PartParams params(const ModelSpec& m) const override {
    PartParams p = Mla::params(m);
    const double idx = indexer_params(m);
    p.total += idx;
    p.active += idx;
    p.norms += 2.0 * m.sparse_attention->indexer_head_dim;  // the key's LayerNorm
    return p;
  }
  // The indexer's query heads split over TP like the attention's; its one
  // key projection is replicated.
  GpuParams params_per_gpu(const ModelSpec& m, const Parallelism& p, const PartParams& whole) const override {
    const SparseAttentionSpec& a = *m.sparse_attention;
    const double key = static_cast<double>(m.hidden) * a.indexer_head_dim;
    // Mla's split takes the indexer with the up-projections; the key
    // projection is whole on every GPU.
    GpuParams g = Mla::params_per_gpu(m, p, whole);
    g.dense += key - key / p.tp;
    return g;
  }

  // By the report convention's count of every key a query may see: the
  // core over min(seq, top_k) keys, and the indexer's scores over the whole
  // sequence.
  double core_flops(const ModelSpec& m, const LayerPart& part, double tokens) const override {
    const SparseAttentionSpec& a = *m.sparse_attention;
    const double indexer = 2.0 * tokens * static_cast<double>(m.seq_len) * a.indexer_heads * a.indexer_head_dim;
    return attention_flops(m, part, tokens) + indexer;
  }

  double activation_bytes(const LayerContext& c, const LayerPart& part) const override {
    const SparseAttentionSpec& a = *c.m.sparse_attention;
    // The indexer's queries, key and head weights, and the selected keys'
    // indices (int32, on every TP rank).
    const double indexer =
        c.tokens * (kActBytes * ((a.indexer_heads / c.tp + 1.0) * a.indexer_head_dim + a.indexer_heads / c.tp) +
                    4.0 * std::min(static_cast<double>(a.top_k), c.seq));
    return Mla::activation_bytes(c, part) + indexer;
  }

 protected:
  double attention_flops(const ModelSpec& m, const LayerPart&, double tokens) const override {
    const MlaSpec& a = *m.mla;
    const double keys = std::min(static_cast<double>(m.seq_len), static_cast<double>(m.sparse_attention->top_k));
    return 2 * tokens * keys * m.heads * (a.qk_head_dim() + a.v_head_dim);
  }
  // A query at position i sees min(i, top_k) keys: top_k (1 - top_k / 2L)
  // on average once L exceeds top_k, half the sequence before.
  double keys_seen(const LayerContext& c, const LayerPart&) const override {
    const double k = c.m.sparse_attention->top_k;
    return k >= c.seq ? c.seq / 2 : k * (1 - k / (2 * c.seq));
  }
  std::vector<Linear> inputs(const LayerContext& c) const override {
    const SparseAttentionSpec& a = *c.m.sparse_attention;
    std::vector<Linear> in = Mla::inputs(c);
    const double latent = c.m.mla->q_lora_rank > 0 ? c.m.mla->q_lora_rank : c.h;
    in.push_back({"indexer q projection", "indexer q projection dgrad", "indexer q projection wgrad", c.tokens,
                  a.indexer_heads / c.tp * a.indexer_head_dim, latent});
    in.push_back({"indexer key and weights", "indexer key and weights dgrad", "indexer key and weights wgrad", c.tokens,
                  a.indexer_head_dim + a.indexer_heads / c.tp, c.h});
    return in;
  }
  // The indexer's scores: one product (q k^T, half of what an attention
  // kernel's count holds) over every earlier key, on this GPU's indexer
  // heads; the fp32 logits written, then read by the top-k.
  void select_keys(const LayerContext& c, std::vector<WorkItem>& w, bool forward) const override {
    const SparseAttentionSpec& a = *c.m.sparse_attention;
    WorkItem s;
    ComputeOp& op = s.compute;
    op.name = forward ? "indexer scores" : "indexer scores backward";
    op.kind = forward ? OpKind::attention_forward : OpKind::attention_backward;
    op.m = c.seq / c.cp;
    op.n = c.seq / 2;
    op.k = a.indexer_head_dim;
    op.count = 0.5 * c.t.micro_batch * a.indexer_heads / c.tp;
    op.flops = (forward ? 1.0 : 2.0) * 2.0 * c.tokens * c.seq * a.indexer_heads / c.tp * a.indexer_head_dim;
    const double logits = c.tokens * (c.seq / 2) * 4.0;
    op.bytes = forward ? logits : 2.0 * logits;
    w.push_back(s);
    if (forward) w.push_back(memory_op("indexer top-k", logits));
  }

 private:
  // The indexer: its query up-projection from the query latent, the shared
  // key and the per-head weights from the hidden state.
  static double indexer_params(const ModelSpec& m) {
    const SparseAttentionSpec& a = *m.sparse_attention;
    const double h = static_cast<double>(m.hidden);
    const double latent = m.mla->q_lora_rank > 0 ? m.mla->q_lora_rank : h;
    return latent * a.indexer_heads * a.indexer_head_dim + h * a.indexer_head_dim + h * a.indexer_heads;
  }
};

}  // namespace

std::unique_ptr<LayerKind> make_dsa_layer() { return std::make_unique<Dsa>(); }

}  // namespace danlu
