// MoE as Megatron-Core runs it: expert-parallel folding, MLA, MTP, sliding
// windows and the presets' parameter counts, each against a hand count.
#include <doctest/doctest.h>

#include <set>

#include <fmt/format.h>

#include "sim/evaluate.hpp"
#include "tests/util.hpp"
#include "workload/layer.hpp"

using namespace danlu;
using doctest::Approx;

namespace {
// The names of an MoE layer's compute ops, forward and backward.
std::multiset<std::string> moe_op_names(const Scenario& s) {
  const StepSchedule sched = build_schedule(s.model, s.training, false);
  std::multiset<std::string> out;
  for (const auto* pass : {&sched.layer(true).forward, &sched.layer(true).backward})
    for (const auto& w : *pass)
      if (!w.is_comm) out.insert(w.compute.name);
  return out;
}

ParamCounts preset(const std::string& name) {
  Scenario s = test::scenario("name: t\nmodel: {preset: " + name + "}\ncluster: {system: dgx-h100, gpus: 8}\n");
  return count_params(s.model);
}
}  // namespace

TEST_CASE("MoE presets match their published parameter counts") {
  // DeepSeek-V3: 671B total, 37B active (the report's rounded figures; MTP left out).
  ParamCounts ds = preset("deepseek-v3");
  CHECK(ds.total == Approx(671e9).epsilon(0.01));
  CHECK(ds.active == Approx(37e9).epsilon(0.02));  // 37.6B by count: "37B" is rounded down
  // Its MTP module (one MoE layer and a 2h x h projection) is the 14B the
  // Hugging Face checkpoint adds (685B).
  CHECK(ds.total + ds.mtp == Approx(685e9).epsilon(0.01));
  // Qwen3: 30.5B / 3.3B and 235B / 22B (model cards).
  CHECK(preset("qwen3-30b-a3b").total == Approx(30.5e9).epsilon(0.01));
  CHECK(preset("qwen3-30b-a3b").active == Approx(3.3e9).epsilon(0.03));
  CHECK(preset("qwen3-235b-a22b").total == Approx(235e9).epsilon(0.01));
  CHECK(preset("qwen3-235b-a22b").active == Approx(22e9).epsilon(0.01));
  // gpt-oss-120b: 116.8B total, 5.13B active without the input embedding.
  ParamCounts oss = preset("gpt-oss-120b");
  CHECK(oss.total == Approx(116.8e9).epsilon(0.01));
  CHECK(oss.active - oss.embedding == Approx(5.13e9).epsilon(0.01));
  // Kimi K2: 1T / 32B on its card; 1.04T where one MTP-sized layer is counted.
  ParamCounts k2 = preset("kimi-k2");
  CHECK(k2.total == Approx(1.026e12).epsilon(0.01));
  CHECK(k2.active == Approx(32.6e9).epsilon(0.015));
}

TEST_CASE("MLA: DeepSeek-V3's attention has 187M parameters per layer, by hand") {
  const ModelSpec m =
      test::scenario("name: m\nmodel: {preset: deepseek-v3}\ncluster: {system: dgx-h100, gpus: 8}\n").model;
  const double attention = layer_kind("mla").params(m).total;
  const double h = 7168, heads = 128;
  const double q = h * 1536 + 1536 * heads * (128 + 64);
  const double kv = h * (512 + 64) + 512 * heads * (128 + 128);
  const double o = heads * 128 * h;
  CHECK(attention == Approx(q + kv + o));
  CHECK(attention == Approx(187.1e6).epsilon(0.001));
  // The stack: three dense layers, then MLA with experts.
  CHECK(m.stack.types.size() == 2);
  CHECK(m.stack.of(2).parts[1].kind->name() == "mlp");
  CHECK(m.stack.of(3).parts[1].kind->name() == "moe");
}

