#include "sim/schedule.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "models/memory.hpp"

namespace danlu {

std::string_view to_string(CommKind k) {
  switch (k) {
    case CommKind::tp: return "tp";
    case CommKind::cp: return "cp";
    case CommKind::ep: return "ep";
    case CommKind::pp: return "pp";
    case CommKind::dp: return "dp";
  }
  return "tp";
}

std::string_view to_string(Collective c) {
  switch (c) {
    case Collective::all_reduce: return "all-reduce";
    case Collective::all_gather: return "all-gather";
    case Collective::reduce_scatter: return "reduce-scatter";
    case Collective::all_to_all: return "all-to-all";
    case Collective::send_recv: return "send-recv";
  }
  return "all-reduce";
}

double wire_bytes(const CommOp& op) {
  const double n = op.group;
  if (n <= 1 && op.op != Collective::send_recv) return 0.0;
  switch (op.op) {
    case Collective::all_reduce: return 2.0 * (n - 1) / n * op.bytes;
    case Collective::all_gather:
    case Collective::reduce_scatter:
    case Collective::all_to_all: return (n - 1) / n * op.bytes;
    case Collective::send_recv: return op.bytes;
  }
  return op.bytes;
}

std::vector<Slot> pipeline_order(PipelineSchedule sched, int pp, int vpp, int m, int stage) {
  std::vector<Slot> out;
  if (sched == PipelineSchedule::gpipe) {
    for (int i = 0; i < m; ++i) out.push_back({i, 0, Pass::F});
    for (int i = m - 1; i >= 0; --i) out.push_back({i, 0, Pass::B});
    return out;
  }
  if (sched == PipelineSchedule::interleaved) {
    // Megatron's interleaved 1F1B: unit k of a pass maps to chunk (k/pp)%v
    // (reversed for backward) and microbatch (k/(pp*v))*pp + k%pp.
    const int total = m * vpp;
    const int warmup = std::min(2 * (pp - stage - 1) + (vpp - 1) * pp, total);
    auto unit = [&](int k, Pass pass) {
      int chunk = (k / pp) % vpp;
      if (pass == Pass::B) chunk = vpp - 1 - chunk;
      return Slot{(k / (pp * vpp)) * pp + k % pp, chunk, pass};
    };
    for (int k = 0; k < warmup; ++k) out.push_back(unit(k, Pass::F));
    for (int i = 0; i < total - warmup; ++i) {
      out.push_back(unit(warmup + i, Pass::F));
      out.push_back(unit(i, Pass::B));
    }
    for (int k = total - warmup; k < total; ++k) out.push_back(unit(k, Pass::B));
    return out;
  }
  // 1F1B: pp - stage - 1 warm-up forwards, then one forward one backward, then
  // the remaining backwards. Zero-bubble (ZB-H1) splits each backward into B
  // (input gradients, on the critical path) and W (weight gradients), and
  // defers W by the warm-up depth so the cool-down's waits are filled.
  const int warmup = std::min(pp - stage - 1, m);
  const bool zb = sched == PipelineSchedule::zero_bubble;
  int next_w = 0;
  auto backward = [&](int mb) {
    out.push_back({mb, 0, Pass::B});
    if (zb && mb - next_w >= warmup) out.push_back({next_w++, 0, Pass::W});
  };
  for (int i = 0; i < warmup; ++i) out.push_back({i, 0, Pass::F});
  for (int i = 0; i < m - warmup; ++i) {
    out.push_back({warmup + i, 0, Pass::F});
    backward(i);
  }
  for (int i = m - warmup; i < m; ++i) {
    out.push_back({i, 0, Pass::B});
    if (zb && next_w < m) out.push_back({next_w++, 0, Pass::W});
  }
  while (zb && next_w < m) out.push_back({next_w++, 0, Pass::W});
  return out;
}

namespace {

constexpr double kActBytes = 2.0;  // activations travel and rest in bf16

// Megatron's gradient buckets: 40M parameters of bf16 gradients.
constexpr double kBucketBytes = 40e6 * 2.0;

WorkItem compute(std::string name, double flops, double bytes, bool matmul = true) {
  WorkItem w;
  w.compute = {std::move(name), flops, bytes, matmul};
  return w;
}

WorkItem comm(std::string name, CommKind kind, Collective op, double bytes, int group, bool overlappable) {
  WorkItem w;
  w.is_comm = true;
  w.comm = {std::move(name), kind, op, bytes, group, overlappable};
  return w;
}

// Everything about one scenario that the per-layer builders need.
struct Builder {
  const ModelSpec& m;
  const TrainingSpec& t;
  const ParamCounts pc;
  const double tp, cp, ep;
  const double seq;         // full sequence
  const double tokens;      // local tokens of one microbatch on one CP rank
  const double h;
  const bool sp;
  const double rep;         // divisor of tensors outside the TP region
  const bool zb;

