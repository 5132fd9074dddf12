// The per-kernel compute model (models/kernels.hpp), each figure against a
// hand calculation.
#include <doctest/doctest.h>

#include "models/kernels.hpp"
#include "sim/evaluate.hpp"
#include "tests/util.hpp"

using namespace danlu;
using doctest::Approx;

namespace {
// Llama 3 70B on 64 H100 at a published layout: long kernels, bf16 baseline.
constexpr const char* kLlama70bOn64H100 = R"(name: t
model: {preset: llama3-70b}
cluster: {system: dgx-h100, gpus: 64}
training: {global_batch: 256, parallelism: {tp: 4, pp: 8, vpp: 5}, recompute: none})";

KernelFigures h100_like() {
  KernelFigures f;
  f.gemm_efficiency[static_cast<size_t>(Precision::bf16)] = 0.8;
  f.gemm_efficiency[static_cast<size_t>(Precision::fp8)] = 0.7;
  f.attention_forward = 0.6;
  f.attention_backward = 0.5;
  f.hbm_efficiency = 0.9;
  f.compute_units = 132;
  f.tile_m = 128;
  f.tile_n = 256;
  f.launch_s = 5e-6;
  return f;
}
}  // namespace

TEST_CASE("GEMM shape efficiency: waves over the SMs, narrow outputs, short inner loops") {
  const KernelFigures f = h100_like();
  ComputeConstants c;
  c.gemm_k_half = 64;
  const double k_ref = 8192.0 / (8192 + 64);
  // 8192^3: 64 x 32 = 2048 tiles of 128x256 over 132 SMs is 15.5 waves, run
  // as 16: 2048 / (16 x 132) = 0.970 of the machine is busy.
  CHECK(gemm_shape_efficiency(f, c, 8192, 8192, 8192) == Approx(2048.0 / (16 * 132)).epsilon(1e-6));
  // n = 96 (an attention context GEMM): a 128x128 tile wastes less than a
  // 128x256 one; 256 tiles in 2 waves, 96/128 of each tile used, at 90% of a
  // full tile's rate; k = 2048 pays its per-tile cost: 2048/2112 / k_ref.
  const double narrow = 0.9 * (32768.0 * 96) / (2 * 132 * 128 * 128) * (2048.0 / 2112) / k_ref;
  CHECK(gemm_shape_efficiency(f, c, 32768, 96, 2048) == Approx(narrow).epsilon(1e-6));
  // A large GEMM never runs above the large-GEMM figure.
  CHECK(gemm_shape_efficiency(f, c, 1 << 16, 1 << 16, 1 << 16) <= 1.0);
}