TEST_CASE("expert parallelism folds over tp x cp x dp, as Megatron-Core allows") {
  // Qwen3-235B on 256 H100: tp 2, pp 8, dp 16, ep 32 with etp 1: ep exceeds
  // dp*cp = 16, but ep*etp = 32 divides tp*cp*dp = 32.
  const char* yaml = R"(name: t
model: {preset: qwen3-235b-a22b}
cluster: {system: dgx-h100, gpus: 256}
training: {global_batch: 2048, precision: fp8, parallelism: {tp: 2, pp: 8, ep: 32, etp: 1, vpp: 4}})";
  Scenario s = test::scenario(yaml);
  const Parallelism& p = s.training.par;
  CHECK(p.expert_data_parallel() == 1);
  // The expert group: the 32 attention ranks of the stage, consecutive.
  std::vector<int> g = p.expert_group(0);
  REQUIRE(g.size() == 32);
  for (int i = 0; i < 32; ++i) CHECK(g[static_cast<size_t>(i)] == i);
  CHECK(p.expert_stride() == 1);
  // With etp = tp (the default) the same ep no longer fits: 32 x 2 > 32.
  CHECK_THROWS_AS(test::scenario(yaml, {"training.parallelism.etp=null"}), InputError);
  // Mixtral with tp 8, dp 4, ep 4 and etp = tp: the expert groups are the
  // old ones, consecutive data-parallel ranks, 8 apart.
  Scenario mx = test::scenario(R"(name: t
model: {preset: mixtral-8x7b}
cluster: {system: dgx-h100, gpus: 64}
training: {global_batch: 512, parallelism: {tp: 8, pp: 2, ep: 4}})");
  CHECK(mx.training.par.expert_group(3) == std::vector<int>{3, 11, 19, 27});
  CHECK(mx.training.par.expert_data_group(3) == std::vector<int>{3});
  // Each GPU holds experts / ep of them, split etp ways.
  StageParams sp = stage_params(s.model, s.training, 0);
  const double per_expert = 3.0 * 4096 * 1536;  // gate, up and down of one expert
  CHECK(sp.expert == Approx(per_expert * 128 / 32 * s.training.stage_layers[0]).epsilon(1e-9));
}

TEST_CASE("sliding-window layers attend to the window; MTP adds a layer and a head on the last stage") {
  Scenario oss = test::scenario(R"(name: t
model: {preset: gpt-oss-120b}
cluster: {system: dgx-h100, gpus: 64}
training: {global_batch: 256, parallelism: {tp: 1, ep: 8}})");
  StepSchedule sched = build_schedule(oss.model, oss.training, false);
  // Two layer kinds: global (every second layer) and windowed.
  int windowed = 0, global = 0;
  for (const auto& v : sched.variants)
    for (const auto& w : v.type.routed() ? v.work.forward : std::vector<WorkItem>{})
      if (!w.is_comm && w.compute.kind == OpKind::attention_forward) {
        if (v.type.parts[0].window > 0) {
          // A query sees at most 128 keys (fewer near the sequence start).
          CHECK(w.compute.n == Approx(128 * (1 - 128.0 / (2 * 4096))));
          ++windowed;
        } else {
          CHECK(w.compute.n == Approx(4096.0 / 2));
          ++global;
        }
      }
  CHECK(windowed == 1);
  CHECK(global == 1);
  for (const auto& st : sched.stages) {
    int count = 0;
    for (int c : st.variant_count) count += c;
    CHECK(count == 36);
  }

  const char* ds = R"(name: t
model: {preset: deepseek-v3}
cluster: {system: gb200-nvl72, gpus: 256}
training: {global_batch: 1024, precision: fp8, fp8_recipe: mxfp8, parallelism: {tp: 1, pp: 4, ep: 64}})";
  Result with = evaluate(test::scenario(ds), "analytic");
  Result without = evaluate(test::scenario(ds, {"model.mtp_layers=0"}), "analytic");
  // The MTP module: one more MoE layer of 61 (with the projection and a
  // second pass through the output head): about 1/61 more executed work.
  const double extra = with.executed_flops_per_step / without.executed_flops_per_step - 1;
  CHECK(extra > 1.0 / 61);
  CHECK(extra < 2.5 / 61);
  CHECK(with.step.time_s > without.step.time_s);
  CHECK(with.params.total == without.params.total);  // left out of the totals
}

