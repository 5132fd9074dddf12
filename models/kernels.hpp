// The compute model: the time of one kernel (or a short run of kernels) on
// one accelerator, from the accelerator's own physical figures.
//
// - GEMMs run at the chip's achievable large-GEMM throughput for their
//   precision (a fraction of the dense peak, from public cuBLAS, hipBLASLt and
//   XLA measurements) times a shape efficiency: the output is cut into tiles
//   that fill the chip's compute units in waves, so a GEMM whose tiles leave
//   the last wave part-empty, or whose inner dimension is short, runs below
//   the large-GEMM figure. The operands' HBM traffic bounds it from below.
// - Attention is a FlashAttention-class fused kernel with its own achieved
//   fraction of the 16-bit peak, forward and backward apart; causal masking
//   halves its work; short sequences and narrow heads run below the figure.
// - Memory-bound kernels (norms, activations, casts, transposes, the loss,
//   the optimizer) are costed by their bytes at the achievable HBM bandwidth.
// - Every kernel leaves a gap on the GPU before the next one, and the host
//   must launch it; a kernel shorter than its launch waits for the host unless
//   CUDA graphs (or an XLA program) replay it.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "models/hardware.hpp"
#include "models/training.hpp"

namespace danlu {

// host_transfer: activations copied to or from host memory by a copy engine
// (offloading); it runs beside the compute of its pass, and only what the
// compute cannot cover delays the pass.
// host_sync: the host waits for the GPU (a device-to-host copy the next
// launches depend on, such as MoE token counts): the launch queue drains.
// scan_*: a chunked linear recurrence (Mamba-2's SSD, gated DeltaNet):
// chunk-sized matrix products with a state carried between chunks.
enum class OpKind : std::uint8_t {
  gemm,
  attention_forward,
  attention_backward,
  scan_forward,
  scan_backward,
  vector_scan,  // a recurrence on the vector units in fp32 (Mamba-1's selective scan)
  memory,
  host_transfer,
  host_sync
};

// One compute op of the schedule, per GPU. `flops` is the report convention's
// count (full, not causal, attention; what HFU counts); the time comes from
// the kind-specific fields.
struct ComputeOp {
  const char* name = "";  // a static string: ops are built in the analytic engine's hot loop
  int layer = -1;         // the model layer it belongs to (-1: none)
  OpKind kind = OpKind::memory;
  double flops = 0;  // executed, report convention
  double bytes = 0;  // memory ops: HBM bytes read + written; others: extra traffic (casts fused in)
  // gemm: `count` independent products of [m x k] by [k x n] (experts run
  // `count` per GPU); attention: m = query tokens per sequence on this GPU,
  // n = key tokens they see on average (causal: about half), k = head_dim,
  // count = sequences x heads on this GPU. scan: `flops` is all it runs,
  // n = its chunk length, k = its head width.
  double m = 0, n = 0, k = 0, count = 1;
  // gemm: runs in the recipe's low precision (fp8/fp4) when training in one;
  // otherwise (attention scores, the output layer, the router) in bf16.
  bool low_precision = false;
  bool grouped = false;   // gemm: one grouped GEMM over experts (not a batched one)
  double group_rows = 0;  // grouped: the tokens each expert holds (m of its forward GEMM)
  int kernels = 1;        // launches this op stands for