TEST_CASE("op times: GEMMs at their precision's rate or their bytes, attention causal, memory ops by bytes") {
  Accelerator a;
  a.peak_flops[static_cast<size_t>(Precision::bf16)] = 1e15;
  a.peak_flops[static_cast<size_t>(Precision::fp8)] = 2e15;
  a.hbm_bytes_per_s = 3e12;
  a.kernels = h100_like();
  ComputeConstants c;
  c.gemm_k_half = 64;
  c.kernel_gap_s = 2e-6;
  c.gemm_sustained = 0.9;
  c.gemm_sustained_low = 0.8;
  KernelContext ctx{&a, &c, Precision::fp8, Precision::bf16, 0};

  ComputeOp mem;
  mem.kind = OpKind::memory;
  mem.bytes = 2.7e9;
  mem.kernels = 3;
  CHECK(op_time(mem, ctx) == Approx(2.7e9 / (3e12 * 0.9) + 3 * 2e-6));

  // A large fp8 GEMM: 2 m n k at 2e15 x 0.7 x 0.9 x 0.8 x shape.
  ComputeOp g;
  g.kind = OpKind::gemm;
  g.m = g.n = g.k = 8192;
  g.low_precision = true;
  const double shape = gemm_shape_efficiency(a.kernels, c, 8192, 8192, 8192);
  const double t_fp8 = 2.0 * 8192.0 * 8192 * 8192 / (2e15 * 0.7 * 0.9 * 0.8 * shape) + 2e-6;
  CHECK(op_time(g, ctx) == Approx(t_fp8));
  // The same GEMM kept in bf16 (the output layer): no low-precision factor.
  g.low_precision = false;
  CHECK(op_time(g, ctx) == Approx(2.0 * 8192.0 * 8192 * 8192 / (1e15 * 0.8 * 0.9 * shape) + 2e-6));
  // A GEMM with one row per expert is bound by reading its weights.
  ComputeOp thin = g;
  thin.m = 1;
  thin.k = thin.n = 4096;
  CHECK(op_time(thin, ctx) == Approx((4096.0 * 4096 * 2 + 4096 * 2 + 4096 * 2) / (3e12 * 0.9) + 2e-6).epsilon(1e-3));

  // Attention, 8 sequences x 32 heads of 8192 tokens at hd 128: queries see
  // half the keys on average (causal); the backward does 2.5x the work.
  ComputeOp at;
  at.kind = OpKind::attention_forward;
  at.m = 8192;
  at.n = 4096;
  at.k = 128;
  at.count = 8 * 32;
  const double seq = 4096.0 / (4096 + c.attention_seq_half);
  const double fwd = 4.0 * 8192 * 4096 * 128 * 256;
  CHECK(op_time(at, ctx) == Approx(fwd / (1e15 * 0.6 * seq) + 2e-6));
  at.kind = OpKind::attention_backward;
  CHECK(op_time(at, ctx) == Approx(2.5 * fwd / (1e15 * 0.5 * seq) + 2e-6));
  // Head dim 64 runs slower per FLOP than 128 (FlashAttention-3: ~0.77).
  at.k = 64;
  const double hd = (64.0 / (64 + c.attention_head_dim_half)) / (128.0 / (128 + c.attention_head_dim_half));
  CHECK(hd == Approx(0.75));
  CHECK(op_time(at, ctx) == Approx(2.5 * fwd / 2 / (1e15 * 0.5 * seq * hd) + 2e-6));
}

TEST_CASE("fp8 recipes: what quantising a tensor costs, and fp8 speeds up only the GEMMs") {
  TrainingSpec t;
  t.precision = Precision::fp8;
  t.fp8_recipe = Fp8Recipe::tensorwise;
  CHECK(quantize_cost(t).bytes_per_element == Approx(6.0));  // amax 2 + read 2 + write 1 + transposed 1
  CHECK(quantize_cost(t).kernels == 2);
  t.fp8_recipe = Fp8Recipe::mxfp8;
  CHECK(quantize_cost(t).bytes_per_element == Approx(2 + 2 * (1 + 1.0 / 32)));
  t.precision = Precision::bf16;
  CHECK(quantize_cost(t).bytes_per_element == 0);

  // Llama 3 70B on 64 H100: fp8 is faster than bf16, but far from the 2x of
  // the peaks (attention, the output layer and memory-bound work stay).
  const char* yaml = kLlama70bOn64H100;
  Result bf16 = evaluate(test::scenario(yaml), "analytic");
  Result fp8 = evaluate(test::scenario(yaml, {"training.precision=fp8"}), "analytic");
  Result mx = evaluate(test::scenario(yaml, {"training.precision=fp8", "training.fp8_recipe=delayed"}), "analytic");
  const double speedup = bf16.step.time_s / fp8.step.time_s;
  CHECK(speedup > 1.2);
  CHECK(speedup < 1.8);
  // Delayed scaling skips the amax pass: a little faster than current scaling.
  CHECK(mx.step.time_s < fp8.step.time_s);
  CHECK(mx.step.time_s > 0.9 * fp8.step.time_s);
}