TEST_CASE("a DeepSeek-V3-class MoE in FP8 on four systems: where the all-to-all runs decides the ranking") {
  auto run = [](const char* name) {
    return evaluate(
        load_scenario(test::source(std::string("scenarios/compare/moe/") + name + ".yaml"), test::catalog()),
        "analytic");
  };
  Result gb200 = run("gb200-nvl72"), tpu = run("tpu-v7"), mi355x = run("mi355x"), gaudi3 = run("gaudi3");
  const auto ep = [](const Result& r) { return r.step.comm_s[CommKind::ep]; };
  // Inside a 72-GPU NVLink domain or a 3D torus the expert traffic mostly
  // hides; over 8-GPU domains 7/8 of it crosses 400G RoCE and dominates.
  CHECK(ep(gb200) < 0.15 * gb200.step.time_s);
  CHECK(ep(mi355x) > 0.5 * mi355x.step.time_s);
  CHECK(ep(mi355x) > 5 * ep(gb200));
  CHECK(mi355x.step.time_s > 2 * gb200.step.time_s);
  CHECK(gaudi3.step.time_s > 2 * tpu.step.time_s);
  // Gaudi 3's 137 GB is a few GB short for this layout.
  CHECK_FALSE(gaudi3.memory.fits());
  CHECK(gb200.memory.fits());
}

TEST_CASE("ZeRO-3 gathers every layer in every micro-batch: exposed when compute is short, hidden when long") {
  // Llama 3 8B on 64 H100 (8 DGX nodes), pure data parallelism, 16 micro-
  // batches of one sequence. Each layer's 218M bf16 parameters (436 MB) are
  // all-gathered before its forward and again before its backward, and its
  // gradients reduce-scattered: per layer and micro-batch 3 collectives.
  const char* yaml = R"(name: z
model: {preset: llama3-8b, seq_len: 1024}
cluster: {system: dgx-h100, gpus: 64}
training: {global_batch: 1024, micro_batch: 1, parallelism: {tp: 1, pp: 1}, recompute: none, zero: 3})";
  Result z3 = evaluate(test::scenario(yaml), "analytic");
  Result z1 = evaluate(test::scenario(yaml, {"training.zero=1"}), "analytic");
  const double m = 16, layers = 32;
  const double bytes = 2.0 * (4096.0 * (4096 + 2 * 1024) + 4096.0 * 4096 + 3.0 * 4096 * 14336);
  // By hand: a hierarchical ring, 8 ranks on NVLink (450 GB/s at NCCL's
  // 80%) then 8 nodes over a 400G NIC (50 GB/s at 92%) carrying 1/8 of it.
  const double t_ag = 0.875 * bytes / (450e9 * 0.80) + 0.875 * bytes / 8 / (50e9 * 0.92);
  // The compute each collective can hide under: the layer's forward (a
  // third of its compute) for the first gather, its backward (two thirds)
  // for the second gather and the reduce-scatter.
  const double c = z1.step.compute_s / (m * layers);
  const double by_hand = m * layers * ((t_ag - c / 3) + (2 * t_ag - 2 * c / 3));
  const double dp = z3.step.comm_s[CommKind::dp];
  MESSAGE("ZeRO-3 exposed data-parallel time " << dp << " s, by hand " << by_hand << " s; ZeRO-1 "
                                               << z1.step.comm_s[CommKind::dp] << " s");
  CHECK(dp == Approx(by_hand).epsilon(0.10));
  // ZeRO-1 moves the whole model (8.03B bf16 parameters) once each way: the
  // reduce-scatter hides under the last micro-batch's backward and the
  // parameter all-gather under the next step's first forward; what outlasts
  // them is exposed, and the compute they overlap slows by the profile's
  // overlap_slowdown (0.22).
  const double t_model = 0.875 * 16.06e9 / (450e9 * 0.80) + 0.875 * 16.06e9 / 8 / (50e9 * 0.92);
  const double f1 = z1.step.compute_s / m / 3, b1 = 2 * f1, slow = 0.22;
  const double z1_by_hand = (t_model - b1) + slow * b1 + (t_model - f1) + slow * f1;
  const double z1_dp = z1.step.comm_s[CommKind::dp];
  CHECK(z1_dp == Approx(z1_by_hand).epsilon(0.15));
  CHECK(dp > 15 * z1_dp);

  // 8192-token sequences: a layer's compute (now ~11x, attention growing
  // with the square) covers the three collectives, and nothing is exposed.
  Result long3 = evaluate(test::scenario(yaml, {"model.seq_len=8192", "training.global_batch=256"}), "analytic");
  Result long1 = evaluate(test::scenario(yaml, {"model.seq_len=8192", "training.global_batch=256", "training.zero=1"}),
                          "analytic");
  const double c_long = long1.step.compute_s / (4 * layers);
  CHECK(2 * t_ag < 2 * c_long / 3);  // by hand: the backward covers gather + reduce-scatter
  CHECK(long3.step.comm_s[CommKind::dp] < 0.01 * long3.step.time_s);
  // It still costs: the collectives' kernels slow the compute they hide under.
  CHECK(long3.step.time_s > long1.step.time_s);
  CHECK(long3.step.time_s < 1.15 * long1.step.time_s);
}