  bool on_matrix_units() const {
    return kind == OpKind::gemm || kind == OpKind::attention_forward || kind == OpKind::attention_backward ||
           kind == OpKind::scan_forward || kind == OpKind::scan_backward;
  }
};

// Global constants of the compute model: the same for every chip and run,
// each a physical quantity with a documented range; the calibration profile
// may refit them (models/calibration.hpp).
struct ComputeConstants {
  // Fraction of a microbenchmark's large-GEMM rate that a training step's
  // GEMMs sustain: clocks held lower under the power cap through a long
  // step than in a short benchmark burst, L2 and HBM shared with the other
  // kernels, operands arriving cold.
  double gemm_sustained = 1.0;
  // The same for GEMMs below 16 bits, on top of gemm_sustained: an fp8 or
  // fp4 GEMM draws more power per second than a bf16 one, so under the same
  // cap its clocks fall further, and its shorter run pays a larger share of
  // fixed per-GEMM costs (scaling epilogues, wave tails).
  double gemm_sustained_low = 1.0;
  // Inner dimension at which a GEMM's fixed per-tile cost (prologue, epilogue,
  // the pipeline filling) equals its main loop: efficiency falls as k/(k+k0).
  double gemm_k_half = 64;
  // Sequence length at which a fused attention kernel reaches half its
  // long-sequence rate (per-tile setup and the softmax rescaling).
  double attention_seq_half = 256;
  // Head dimension at which attention reaches half its asymptotic rate
  // (FlashAttention-3: hd 64 runs at ~0.77 of hd 128).
  double attention_head_dim_half = 64;
  // GPU-side gap between dependent kernels (drain, launch latency, tail).
  double kernel_gap_s = 2e-6;
  // Fraction by which compute slows while an overlapped collective shares
  // the chip (its kernels take SMs and HBM bandwidth).
  double overlap_slowdown = 0.1;
  // Grouped GEMMs that an eager framework runs as one GEMM per expert on
  // several streams (Transformer Engine's GroupedLinear) reach this fraction
  // of a dense GEMM's rate at the same shape: the experts' GEMMs contend for
  // the SMs and each drains alone (torchao MXFP8 on B200: ~0.6; multi-stream
  // cuBLAS on GB200: ~0.74 of the best dense rate). A compiled grouped
  // kernel (XLA's megablox) is one kernel over the groups, as DeepGEMM's
  // contiguous layout is (~0.95-1.0 of dense at 4-8k rows per group).
  double grouped_gemm = 0.8;
  // Rows (tokens) per expert at which a grouped GEMM's per-expert fixed
  // costs (tile tails, prologue, epilogue, a kernel's ramp) equal its main
  // work: the rate falls as m/(m + m0). DeepGEMM on H800 keeps ~0.95, 0.81
  // and 0.72 of its large-group rate at 1024, 512 and 256 rows (m0 ~100).
  double grouped_gemm_rows_half = 256;
  // Host time per expert of a grouped GEMM where the framework runs it as
  // one GEMM per expert (Transformer Engine's GroupedLinear: per expert, a
  // split of the input, its quantisation in fp8 and a cuBLAS call, each a
  // Python-level dispatch). It is host time, not GPU time: the host issues
  // it while the GPU runs earlier kernels, so large per-expert GEMMs hide it
  // and many small ones wait for it (LaunchPipeline). A compiled grouped
  // kernel (XLA's ragged dot) has none, nor does an iteration captured in a
  // CUDA graph.
  double grouped_gemm_group_s = 10e-6;
  // A host sync's round trip: the GPU finishes its queue, the host reads the
  // result and launches again (cudaStreamSynchronize and a launch, ~20-50 us).
  double host_sync_s = 30e-6;
};

// How the run uses its kernels: the training precision and the recipe's
// matmul precision, and whether launches are replayed from a graph.
struct KernelContext {
  const Accelerator* acc = nullptr;
  const ComputeConstants* constants = nullptr;
  Precision low = Precision::bf16;   // the precision of low-precision GEMMs
  Precision high = Precision::bf16;  // everything else on the matrix units
  double launch_s = 0;               // host launch cost per kernel after graphs
  double group_dispatch_s = 0;       // host time per expert of a grouped GEMM after graphs
  double host_bytes_per_s = 0;       // per GPU and direction, to host memory
};

// Whether the framework runs a grouped GEMM as one GEMM per expert (eager
// frameworks launching from the host: Transformer Engine's GroupedLinear)
// rather than as one compiled kernel over the groups (XLA's megablox).
bool per_expert_gemms(const KernelContext& ctx);

KernelContext make_kernel_context(const Accelerator& acc, const TrainingSpec& t, const ComputeConstants& c,
                                  double host_bytes_per_s);

// What a low-precision recipe adds to each tensor a GEMM reads: HBM bytes per
// element to quantise it for both GEMMs it feeds (the forward and, transposed
// or column-wise, the weight gradient), and the kernels that takes.
// tensorwise: amax pass (read 2) + cast (read 2, write 1 + transposed 1) = 6;
// delayed: no amax pass = 4; mxfp8 / blockwise: read 2, write row- and
// column-wise copies with a scale per 32 (128) = 4.06; nvfp4: amax pass +
// read + two 4-bit copies with a scale per 16 + the Hadamard transform of the
// column-wise copy = 6.1; mxfp4: 3.1. bf16 and wider: nothing.
struct QuantizeCost {
  double bytes_per_element = 0;
  int kernels = 0;
};
QuantizeCost quantize_cost(const TrainingSpec& t);

// The shape efficiency of one GEMM: tile and wave quantisation times the
// inner-dimension term (1 for a large square GEMM).
double gemm_shape_efficiency(const KernelFigures& f, const ComputeConstants& c, double m, double n, double k);

// The host issues kernels in order and the GPU runs them in order as they
// arrive: a two-stage line. A kernel starts when the GPU is free and the
// host has issued it, so a stretch of many small kernels after a host sync
// (an empty queue) costs its launches and a stretch of large kernels its GPU
// time; the host gains on the GPU while large kernels and blocking
// collectives run. Times are from the start of the pass.
struct LaunchPipeline {
  double gpu_s = 0;   // when the GPU finishes the work issued so far
  double host_s = 0;  // when the host has issued it

  // An op of `pieces` equal kernels (or per-expert dispatches) taking gpu
  // seconds on the GPU and host seconds to issue: its first piece can start
  // once issued, its last once the host is done with it.
  void compute(double gpu, double host, double pieces) {
    const double n = std::max(1.0, pieces);
    const double first = std::max(gpu_s, host_s + host / n) + gpu;
    const double last = host_s + host + gpu / n;
    host_s += host;
    gpu_s = std::max(first, last);
  }
  // Work on the GPU's timeline that needs no host time beyond being issued
  // (a blocking collective).
  void busy(double gpu) { gpu_s = std::max(gpu_s, host_s) + gpu; }
  // The host waits for the GPU to drain its queue and reads a result: the
  // GPU idles for the round trip and the host starts again level with it.
  void sync(double round_trip) {
    gpu_s = std::max(gpu_s, host_s) + round_trip;
    host_s = gpu_s;
  }
};

// Time of one compute op, the gap after it included; a host transfer's time
// is the copy's own (engines overlap it with the pass's compute).
double op_time(const ComputeOp& op, const KernelContext& ctx);

// Host time to issue one compute op: each kernel's launch (after CUDA
// graphs), and a grouped GEMM's per-expert dispatch.
double op_host_time(const ComputeOp& op, const KernelContext& ctx);

// Kernels an op runs: an eager framework runs a grouped GEMM expert by
// expert, each expert its own GEMM and quantisation kernels. They are also
// the pieces the host issues it in.
double op_kernels(const ComputeOp& op, const KernelContext& ctx);
// Feeds one compute op to the launch pipeline.
inline void issue(LaunchPipeline& p, const ComputeOp& op, const KernelContext& ctx, double gpu_s, double host_s) {
  p.compute(gpu_s, host_s, op_kernels(op, ctx));
}

}  // namespace danlu
