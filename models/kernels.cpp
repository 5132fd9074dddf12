#include "models/kernels.hpp"

#include <algorithm>
#include <cmath>

namespace danlu {

double gemm_shape_efficiency(const KernelFigures& f, const ComputeConstants& c, double m, double n, double k) {
  if (m <= 0 || n <= 0 || k <= 0) return 1.0;
  // Tiles of the output, dealt to the compute units in waves: the last wave
  // may run part-empty, and edge tiles compute padding. Libraries pick a
  // smaller tile for a narrow GEMM; a tile of half the area reuses each
  // operand less and runs at ~90% of the full tile's rate (quarter: ~80%).
  const double units = std::max(1, f.compute_units);
  auto fill = [&](double tm, double tn) {
    const double tiles = std::ceil(m / tm) * std::ceil(n / tn);
    const double waves = std::ceil(tiles / units);
    return (m * n) / (waves * units * tm * tn);
  };
  const double tm = f.tile_m, tn = f.tile_n;
  const double best =
      std::max({fill(tm, tn), 0.9 * fill(tm, tn / 2), 0.9 * fill(tm / 2, tn), 0.8 * fill(tm / 2, tn / 2)});
  // The large-GEMM figure is measured at k of several thousand; a short inner
  // loop pays its fixed per-tile cost over fewer steps.
  const double k_ref = 8192;
  const double k_term = (k / (k + c.gemm_k_half)) / (k_ref / (k_ref + c.gemm_k_half));
  return std::min(1.0, best) * std::min(1.0, k_term);
}

bool per_expert_gemms(const KernelContext& ctx) { return ctx.acc->kernels.launch_s > 0; }

namespace {

// The fraction of the fp32 vector peak a fused recurrence kernel sustains
// (Mamba-1's selective_scan_cuda: one exp and a few multiply-adds per
// channel and state, one thread per channel slice, states in registers).
// Estimated, 0.3-0.7: the exponential runs on the special-function units at
// a quarter of the FMA rate, and the scan's sequential dependence leaves
// part of each warp idle. No public measurement pins it.
constexpr double kVectorScanEfficiency = 0.5;

double attention_efficiency(const KernelFigures& f, const ComputeConstants& c, const ComputeOp& op) {
  const bool forward = op.kind == OpKind::attention_forward || op.kind == OpKind::scan_forward;
  const double base = forward ? f.attention_forward : f.attention_backward;
  // The figures are for long sequences at head_dim 128.
  const double seq = op.n / (op.n + c.attention_seq_half);
  const double hd = (op.k / (op.k + c.attention_head_dim_half)) / (128.0 / (128.0 + c.attention_head_dim_half));
  return base * seq * std::min(1.0, hd);
}

// A grouped GEMM's rate against a dense GEMM of its shape: each expert's
// fixed costs (its tile tails, prologue and epilogue) over the rows it
// holds, and, where the framework runs one GEMM per expert on several
// streams (eager frameworks: Transformer Engine's GroupedLinear), their
// contention. A compiled grouped kernel (XLA's megablox) is one kernel over
// the groups, as DeepGEMM's contiguous layout: ~0.95-1.0 of dense at 4-8k
// rows per group on H800 [S4].
double grouped_gemm_efficiency(const ComputeOp& op, const KernelContext& ctx) {
  const ComputeConstants& c = *ctx.constants;
  const double per_group = op.group_rows > 0 ? op.group_rows / (op.group_rows + c.grouped_gemm_rows_half) : 1.0;
  return (per_expert_gemms(ctx) ? c.grouped_gemm : 1.0) * per_group;
}

}  // namespace

double op_kernels(const ComputeOp& op, const KernelContext& ctx) {
  return op.kernels * (op.grouped && per_expert_gemms(ctx) ? op.count : 1.0);
}

double op_time(const ComputeOp& op, const KernelContext& ctx) {
  const Accelerator& a = *ctx.acc;
  const KernelFigures& f = a.kernels;
  const ComputeConstants& c = *ctx.constants;
  const double bw = a.hbm_bytes_per_s * f.hbm_efficiency;
  double t = 0;
  switch (op.kind) {
    case OpKind::gemm: {
      const Precision p = op.low_precision ? ctx.low : ctx.high;
      const double sustained = c.gemm_sustained * (bytes_per_element(p) < 2.0 ? c.gemm_sustained_low : 1.0);
      const double grouped = op.grouped ? grouped_gemm_efficiency(op, ctx) : 1.0;
      const double rate = a.peak(p) * f.gemm(p) * sustained * grouped * gemm_shape_efficiency(f, c, op.m, op.n, op.k);
      const double flops = 2.0 * op.m * op.n * op.k * op.count;
      // Operands in the GEMM's precision, the output in 16 bits.
      const double in = bytes_per_element(p);
      const double bytes = op.count * ((op.m * op.k + op.k * op.n) * in + op.m * op.n * 2.0) + op.bytes;
      t = std::max(flops / rate, bytes / bw);
      break;
    }
    case OpKind::attention_forward:
    case OpKind::attention_backward: {
      // QK^T and PV: 4 m n k per head; the backward recomputes QK^T and adds
      // three more products (2.5x, as FlashAttention counts it).
      const double scale = op.kind == OpKind::attention_forward ? 1.0 : 2.5;
      const double flops = 4.0 * op.m * op.n * op.k * op.count * scale;
      const double rate = a.peak(ctx.high) * attention_efficiency(f, c, op);
      t = std::max(flops / rate, op.bytes / bw);
      break;
    }
    case OpKind::scan_forward:
    case OpKind::scan_backward:
      // The chunked scan's kernels (mamba_ssm's SSD, flash-linear-attention)
      // are tiled like a fused attention kernel whose keys are one chunk:
      // its rate at that key length and head width. Their chunk states
      // (fp32) go through HBM, which often binds instead.
      t = std::max(op.flops / (a.peak(ctx.high) * attention_efficiency(f, c, op)), op.bytes / bw);
      break;
    case OpKind::vector_scan: {
      // fp32 on the vector units (CUDA cores), exponentials included. A
      // chip that publishes no fp32 vector rate (TPUs) gets the bytes
      // alone: an optimistic bound.
      const double fp32 = a.peak(Precision::fp32) * kVectorScanEfficiency;
      t = std::max(fp32 > 0 ? op.flops / fp32 : 0.0, op.bytes / bw);
      break;
    }
    case OpKind::memory: t = op.bytes / bw; break;
    case OpKind::host_transfer: return op.bytes / ctx.host_bytes_per_s;
    case OpKind::host_sync:
      // Only a framework that launches kernels from the host waits for it;
      // a compiled program (XLA) has static shapes and no such sync.
      return a.kernels.launch_s > 0 ? c.host_sync_s : 0.0;
  }
  return t + op_kernels(op, ctx) * c.kernel_gap_s;
}

double op_host_time(const ComputeOp& op, const KernelContext& ctx) {
  double t = op_kernels(op, ctx) * ctx.launch_s;
  if (op.grouped) t += op.count * ctx.group_dispatch_s;
  return t;
}

KernelContext make_kernel_context(const Accelerator& acc, const TrainingSpec& t, const ComputeConstants& c,
                                  double host_bytes_per_s) {
  KernelContext k;
  k.host_bytes_per_s = host_bytes_per_s;
  k.acc = &acc;
  k.constants = &c;
  k.low = t.precision;
  // Below 16 bits only the recipe's GEMMs run low; attention, the output
  // layer and the router stay in bf16.
  const bool sub16 = t.precision == Precision::fp8 || t.precision == Precision::fp6 || t.precision == Precision::fp4;
  k.high = sub16 ? Precision::bf16 : t.precision;
  // Graphs replay captured launches without the host: partial capture (the
  // attention and router parts) removes about half of them.
  const double host_share = t.cuda_graphs == CudaGraphs::full ? 0.0 : t.cuda_graphs == CudaGraphs::partial ? 0.5 : 1.0;
  k.launch_s = acc.kernels.launch_s * host_share;
  // Partial capture (attention, router, preprocessing) leaves the experts
  // eager; a captured iteration replays their per-expert GEMMs too.
  const bool eager_experts = per_expert_gemms(k) && t.cuda_graphs != CudaGraphs::full;
  k.group_dispatch_s = eager_experts ? c.grouped_gemm_group_s : 0.0;
  return k;
}

QuantizeCost quantize_cost(const TrainingSpec& t) {
  if (t.precision == Precision::fp8) {
    switch (t.fp8_recipe) {
      case Fp8Recipe::tensorwise: return {6.0, 2};
      case Fp8Recipe::delayed: return {4.0, 1};
      case Fp8Recipe::mxfp8: return {2.0 + 2.0 * (1.0 + 1.0 / 32), 1};
      case Fp8Recipe::blockwise: return {2.0 + 2.0 * (1.0 + 4.0 / 128), 1};
    }
  }
  if (t.precision == Precision::fp4)
    return t.fp4_recipe == Fp4Recipe::nvfp4 ? QuantizeCost{2.0 + 2.0 + 2.0 * (0.5 + 1.0 / 16) + 1.0, 2}
                                            : QuantizeCost{2.0 + 2.0 * (0.5 + 1.0 / 32), 1};
  if (t.precision == Precision::fp6) return {2.0 + 2.0 * (0.75 + 1.0 / 32), 1};
  return {};
}

}  // namespace danlu