TEST_CASE("expert strides equal the distance between the first two group members, without listing groups") {
  // Found by the fuzzer: the stride listed rank 0's whole expert-data group,
  // 2.5M ranks at 2.5M GPUs (1.6 s an evaluation, 14 s under ASan).
  for (const char* order : {"tp-cp-dp-pp", "tp-dp-cp-pp", "dp-tp-cp-pp"})
    for (int ep : {1, 2, 8})
      for (int etp : {1, 2}) {
        Parallelism p;
        p.tp = 2, p.cp = 2, p.dp = 8, p.pp = 2, p.ep = ep, p.etp = etp;
        p.rank_order = order;
        CAPTURE(order);
        CAPTURE(ep);
        CAPTURE(etp);
        const auto group = p.expert_group(0), data = p.expert_data_group(0);
        CHECK(p.expert_stride() == (group.size() > 1 ? group[1] - group[0] : 1));
        CHECK(p.expert_data_stride() == (data.size() > 1 ? data[1] - data[0] : 1));
      }
}

TEST_CASE("dropless routing syncs with the host for token counts; token dropping does not") {
  const char* qwen = R"(name: t
model: {preset: qwen3-30b-a3b, seq_len: 4096}
cluster: {system: dgx-b200, gpus: 8}
training: {global_batch: 512, precision: fp8, parallelism: {tp: 1, ep: 8}})";
  auto syncs = [](const Scenario& s) {
    int n = 0;
    const StepSchedule sched = build_schedule(s.model, s.training, false);  // alive through the loop
    for (const auto& w : sched.layer(true).forward) n += !w.is_comm && w.compute.kind == OpKind::host_sync;
    return n;
  };
  const Scenario dropless = test::scenario(qwen);
  const Scenario dropping = test::scenario(qwen, {"model.moe.token_drop=true"});
  CHECK(syncs(dropless) == 1);
  CHECK(syncs(dropping) == 0);
  // The step differs by one sync per MoE layer and micro-batch at most (the
  // host can no longer run ahead across it): 48 layers x 64 micro-batches.
  const double saved = evaluate(dropless, "analytic").step.time_s - evaluate(dropping, "analytic").step.time_s;
  CHECK(saved > 0);
  const KernelContext kc = kernel_context(dropless);
  const double sync = dropless.constants.host_sync_s;
  CHECK(saved <= 48 * 64 * (sync + 200 * kc.launch_s));
}

