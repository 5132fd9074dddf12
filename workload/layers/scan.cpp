#include "workload/layers/scan.hpp"

namespace danlu {

namespace {
// conv1d: read and write its channels (the SiLU fused in). Gated norm: read
// the scan's output and the gate, write the output projection's input.
double conv_bytes(const LayerContext& c, const ScanShape& s) {
  return 2.0 * c.tokens * s.conv_width / c.tp * kActBytes;
}
double norm_bytes(const LayerContext& c, const ScanShape& s) {
  return 3.0 * c.tokens * s.norm_width / c.tp * kActBytes;
}
}  // namespace

// The chunked scan on this GPU's heads: its inputs and output through HBM,
// and every chunk's state (fp32) written and read back. Its kernels
// (mamba_ssm's SSD, flash-linear-attention) run about twice the forward's
// products in the backward, recomputing the states, and move twice the
// traffic.
WorkItem ScanKind::scan(const LayerContext& c, const LayerPart& part, bool forward) const {
  const ScanShape s = shape(c.m);
  WorkItem w;
  ComputeOp& op = w.compute;
  op.name = s.vector_units ? (forward ? "selective scan" : "selective scan backward")
                           : (forward ? "chunked scan" : "chunked scan backward");
  op.kind = s.vector_units ? OpKind::vector_scan : forward ? OpKind::scan_forward : OpKind::scan_backward;
  op.flops = core_flops(c.m, part, c.tokens) / c.tp * (forward ? 1.0 : 2.0);
  op.m = c.tokens;
  op.n = s.chunk;
  op.k = s.head_dim;
  const double io = c.tokens * s.io_width / c.tp * kActBytes;
  const double states = c.tokens / s.chunk * (s.heads / c.tp) * s.state * 4.0 * 2.0;
  op.bytes = (io + states) * (forward ? 1.0 : 2.0);
  return w;
}

void ScanKind::forward(const LayerContext& c, const LayerPart& part, std::vector<WorkItem>& w, bool) const {
  const ScanShape s = shape(c.m);
  c.tp_enter(w, false);
  for (const Linear& l : inputs(c)) c.linear_forward(w, l);
  w.push_back(memory_op("conv1d", conv_bytes(c, s)));
  w.push_back(scan(c, part, true));
  if (s.norm_width > 0) w.push_back(memory_op("gated norm", norm_bytes(c, s)));
  c.linear_forward(w, out_proj(c));
  c.tp_exit(w, false);
}

void ScanKind::backward(const LayerContext& c, const LayerPart& part, PassWork& p) const {
  const ScanShape s = shape(c.m);
  std::vector<WorkItem>& w = p.backward;
  c.tp_exit(w, true);
  c.linear_backward(p, out_proj(c));
  if (s.norm_width > 0) w.push_back(memory_op("gated norm backward", 2.0 * norm_bytes(c, s)));
  w.push_back(scan(c, part, false));
  w.push_back(memory_op("conv1d backward", 2.0 * conv_bytes(c, s)));
  const std::vector<Linear> in = inputs(c);
  for (auto it = in.rbegin(); it != in.rend(); ++it) c.linear_backward(p, *it);
  c.tp_enter(w, true);
}

}  // namespace danlu