  Builder(const Scenario& s)
      : m(s.model), t(s.training), pc(count_params(s.model)), tp(s.training.par.tp), cp(s.training.par.cp),
        ep(s.training.par.ep), seq(static_cast<double>(s.model.seq_len)),
        tokens(static_cast<double>(s.model.seq_len) / s.training.par.cp * s.training.micro_batch),
        h(static_cast<double>(s.model.hidden)), sp(s.training.sequence_parallel && s.training.par.tp > 1),
        rep(sp ? tp : 1.0), zb(s.training.schedule == PipelineSchedule::zero_bubble) {}

  double act() const { return tokens * h * kActBytes; }  // one full activation tensor
  bool tp_on() const { return tp > 1; }
  int dp_group() const { return t.par.dp * t.par.cp; }

  // TP traffic around a tensor-parallel region: with sequence parallelism an
  // all-gather in and a reduce-scatter out; without, an all-reduce out.
  void tp_enter(std::vector<WorkItem>& w, const std::string& what, bool backward) const {
    if (!tp_on()) return;
    if (sp)
      w.push_back(comm(what + (backward ? " reduce-scatter" : " all-gather"), CommKind::tp,
                       backward ? Collective::reduce_scatter : Collective::all_gather, act(), t.par.tp,
                       t.overlap.tp_comm));
    else if (backward)
      w.push_back(comm(what + " all-reduce", CommKind::tp, Collective::all_reduce, act(), t.par.tp, t.overlap.tp_comm));
  }
  void tp_exit(std::vector<WorkItem>& w, const std::string& what, bool backward) const {
    if (!tp_on()) return;
    if (sp)
      w.push_back(comm(what + (backward ? " all-gather" : " reduce-scatter"), CommKind::tp,
                       backward ? Collective::all_gather : Collective::reduce_scatter, act(), t.par.tp,
                       t.overlap.tp_comm));
    else if (!backward)
      w.push_back(comm(what + " all-reduce", CommKind::tp, Collective::all_reduce, act(), t.par.tp, t.overlap.tp_comm));
  }

  double kv_width_per_gpu() const { return m.head_dim * std::max(1.0, m.kv_heads / tp); }
  double q_width_per_gpu() const { return static_cast<double>(m.heads) * m.head_dim / tp; }

  // Weights of the layer's attention on one GPU, and the HBM traffic of its matmuls.
  double attention_bytes() const {
    double weights = (2.0 * h * q_width_per_gpu() + 2.0 * h * kv_width_per_gpu()) * kActBytes;
    double acts = tokens * kActBytes * (h + 2 * (q_width_per_gpu() + 2 * kv_width_per_gpu()) + 2 * q_width_per_gpu() + h);
    return weights + acts;
  }
  double mlp_bytes(double f, double experts_local) const {
    double mats = m.activation == Activation::swiglu ? 3.0 : 2.0;
    double weights = experts_local * mats * h * f / tp * kActBytes;
    double acts = tokens * kActBytes * (h + mats * f / tp + h);
    return weights + acts;
  }
  // Memory-bound work outside the matmuls: two norms (read+write), two residual
  // adds (2 reads, 1 write), the activation function (reads gate/up, writes the
  // product), rotary embeddings on Q/K, and dropout masks when used.
  double elementwise_bytes(int layer) const {
    double f = m.is_moe_layer(layer) ? static_cast<double>(m.moe->expert_ffn_hidden) *
                                           (m.moe->top_k * m.moe->capacity_factor + m.moe->shared_experts)
                                     : static_cast<double>(m.ffn_hidden);
    double act_fn = (m.activation == Activation::swiglu ? 3.0 : 2.0) * f / tp;
    double per_token = 10.0 * h / rep + act_fn + 2.0 * (q_width_per_gpu() + kv_width_per_gpu()) +
                       (m.dropout ? 4.0 * h / rep : 0.0);
    return tokens * per_token * kActBytes;
  }