TEST_CASE("a grouped GEMM run as one GEMM per expert costs the host a dispatch per expert") {
  // Transformer Engine's GroupedLinear issues one cuBLAS GEMM per local
  // expert from Python: at equal total work, 32 experts of 1,024 rows cost
  // the host 28 x (the per-expert constant and a launch) more than 4
  // experts of 8,192 rows (DeepSeek-V3 on 8-GPU B200 nodes with EP 8
  // against NVL72 with EP 64).
  const Scenario s = test::scenario("name: t\nmodel: {preset: deepseek-v3}\ncluster: {system: dgx-b200, gpus: 8}\n");
  const KernelContext kc = kernel_context(s);
  auto op = [](double rows, double experts) {
    ComputeOp o;
    o.kind = OpKind::gemm;
    o.grouped = true;
    o.m = o.group_rows = rows, o.n = 4096, o.k = 7168, o.count = experts;
    return o;
  };
  const double per_expert = s.constants.grouped_gemm_group_s;
  CHECK(per_expert > 0);
  // Each expert is also its own GEMM launch.
  CHECK(op_kernels(op(1024, 32), kc) == 32);
  CHECK(op_host_time(op(1024, 32), kc) - op_host_time(op(8192, 4), kc) == Approx(28 * (per_expert + kc.launch_s)));
  // It is host time: the GPU time of the GEMMs does not include it.
  ComputeConstants none = s.constants;
  none.grouped_gemm_group_s = 0;
  KernelContext bare = kc;
  bare.constants = &none;
  CHECK(op_time(op(1024, 32), kc) == Approx(op_time(op(1024, 32), bare)));
  // Large per-expert GEMMs hide it: 4 experts of 8,192 x 4,096 x 7,168 run
  // ~1 ms on the GPU against 4 dispatches, within 1% of the GPU time.
  const double big_gpu = op_time(op(8192, 4), kc), big_host = op_host_time(op(8192, 4), kc);
  CHECK(big_gpu > 5 * big_host);
  LaunchPipeline big_line;
  issue(big_line, op(8192, 4), kc, big_gpu, big_host);
  CHECK(big_line.gpu_s == Approx(big_gpu).epsilon(0.01));
  // 32 experts of 64 x 128 x 128 take the GPU a fraction of their 32
  // dispatches, and wait for them.
  ComputeOp small = op(64, 32);
  small.n = small.k = 128;
  const double small_gpu = op_time(small, kc), small_host = op_host_time(small, kc);
  CHECK(small_host > 5 * small_gpu);
  LaunchPipeline small_line;
  issue(small_line, small, kc, small_gpu, small_host);
  CHECK(small_line.gpu_s >= small_host);
  // A compiled grouped kernel (XLA on TPU: no host launches) has none.
  const Scenario tpu =
      test::scenario("name: t\nmodel: {preset: deepseek-v3}\ncluster: {system: tpu-v5p-pod, gpus: 64}\n");
  CHECK(op_host_time(op(1024, 32), kernel_context(tpu)) == 0.0);
}

TEST_CASE("a grouped GEMM's rate follows the tokens each expert holds") {
  // Each expert's fixed costs over its rows: at m rows the rate is
  // m / (m + m0) of the large-group rate; an eager framework's one GEMM per
  // expert also pays grouped_gemm, XLA's single grouped kernel does not.
  auto op = [](double rows, bool grouped) {
    ComputeOp o;
    o.kind = OpKind::gemm;
    o.grouped = grouped;
    o.m = o.group_rows = rows, o.n = 4096, o.k = 7168;
    return o;
  };
  for (const char* system : {"dgx-b200", "tpu-v5p-pod"}) {
    CAPTURE(system);
    const Scenario s = test::scenario(fmt::format(
        "name: t\nmodel: {{preset: deepseek-v3}}\ncluster: {{system: {}, gpus: 64}}\ntraining: {{precision: bf16}}\n",
        system));
    const KernelContext kc = kernel_context(s);
    const ComputeConstants& c = s.constants;
    const bool eager = s.cluster.accelerator.kernels.launch_s > 0;
    const double flat = eager ? c.grouped_gemm : 1.0;
    CHECK(flat <= 1.0);
    for (double rows : {c.grouped_gemm_rows_half, 8192.0}) {
      CAPTURE(rows);
      // The same shape dense and grouped; the kernel gap is not a rate.
      const double dense = op_time(op(rows, false), kc) - c.kernel_gap_s;
      const double grouped = op_time(op(rows, true), kc) - c.kernel_gap_s;
      CHECK(grouped / dense == Approx((rows + c.grouped_gemm_rows_half) / rows / flat).epsilon(1e-6));
    }
  }
}

