// The stack of layers and what is counted over it: parameters and model FLOPs.
#include <stdexcept>

#include "workload/block.hpp"

namespace danlu {

std::string_view to_string(Activation a) {
  return a == Activation::swiglu ? "swiglu" : a == Activation::gelu ? "gelu" : "relu2";
}

double ffn_matrices(const ModelSpec& m) { return m.activation == Activation::swiglu ? 3.0 : 2.0; }

namespace {

// The attention kind of a full (or windowed) attention layer of the model.
const LayerKind& attention_of(const ModelSpec& m) {
  return layer_kind(!m.mla ? "attention" : m.sparse_attention ? "dsa" : "mla");
}

// One layer as the patterns (or, without them, the model's fields) make it.
LayerType layer_type(const ModelSpec& m, int layer) {
  const size_t l = static_cast<size_t>(layer);
  LayerType t;
  if (!m.hybrid_pattern.empty()) {
    // Nemotron-H: every layer one part.
    switch (m.hybrid_pattern[l]) {
      case 'M': t.parts.push_back({&layer_kind("mamba2"), 0}); break;
      case '*': t.parts.push_back({&attention_of(m), 0}); break;
      case '-': t.parts.push_back({&layer_kind("mlp"), 0}); break;
      default: t.parts.push_back({&layer_kind("moe"), 0}); break;  // 'E'
    }
    return t;
  }
  char mixer = 'A';
  if (!m.mixer_pattern.empty())
    mixer = m.mixer_pattern[l];
  else if (m.sliding_window > 0 && m.global_every > 0 && (layer + 1) % m.global_every != 0)
    mixer = 'W';
  switch (mixer) {
    case 'M': t.parts.push_back({&layer_kind("mamba2"), 0}); break;
    case 'S': t.parts.push_back({&layer_kind("mamba1"), 0}); break;
    case 'L': t.parts.push_back({&layer_kind("linear_attention"), 0}); break;
    case 'W': t.parts.push_back({&attention_of(m), m.sliding_window}); break;
    default: t.parts.push_back({&attention_of(m), 0}); break;  // 'A'
  }
  const bool moe = !m.ffn_pattern.empty() ? m.ffn_pattern[l] == 'E' : m.moe && layer >= m.moe->dense_layers;
  t.parts.push_back({&layer_kind(moe ? "moe" : "mlp"), 0});
  return t;
}

}  // namespace

void build_stack(ModelSpec& m) {
  auto type_of = [&](int layer) { return layer_type(m, layer); };
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
