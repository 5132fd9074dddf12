#include "workload/context.hpp"

namespace danlu {

void PassWork::append(const PassWork& o) {
  forward.insert(forward.end(), o.forward.begin(), o.forward.end());
  backward.insert(backward.end(), o.backward.begin(), o.backward.end());
  weight_grad.insert(weight_grad.end(), o.weight_grad.begin(), o.weight_grad.end());
}

double saved_gemm_input_bytes(const TrainingSpec& t) {
  if (bytes_per_element(t.precision) >= 2.0) return 2.0;
  // The element plus its share of a block scale (1 byte per 32 for MX
  // formats, per 16 for NVFP4, per 128 for blockwise; per tensor otherwise).
  double scale = 0;
  if (t.precision == Precision::fp8)
    scale = t.fp8_recipe == Fp8Recipe::mxfp8 ? 1.0 / 32 : t.fp8_recipe == Fp8Recipe::blockwise ? 4.0 / 128 : 0.0;
  else if (t.precision == Precision::fp4)
    scale = t.fp4_recipe == Fp4Recipe::nvfp4 ? 1.0 / 16 : 1.0 / 32;
  return bytes_per_element(t.precision) + scale;
}

WorkItem memory_op(const char* name, double bytes, int kernels) {
  WorkItem w;
  w.compute.name = name;
  w.compute.kind = OpKind::memory;
  w.compute.bytes = bytes;
  w.compute.kernels = kernels;
  return w;
}

WorkItem host_copy(const char* name, double bytes) {
  WorkItem w = memory_op(name, bytes);
  w.compute.kind = OpKind::host_transfer;
  w.compute.kernels = 0;
  return w;
}

WorkItem comm(const char* name, CommKind kind, Collective op, double bytes, int group, bool overlappable) {
  WorkItem w;
  w.is_comm = true;
  w.comm.name = name;
  w.comm.kind = kind;
  w.comm.op = op;
  w.comm.bytes = bytes;
  w.comm.group = group;
  w.comm.overlappable = overlappable;
  return w;
}

LayerContext::LayerContext(const ModelSpec& model, const TrainingSpec& training, Recompute rc, bool off)
    : m(model),
      t(training),
      tp(training.par.tp),
      cp(training.par.cp),
      ep(training.par.ep),
      seq(static_cast<double>(model.seq_len)),
      tokens(static_cast<double>(model.seq_len) / training.par.cp * training.micro_batch),
      h(static_cast<double>(model.hidden)),
      sp(training.sequence_parallel && training.par.tp > 1),
      rep(sp ? tp : 1.0),
      zb(training.schedule->splits_weight_grad()),
      lowp(bytes_per_element(training.precision) < 2.0),
      quant(quantize_cost(training)),
      recompute(rc),
      offload(off) {}

void LayerContext::tp_enter(std::vector<WorkItem>& w, bool backward) const {
  if (!tp_on()) return;
  if (sp)
    w.push_back(comm(backward ? "tp reduce-scatter" : "tp all-gather", CommKind::tp,
                     backward ? Collective::reduce_scatter : Collective::all_gather, act(), t.par.tp,
                     t.overlap.tp_comm));
  else if (backward)
    w.push_back(comm("tp all-reduce", CommKind::tp, Collective::all_reduce, act(), t.par.tp, t.overlap.tp_comm));
}

void LayerContext::tp_exit(std::vector<WorkItem>& w, bool backward) const {
  if (!tp_on()) return;
  if (sp)
    w.push_back(comm(backward ? "tp all-gather" : "tp reduce-scatter", CommKind::tp,
                     backward ? Collective::all_gather : Collective::reduce_scatter, act(), t.par.tp,
                     t.overlap.tp_comm));
  else if (!backward)
    w.push_back(comm("tp all-reduce", CommKind::tp, Collective::all_reduce, act(), t.par.tp, t.overlap.tp_comm));
}

WorkItem LayerContext::gemm(const char* name, double gm, double gn, double gk, double count, bool low,
                            double quantised) const {
  WorkItem w;
  ComputeOp& c = w.compute;
  c.name = name;
  c.kind = OpKind::gemm;
  c.m = gm;
  c.n = gn;
  c.k = gk;
  c.count = count;
  c.flops = 2.0 * gm * gn * gk * count;
  c.low_precision = low && lowp;
  if (c.low_precision && quantised > 0) {
    c.bytes = quantised * quant.bytes_per_element;
    c.kernels += quant.kernels;
  }
  return w;
}

namespace {
// The experts' GEMMs are grouped; each expert holds the layer's m rows
// in all three (the weight gradient's inner dimension).
void mark_grouped(WorkItem& w, const Linear& l) {
  w.compute.grouped = l.grouped;
  if (l.grouped) w.compute.group_rows = l.m;
}
}  // namespace

void LayerContext::linear_forward(std::vector<WorkItem>& w, const Linear& l) const {
  w.push_back(gemm(l.fwd, l.m, l.n, l.k, l.count, l.low_precision, l.m * l.k * l.count));
  mark_grouped(w.back(), l);
}

void LayerContext::linear_backward(PassWork& p, const Linear& l) const {
  p.backward.push_back(gemm(l.dgrad, l.m, l.k, l.n, l.count, l.low_precision, l.m * l.n * l.count));
  mark_grouped(p.backward.back(), l);
  auto& wg = zb ? p.weight_grad : p.backward;
  wg.push_back(gemm(l.wgrad, l.k, l.n, l.m, l.count, l.low_precision, 0));
  mark_grouped(wg.back(), l);
}

}  // namespace danlu