TEST_CASE("a captured iteration replays the experts' GEMMs without the host") {
  // Full CUDA graphs (possible under token drop: every shape is static)
  // remove the per-expert dispatch; partial capture (attention, router,
  // preprocessing) leaves the experts eager.
  const std::string base =
      "name: t\nmodel: {preset: qwen3-30b-a3b, moe: {token_drop: true}}\n"
      "cluster: {system: dgx-b200, gpus: 8}\n"
      "training: {micro_batch: 1, parallelism: {ep: 8}, cuda_graphs: ";
  const Scenario none = test::scenario(base + "none}\n");
  const Scenario partial = test::scenario(base + "partial}\n");
  const Scenario full = test::scenario(base + "full}\n");
  CHECK(kernel_context(none).group_dispatch_s == Approx(none.constants.grouped_gemm_group_s));
  CHECK(kernel_context(partial).group_dispatch_s == Approx(none.constants.grouped_gemm_group_s));
  CHECK(kernel_context(full).group_dispatch_s == 0.0);
  CHECK(kernel_context(full).launch_s == 0.0);
  // Qwen3-30B-A3B at micro-batch 1 on 8 B200 with EP 8 is host-bound (16
  // local experts, each dispatched by the host in six GEMMs a layer): the
  // graphed iteration is much faster (25.09's token-drop rows: 2x).
  const double eager = evaluate(none, "analytic").step.time_s, graphed = evaluate(full, "analytic").step.time_s;
  CHECK(graphed < 0.7 * eager);
}

TEST_CASE("load imbalance: the busiest GPU's expert work and all-to-all grow with it; token dropping caps it") {
  const char* base = R"(name: t
model: {preset: qwen3-30b-a3b, seq_len: 4096}
cluster: {system: dgx-h100, gpus: 16}
training: {global_batch: 256, precision: fp8, parallelism: {tp: 1, ep: 16}})";
  auto expert_fc1 = [](const Scenario& s) {
    const StepSchedule sched = build_schedule(s.model, s.training, false);  // alive through the loop
    for (const auto& w : sched.layer(true).forward)
      if (!w.is_comm && std::string(w.compute.name) == "expert fc1") return w.compute;
    return ComputeOp{};
  };
  auto dispatch = [](const Scenario& s) {
    const StepSchedule sched = build_schedule(s.model, s.training, false);  // alive through the loop
    for (const auto& w : sched.layer(true).forward)
      if (w.is_comm && std::string(w.comm.name) == "ep dispatch") return w.comm.bytes;
    return 0.0;
  };
  const Scenario even = test::scenario(base);
  const Scenario skewed = test::scenario(base, {"model.moe.load_imbalance=1.5"});
  const Scenario dropping = test::scenario(base, {"model.moe.load_imbalance=1.5", "model.moe.token_drop=true"});
  // Qwen3-30B-A3B: each GPU's 4,096 tokens x top-8, from the 16 GPUs of the
  // expert group, over 128 experts: 4,096 rows an expert when even.
  CHECK(expert_fc1(even).m == Approx(4096.0 * 8 * 16 / 128));
  CHECK(expert_fc1(skewed).m == Approx(1.5 * expert_fc1(even).m));
  CHECK(dispatch(skewed) == Approx(1.5 * dispatch(even)));
  CHECK(expert_fc1(dropping).m == Approx(expert_fc1(even).m));  // capped at capacity 1.0
  CHECK(evaluate(skewed, "analytic").step.time_s > evaluate(even, "analytic").step.time_s);
}

