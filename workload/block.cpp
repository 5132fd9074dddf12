#include "workload/block.hpp"

namespace danlu {

bool LayerType::routed() const {
  for (const LayerPart& p : parts)
    if (p.kind->routed()) return true;
  return false;
}

bool LayerType::windowed() const {
  for (const LayerPart& p : parts)
    if (p.window > 0) return true;
  return false;
}

double TypeParams::total() const {
  double sum = norms;
  for (const PartParams& p : parts) sum += p.total;
  return sum;
}

double TypeParams::active() const {
  double sum = norms;
  for (const PartParams& p : parts) sum += p.active;
  return sum;
}

double TypeParams::routed() const {
  double sum = 0;
  for (const PartParams& p : parts) sum += p.routed;
  return sum;
}

TypeParams type_params(const ModelSpec& m, const LayerType& type) {
  TypeParams out;
  out.norms = static_cast<double>(type.parts.size()) * static_cast<double>(m.hidden);
  for (const LayerPart& part : type.parts) {
    out.parts.push_back(part.kind->params(m));
    out.norms += out.parts.back().norms;
  }
  return out;
}

PartList<GpuParams> type_params_per_gpu(const ModelSpec& m, const Parallelism& p, const LayerType& type,
                                        const TypeParams& whole) {
  PartList<GpuParams> out;
  for (size_t i = 0; i < type.parts.size(); ++i) {
    out.push_back(type.parts[i].kind->params_per_gpu(m, p, whole.parts[i]));
    // Norms are small and replicated on every TP rank.
    if (i == 0) out.back().dense += whole.norms;
  }
  return out;
}

LayerFlops type_forward_flops(const ModelSpec& m, const LayerType& type, double tokens) {
  LayerFlops f;
  for (const LayerPart& part : type.parts) {
    const PartParams params = part.kind->params(m);
    f.weights += 2 * tokens * (params.active - params.vectors);
    f.core += part.kind->core_flops(m, part, tokens);
  }
  return f;
}

double type_activation_bytes(const LayerContext& c, const LayerType& type) {
  // Full recomputation keeps only the layer's input.
  if (c.recompute == Recompute::full) return 2.0 * c.tokens * c.h / c.rep;
  // Outside the TP region, per part: its norm's input (16-bit) and output,
  // which is the first GEMM's input (recomputed with layernorm); dropout masks.
  const double n = static_cast<double>(type.parts.size());
  const double norm_outputs = c.again(RecomputeModule::layernorm) ? 0.0 : n * saved_gemm_input_bytes(c.t);
  double bytes = ((2.0 * n + norm_outputs) * c.tokens * c.h + (c.m.dropout ? n * c.tokens * c.h : 0.0)) / c.rep;
  for (const LayerPart& part : type.parts) bytes += part.kind->activation_bytes(c, part);
  return bytes;
}

double type_zero3_gathered(const ModelSpec& m, const LayerType& type, const TypeParams& whole) {
  double sum = 0;
  for (size_t i = 0; i < type.parts.size(); ++i) sum += type.parts[i].kind->zero3_gathered(m, whole.parts[i]);
  return sum;
}

double type_zero3_buffer(const ModelSpec& m, const LayerType& type, const TypeParams& whole) {
  double sum = 0;
  for (size_t i = 0; i < type.parts.size(); ++i) sum += type.parts[i].kind->zero3_buffer(m, whole.parts[i]);
  return sum;
}

namespace {
WorkItem zero3(const LayerContext& c, const char* name, Collective op, double params) {
  return comm(name, CommKind::dp, op, params / c.tp * kActBytes, c.dp_group(), c.t.overlap.dp_comm);
}
}  // namespace

std::vector<WorkItem> lower_layer_forward(const LayerContext& c, const LayerType& type, const TypeParams& whole,
                                          bool repeat) {
  std::vector<WorkItem> w;
  const double dropout = c.m.dropout ? 4.0 : 0.0;
  if (c.t.zero == 3 && !repeat)
    w.push_back(zero3(c, "zero-3 weight all-gather", Collective::all_gather, type_zero3_gathered(c.m, type, whole)));
  w.push_back(memory_op("input norm", c.outside(4.0)));
  for (size_t i = 0; i < type.parts.size(); ++i) {
    if (i > 0) w.push_back(memory_op("residual add + norm", c.outside(10.0 + dropout), 2));
    type.parts[i].kind->forward(c, type.parts[i], w, repeat);
  }
  w.push_back(memory_op("residual add", c.outside(6.0 + dropout)));
  return w;
}

// The backward mirrors the forward, parts in reverse. Full recomputation
// first repeats the layer's forward, selective the modules it names, each
// before its own backward.
PassWork lower_layer(const LayerContext& c, const LayerType& type, const TypeParams& whole) {
  PassWork p;
  p.forward = lower_layer_forward(c, type, whole, false);
  std::vector<WorkItem>& w = p.backward;
  // Offloaded activations leave during the forward and come back before
  // the backward needs them, beside the compute.
  if (c.offload) {
    const double bytes = type_activation_bytes(c, type);
    p.forward.push_back(host_copy("activation offload", bytes));
    w.push_back(host_copy("activation reload", bytes));
  }
  if (c.recompute == Recompute::full) {
    std::vector<WorkItem> again = lower_layer_forward(c, type, whole, true);
    w.insert(w.end(), again.begin(), again.end());
  }
  const double gathered = type_zero3_gathered(c.m, type, whole);
  if (c.t.zero == 3) w.push_back(zero3(c, "zero-3 weight all-gather", Collective::all_gather, gathered));
  // Recomputed norms: each part's, from their kept inputs.
  const int n = static_cast<int>(type.parts.size());
  if (c.again(RecomputeModule::layernorm)) w.push_back(memory_op("recompute norms", c.outside(4.0 * n), n));
  w.push_back(memory_op("residual add backward", c.outside(6.0)));
  for (int i = n - 1; i >= 0; --i) {
    if (i < n - 1) w.push_back(memory_op("norm backward + residual", c.outside(12.0 + (c.m.dropout ? 4.0 : 0.0)), 2));
    type.parts[static_cast<size_t>(i)].kind->backward(c, type.parts[static_cast<size_t>(i)], p);
  }
  w.push_back(memory_op("input norm backward", c.outside(6.0)));
  if (c.t.zero == 3) w.push_back(zero3(c, "zero-3 gradient reduce-scatter", Collective::reduce_scatter, gathered));
  return p;
}

}  // namespace danlu
