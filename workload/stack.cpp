// The stack of layers and what is counted over it: parameters and model FLOPs.
#include <stdexcept>

#include "workload/block.hpp"

namespace danlu {

std::string_view to_string(Activation a) { return a == Activation::swiglu ? "swiglu" : "gelu"; }

double ffn_matrices(const ModelSpec& m) { return m.activation == Activation::swiglu ? 3.0 : 2.0; }

void build_stack(ModelSpec& m) {
  const LayerKind& mixer = layer_kind(m.mla ? "mla" : "attention");
  auto type_of = [&](int layer) {
    const bool windowed = m.sliding_window > 0 && m.global_every > 0 && (layer + 1) % m.global_every != 0;
    const bool moe = m.moe && layer >= m.moe->dense_layers;
    LayerType t;
    t.parts.push_back({&mixer, windowed ? m.sliding_window : 0});
    t.parts.push_back({&layer_kind(moe ? "moe" : "mlp"), 0});
    return t;
  };
  // Types are numbered by first appearance, full-sequence ones before
  // windowed ones: the engines add the types' costs in this order, so it
  // stays fixed from release to release.
  LayerStack s;
  for (bool window : {false, true})
    for (int l = 0; l < m.layers; ++l) {
      LayerType t = type_of(l);
      if (t.windowed() != window) continue;
      bool known = false;
      for (const LayerType& k : s.types) known = known || k == t;
      if (!known) s.types.push_back(std::move(t));
    }
  s.index.reserve(static_cast<size_t>(m.layers));
  s.count.assign(s.types.size(), 0);
  for (int l = 0; l < m.layers; ++l) {
    const LayerType t = type_of(l);
    for (size_t i = 0; i < s.types.size(); ++i)
      if (s.types[i] == t) s.index.push_back(static_cast<int>(i)), s.count[i] += 1;
  }
  m.stack = std::move(s);
}

namespace {
const LayerStack& built(const ModelSpec& m) {
  if (m.stack.index.size() != static_cast<size_t>(m.layers))
    throw std::logic_error("the model's layer stack is not built (build_stack)");
  return m.stack;
}
}  // namespace

ParamCounts count_params(const ModelSpec& m) {
  ParamCounts p;
  const double h = static_cast<double>(m.hidden);
  p.embedding = static_cast<double>(m.vocab) * h + (m.learned_positions ? static_cast<double>(m.seq_len) * h : 0.0);
  p.output = m.tied_embeddings ? 0.0 : static_cast<double>(m.vocab) * h;
  p.final_norm = h;
  p.total = p.embedding + p.output + p.final_norm;
  p.active = p.total;
  const LayerStack& stack = built(m);
  for (size_t i = 0; i < stack.types.size(); ++i) {
    p.types.push_back(type_params(m, stack.types[i]));
    const double count = stack.count[i];
    p.total += count * p.types.back().total();
    p.active += count * p.types.back().active();
    p.expert_total += count * p.types.back().routed();
  }
  // An MTP module: the hidden state and the next token's embedding, each
  // normed, concatenated and projected back (2h x h), then one layer of the
  // stack's last type; embedding and output head are shared.
  if (m.mtp_layers > 0)
    p.mtp = m.mtp_layers * (2 * h * h + 3 * h + p.types[static_cast<size_t>(stack.index.back())].total());
  return p;
}

double model_flops_per_token(const ModelSpec& m) {
  // Layers of one type cost the same: count each type once.
  double forward = logits_forward_flops(m, 1);
  const LayerStack& stack = built(m);
  for (size_t i = 0; i < stack.types.size(); ++i)
    forward += stack.count[i] * type_forward_flops(m, stack.types[i], 1).total();
  return 3.0 * forward;
}

LayerFlops layer_forward_flops(const ModelSpec& m, int layer, double tokens) {
  return type_forward_flops(m, m.stack.of(layer), tokens);
}

double logits_forward_flops(const ModelSpec& m, double tokens) {
  return 2 * tokens * static_cast<double>(m.hidden) * static_cast<double>(m.vocab);
}

}  // namespace danlu