TEST_CASE("selective recomputation repeats the modules the recipe names and keeps only their inputs") {
  // GPT-OSS-120B in bf16 on one GPU's worth of tokens (tp 1, micro-batch 1,
  // 4,096 tokens): Megatron-Bridge's recipes recompute the norms and the
  // experts' activation, not the attention core.
  const std::string gpt =
      "name: t\nmodel: {preset: gpt-oss-120b, seq_len: 4096}\n"
      "cluster: {system: gb200-nvl72, gpus: 64}\n"
      "training: {global_batch: 64, parallelism: {tp: 1, ep: 64}, recompute: selective";
  const Scenario core = test::scenario(gpt + "}\n");
  const Scenario mods = test::scenario(gpt + ", recompute_modules: [layernorm, moe_act]}\n");
  const auto by_default = moe_op_names(core), named = moe_op_names(mods);
  CHECK(by_default.count("recompute attention") == 1);
  CHECK(by_default.count("recompute norms") == 0);
  CHECK(named.count("recompute attention") == 0);
  CHECK(named.count("recompute norms") == 1);
  CHECK(named.count("recompute expert activation") == 1);
  // Memory per layer, by hand: the two norm outputs (2 x 4096 x 2880 x 2 B)
  // and the experts' activation outputs (4096 tokens x top-4 x 2880 x 2 B)
  // are no longer kept.
  const double saved =
      layer_activation_bytes(core.model, core.training, 0) - layer_activation_bytes(mods.model, mods.training, 0);
  CHECK(saved == Approx(2.0 * 4096 * 2880 * 2 + 4096.0 * 4 * 2880 * 2));

  // DeepSeek-V3's mla_up_proj: Q and K at 192 dims and V at 128 per head,
  // 128 heads, come again from the latents (4096 x 128 x (2 x 192 + 128) x 2 B).
  const std::string ds =
      "name: t\nmodel: {preset: deepseek-v3, seq_len: 4096, mtp_layers: 0}\n"
      "cluster: {system: gb200-nvl72, gpus: 256}\n"
      "training: {global_batch: 256, parallelism: {tp: 1, pp: 4, ep: 64}, recompute: selective";
  const Scenario ds_core = test::scenario(ds + "}\n");
  const Scenario ds_up = test::scenario(ds + ", recompute_modules: [core_attn, mla_up_proj]}\n");
  CHECK(layer_activation_bytes(ds_core.model, ds_core.training, 5) -
            layer_activation_bytes(ds_up.model, ds_up.training, 5) ==
        Approx(4096.0 * 128 * (2 * 192 + 128) * 2));
  CHECK(moe_op_names(ds_up).count("recompute up-projection") == 2);  // the query's and the key/value's
}

TEST_CASE("a DeepEP-class dispatcher fuses the permutes into the all-to-alls") {
  // With the NCCL all-to-all, each token is copied top_k times before the
  // dispatch (2 x its routed bytes through HBM) and summed back after the
  // combine; DeepEP and Hybrid-EP do both inside their kernels. The sort
  // into expert order after the dispatch stays either way.
  const std::string base =
      "name: t\nmodel: {preset: deepseek-v3, seq_len: 4096, mtp_layers: 0}\n"
      "cluster: {system: dgx-b200, gpus: 256}\n"
      "training: {global_batch: 256, parallelism: {tp: 1, pp: 16, ep: 8}";
  const auto nccl = moe_op_names(test::scenario(base + "}\n"));
  const auto deepep = moe_op_names(test::scenario(base + ", ep_dispatch: hierarchical}\n"));
  for (const char* name : {"permute", "unpermute", "permute backward", "unpermute backward"}) {
    CAPTURE(name);
    CHECK(nccl.count(name) == 1);
    CHECK(deepep.count(name) == 0);
  }
  CHECK(deepep.count("sort by expert") == 1);
}