  // The forward items of one layer.
  std::vector<WorkItem> layer_forward(int layer, const std::string& prefix = "") const {
    std::vector<WorkItem> w;
    LayerFlops f = layer_forward_flops(m, layer, seq * t.micro_batch);
    const double split = tp * cp;
    const std::string L = fmt::format("{}L{} ", prefix, layer);
    if (t.zero == 3 && prefix.empty()) {
      double layer_params = pc.attention_per_layer + (m.is_moe_layer(layer) ? 0.0 : pc.dense_mlp_per_layer);
      w.push_back(comm(L + "zero-3 weight all-gather", CommKind::dp, Collective::all_gather,
                       layer_params / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    }
    tp_enter(w, L + "attention", false);
    if (cp > 1)
      w.push_back(comm(L + "cp kv all-gather", CommKind::cp, Collective::all_gather,
                       2.0 * seq * t.micro_batch * kv_width_per_gpu() * kActBytes, t.par.cp, true));
    w.push_back(compute(L + "attention", (f.qkv + f.attn_core + f.out_proj) / split, attention_bytes()));
    tp_exit(w, L + "attention", false);
    w.push_back(compute(L + "norms+elementwise", 0, elementwise_bytes(layer), false));
    tp_enter(w, L + "mlp", false);
    if (m.is_moe_layer(layer)) {
      double a2a = tokens / rep * m.moe->top_k * m.moe->capacity_factor * h * kActBytes;
      if (ep > 1) w.push_back(comm(L + "ep dispatch", CommKind::ep, Collective::all_to_all, a2a, t.par.ep, false));
      double local = m.moe->experts / ep + m.moe->shared_experts;
      w.push_back(compute(L + "experts", (f.mlp + f.router) / split,
                          mlp_bytes(static_cast<double>(m.moe->expert_ffn_hidden), local)));
      if (ep > 1) w.push_back(comm(L + "ep combine", CommKind::ep, Collective::all_to_all, a2a, t.par.ep, false));
    } else {
      w.push_back(compute(L + "mlp", f.mlp / split, mlp_bytes(static_cast<double>(m.ffn_hidden), 1.0)));
    }
    tp_exit(w, L + "mlp", false);
    return w;
  }

  // Backward of one layer: the forward's communication mirrored, matmuls at
  // twice the forward FLOPs (input and weight gradients; under zero-bubble only
  // the input half here, the weight half goes to `wgrad`).
  void layer_backward(int layer, std::vector<WorkItem>& w, std::vector<WorkItem>& wgrad) const {
    LayerFlops f = layer_forward_flops(m, layer, seq * t.micro_batch);
    const double split = tp * cp;
    const std::string L = fmt::format("L{} ", layer);
    const double bwd = zb ? 1.0 : 2.0;
    // wgrad_share: the weight-gradient FLOPs as a fraction of the forward's
    // (1 for a plain matmul; less for attention, whose score matmuls have no weights).
    auto matmul_bwd = [&](const std::string& name, double fwd_flops, double bytes, double wgrad_share) {
      double wflops = zb ? fwd_flops * wgrad_share : 0.0;
      w.push_back(compute(L + name + " backward", 2.0 * fwd_flops - wflops, bytes * bwd));
      if (zb && wflops > 0) wgrad.push_back(compute(L + name + " weight-grad", wflops, bytes));
    };
    if (t.zero == 3) {
      double layer_params = pc.attention_per_layer + (m.is_moe_layer(layer) ? 0.0 : pc.dense_mlp_per_layer);
      w.push_back(comm(L + "zero-3 weight all-gather", CommKind::dp, Collective::all_gather,
                       layer_params / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    }
    tp_exit(w, L + "mlp", true);
    if (m.is_moe_layer(layer)) {
      double a2a = tokens / rep * m.moe->top_k * m.moe->capacity_factor * h * kActBytes;
      if (ep > 1) w.push_back(comm(L + "ep combine backward", CommKind::ep, Collective::all_to_all, a2a, t.par.ep, false));
      double local = m.moe->experts / ep + m.moe->shared_experts;
      matmul_bwd("experts", (f.mlp + f.router) / split, mlp_bytes(static_cast<double>(m.moe->expert_ffn_hidden), local), 1.0);
      if (ep > 1) w.push_back(comm(L + "ep dispatch backward", CommKind::ep, Collective::all_to_all, a2a, t.par.ep, false));
    } else {
      matmul_bwd("mlp", f.mlp / split, mlp_bytes(static_cast<double>(m.ffn_hidden), 1.0), 1.0);
    }
    tp_enter(w, L + "mlp", true);
    w.push_back(compute(L + "norms+elementwise backward", 0, 2.0 * elementwise_bytes(layer), false));
    tp_exit(w, L + "attention", true);
    if (t.recompute == Recompute::selective)
      w.push_back(compute(L + "recompute attention core", f.attn_core / split, 0));
    // QKV and output projections split evenly between input and weight
    // gradients; the score matmuls (attn_core) have only input gradients.
    double proj = (f.qkv + f.out_proj) / split, core = f.attn_core / split;
    matmul_bwd("attention", proj + core, attention_bytes(), proj / (proj + core));
    if (cp > 1)
      w.push_back(comm(L + "cp kv reduce-scatter", CommKind::cp, Collective::reduce_scatter,
                       2.0 * seq * t.micro_batch * kv_width_per_gpu() * kActBytes, t.par.cp, true));
    tp_enter(w, L + "attention", true);
    if (t.zero == 3) {
      double layer_params = pc.attention_per_layer + (m.is_moe_layer(layer) ? 0.0 : pc.dense_mlp_per_layer);
      w.push_back(comm(L + "zero-3 gradient reduce-scatter", CommKind::dp, Collective::reduce_scatter,
                       layer_params / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    }
  }

  ChunkWork chunk(const std::vector<int>& layers, bool first_virtual, bool last_virtual) const {
    ChunkWork c;
    c.layers = layers;
    if (first_virtual) {
      // Vocabulary-parallel embedding: a lookup, then a reduction over TP.
      c.forward.push_back(compute("embedding", 0, act() * 2 / rep, false));
      if (tp_on())
        c.forward.push_back(comm("embedding " + std::string(sp ? "reduce-scatter" : "all-reduce"), CommKind::tp,
                                 sp ? Collective::reduce_scatter : Collective::all_reduce, act(), t.par.tp,
                                 t.overlap.tp_comm));
    }
    for (int l : layers) {
      auto items = layer_forward(l);
      c.forward.insert(c.forward.end(), items.begin(), items.end());
    }
    const double logits_flops = logits_forward_flops(m, tokens) / tp;
    const double logits_bytes = 4.0 * tokens * static_cast<double>(m.vocab) / tp;  // fp32 logits
    if (last_virtual) {
      tp_enter(c.forward, "logits", false);
      c.forward.push_back(compute("logits", logits_flops, logits_bytes + h * static_cast<double>(m.vocab) / tp * kActBytes));
      c.forward.push_back(compute("loss", 0, 3.0 * logits_bytes, false));
      c.backward.push_back(compute("logits backward", zb ? logits_flops : 2.0 * logits_flops, 2.0 * logits_bytes));
      if (zb) c.weight_grad.push_back(compute("logits weight-grad", logits_flops, logits_bytes));
      tp_enter(c.backward, "logits", true);
    }
    if (t.recompute == Recompute::full) {
      // The whole forward again, its communication included, before the backward.
      for (int l : layers) {
        auto items = layer_forward(l, "recompute ");
        c.backward.insert(c.backward.end(), items.begin(), items.end());
      }
    }
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) layer_backward(*it, c.backward, c.weight_grad);
    return c;
  }
};

}  // namespace

double stage_flops(const StageSchedule& st) {
  double total = 0;
  for (const Slot& s : st.order)
    for (const WorkItem& w : st.chunks[static_cast<size_t>(s.chunk)].work(s.pass))
      if (!w.is_comm) total += w.compute.flops;
  return total;
}

StepSchedule build_schedule(const Scenario& s) {
  const TrainingSpec& t = s.training;
  const Parallelism& p = t.par;
  Builder b(s);
  StepSchedule out;
  out.microbatches = static_cast<int>(t.microbatches());
  out.pp_send_bytes = b.act() / b.rep;  // with SP only this GPU's slice crosses
  out.tokens = static_cast<double>(t.global_batch) * static_cast<double>(s.model.seq_len);
  out.model_flops = model_flops_per_token(s.model, b.pc) * out.tokens;

  auto map = layer_map(t);
  const double grad_bytes = 2.0;  // bf16 gradient buckets
  for (int st = 0; st < p.pp; ++st) {
    StageSchedule stage;
    stage.stage = st;
    for (int c = 0; c < p.vpp; ++c)
      stage.chunks.push_back(b.chunk(map[static_cast<size_t>(st)][static_cast<size_t>(c)], st == 0 && c == 0,
                                     st == p.pp - 1 && c == p.vpp - 1));
    stage.order = pipeline_order(t.schedule, p.pp, p.vpp, out.microbatches, st);

    StageParams params = stage_params(s.model, t, st);
    const double d = static_cast<double>(p.dp) * p.cp;
    if (t.zero < 3) {
      // Gradient reduction in buckets: all-reduce, or reduce-scatter for ZeRO
      // 1/2 followed by the parameter all-gather after the optimizer.
      auto buckets = [&](double params_n, int group, const std::string& what) {
        double bytes = params_n * grad_bytes;
        int n = std::max(1, static_cast<int>(std::ceil(bytes / kBucketBytes)));
        for (int i = 0; i < n; ++i) {
          stage.dp_comm.push_back({fmt::format("{} gradient bucket {}", what, i), CommKind::dp,
                                   t.zero == 0 ? Collective::all_reduce : Collective::reduce_scatter, bytes / n,
                                   group, t.overlap.dp_comm});
          if (t.zero >= 1)
            stage.dp_after.push_back({fmt::format("{} parameter all-gather {}", what, i), CommKind::dp,
                                      Collective::all_gather, bytes / n, group, t.overlap.dp_comm});
        }
      };
      if (d > 1) buckets(params.dense, p.dp * p.cp, "dense");
      if (params.expert > 0 && d / p.ep > 1) buckets(params.expert, p.dp * p.cp / p.ep, "expert");
    }
    // Adam touches master weights, two moments, the gradient and the bf16 copy:
    // 4+4+4 read and written, 2 read, 2 written = 28 bytes per local parameter.
    // Memory-bound: its few vector FLOPs are not counted.
    double local = params.dense / (t.zero >= 1 ? d : 1.0) + params.expert / (t.zero >= 1 ? d / p.ep : 1.0);
    stage.optimizer = {"optimizer", 0.0, 28.0 * local, false};
    out.stages.push_back(std::move(stage));
  }
  const double gpus_per_stage = static_cast<double>(p.tp) * p.cp * p.dp;
  for (const auto& st : out.stages) out.executed_flops += stage_flops(st) * gpus_per_stage;
  return out;
}

}  // namespace danlu