TEST_CASE("launch pipeline: the GPU runs what the host has issued, in order") {
  // Two ops by hand: a large kernel (100 us on the GPU, 1 us to issue) and
  // 20 small ones (1 us each on the GPU, 5 us each to issue).
  // Large first: the host issues the small ones while the large one runs
  // (done at 101 us); they follow it: 101 + 20 = 121 us.
  LaunchPipeline gpu_first;
  gpu_first.compute(100e-6, 1e-6, 1);
  gpu_first.compute(20e-6, 100e-6, 20);
  CHECK(gpu_first.gpu_s == Approx(121e-6));
  CHECK(gpu_first.host_s == Approx(101e-6));
  // Small first: the large kernel is issued only after the host's 100 us
  // for the small ones: 101 + 100 = 201 us.
  LaunchPipeline host_first;
  host_first.compute(20e-6, 100e-6, 20);
  host_first.compute(100e-6, 1e-6, 1);
  CHECK(host_first.gpu_s == Approx(201e-6));
  // A host sync between them drains the queue and costs its round trip
  // (20 us): the host starts the small ones level with the GPU, at 121 us,
  // and issues the last at 221 us: 222 us.
  LaunchPipeline synced;
  synced.compute(100e-6, 1e-6, 1);
  synced.sync(20e-6);
  synced.compute(20e-6, 100e-6, 20);
  CHECK(synced.gpu_s == Approx(222e-6));
  // A blocking collective (100 us) gives the host time to issue them:
  // 100 + 20 us, against 101 us for the small ones alone.
  LaunchPipeline collective;
  collective.busy(100e-6);
  collective.compute(20e-6, 100e-6, 20);
  CHECK(collective.gpu_s == Approx(120e-6));
  LaunchPipeline alone;
  alone.compute(20e-6, 100e-6, 20);
  CHECK(alone.gpu_s == Approx(101e-6));
}

TEST_CASE("CUDA graphs matter only when the host cannot keep up with small kernels") {
  // Llama 3 8B with micro-batch 1 and short sequences on B200: kernels are
  // short, launches from the host set the pace without graphs.
  const char* yaml = R"(name: t
model: {preset: llama3-8b, seq_len: 1024}
cluster: {system: dgx-b200, gpus: 8}
training: {global_batch: 64, parallelism: {tp: 8}, recompute: none, precision: fp8})";
  Result eager = evaluate(test::scenario(yaml), "analytic");
  Result graphed = evaluate(test::scenario(yaml, {"training.cuda_graphs=full"}), "analytic");
  CHECK(graphed.step.time_s < eager.step.time_s);
  // A large model's kernels are long: graphs change nothing.
  const char* big = kLlama70bOn64H100;
  Result e2 = evaluate(test::scenario(big), "analytic");
  Result g2 = evaluate(test::scenario(big, {"training.cuda_graphs=full"}), "analytic");
  CHECK(g2.step.time_s == Approx(e2.step.time_s).epsilon(0.005));
}

TEST_CASE("partial full recomputation: recompute_layers recomputes that many layers per chunk") {
  const char* yaml = R"(name: t
model: {preset: llama3-8b}
cluster: {system: dgx-h100, gpus: 8}
training: {global_batch: 64, zero: 3, recompute: full})";
  Result all = evaluate(test::scenario(yaml), "analytic");
  Result five = evaluate(test::scenario(yaml, {"training.recompute_layers=5"}), "analytic");
  Result none = evaluate(test::scenario(yaml, {"training.recompute=none"}), "analytic");
  CHECK(five.step.time_s < all.step.time_s);
  CHECK(five.step.time_s > none.step.time_s);
  // Executed FLOPs: 5 of 32 layers repeat their forward (a third of a layer's
  // forward+backward each), so HFU/MFU sits between none and full.
  const double extra_all = all.executed_flops_per_step / none.executed_flops_per_step - 1;
  const double extra_five = five.executed_flops_per_step / none.executed_flops_per_step - 1;
  CHECK(extra_five == Approx(extra_all * 5 / 32).epsilon(0.01));
  // Memory: 27 layers keep everything.
  CHECK(five.memory.activations_bytes > all.memory.activations_bytes);
  CHECK(five.memory.activations_bytes < none.memory.activations_bytes);
  CHECK_THROWS_AS(test::scenario(yaml, {"training.recompute=selective", "training.recompute_layers=5"}), InputError);
}
