#include "sim/schedule.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "models/memory.hpp"

namespace danlu {

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

void PassWork::append(const PassWork& o) {
  forward.insert(forward.end(), o.forward.begin(), o.forward.end());
  backward.insert(backward.end(), o.backward.begin(), o.backward.end());
  weight_grad.insert(weight_grad.end(), o.weight_grad.begin(), o.weight_grad.end());
}

namespace {

constexpr double kActBytes = 2.0;  // activations travel and rest in bf16

// Megatron's gradient buckets: 40M parameters of bf16 gradients.
constexpr double kBucketBytes = 40e6 * 2.0;

WorkItem compute(const char* name, double flops, double bytes, bool matmul = true, bool bf16_only = false) {
  WorkItem w;
  w.compute.name = name;
  w.compute.flops = flops;
  w.compute.bytes = bytes;
  w.compute.matmul = matmul;
  w.compute.bf16_only = bf16_only;
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

void stamp(std::vector<WorkItem>& items, int layer) {
  for (auto& w : items) w.compute.layer = w.comm.layer = layer;
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

  explicit Builder(const Scenario& s)
      : m(s.model), t(s.training), pc(count_params(s.model)), tp(s.training.par.tp), cp(s.training.par.cp),
        ep(s.training.par.ep), seq(static_cast<double>(s.model.seq_len)),
        tokens(static_cast<double>(s.model.seq_len) / s.training.par.cp * s.training.micro_batch),
        h(static_cast<double>(s.model.hidden)), sp(s.training.sequence_parallel && s.training.par.tp > 1),
        rep(sp ? tp : 1.0), zb(s.training.schedule == PipelineSchedule::zero_bubble) {}

  double act() const { return tokens * h * kActBytes; }  // one full activation tensor
  bool tp_on() const { return tp > 1; }
  int dp_group() const { return t.par.dp * t.par.cp; }

  // TP traffic around a tensor-parallel region: with sequence parallelism an
  // all-gather in and a reduce-scatter out (mirrored in the backward); without,
  // an all-reduce out in the forward and in on the backward.
  void tp_enter(std::vector<WorkItem>& w, bool backward) const {
    if (!tp_on()) return;
    if (sp)
      w.push_back(comm(backward ? "tp reduce-scatter" : "tp all-gather", CommKind::tp,
                       backward ? Collective::reduce_scatter : Collective::all_gather, act(), t.par.tp,
                       t.overlap.tp_comm));
    else if (backward)
      w.push_back(comm("tp all-reduce", CommKind::tp, Collective::all_reduce, act(), t.par.tp, t.overlap.tp_comm));
  }
  void tp_exit(std::vector<WorkItem>& w, bool backward) const {
    if (!tp_on()) return;
    if (sp)
      w.push_back(comm(backward ? "tp all-gather" : "tp reduce-scatter", CommKind::tp,
                       backward ? Collective::all_gather : Collective::reduce_scatter, act(), t.par.tp,
                       t.overlap.tp_comm));
    else if (!backward)
      w.push_back(comm("tp all-reduce", CommKind::tp, Collective::all_reduce, act(), t.par.tp, t.overlap.tp_comm));
  }

  double kv_width_per_gpu() const { return m.head_dim * std::max(1.0, m.kv_heads / tp); }
  double q_width_per_gpu() const { return static_cast<double>(m.heads) * m.head_dim / tp; }

  // HBM traffic of the attention projections: their weights, and the
  // activations they read and write.
  double projection_bytes() const {
    double weights = (2.0 * h * q_width_per_gpu() + 2.0 * h * kv_width_per_gpu()) * kActBytes;
    double acts = tokens * kActBytes * (h + 2 * (q_width_per_gpu() + 2 * kv_width_per_gpu()) + q_width_per_gpu() + h);
    return weights + acts;
  }
  // Fused attention reads Q, K, V and writes the output. Without it the score
  // matrix (heads x s x s per sequence) is written by QK^T, read and written by
  // the softmax, by dropout (plus its 1-byte mask) and read by the product with
  // V: 13 bytes per score with dropout, 8 without.
  double core_bytes() const {
    double qkvo = tokens * kActBytes * (2 * q_width_per_gpu() + 2 * kv_width_per_gpu() * cp);
    if (t.flash_attention) return qkvo;
    double scores = m.heads / tp * tokens * seq;
    return qkvo + scores * (m.dropout ? 13.0 : 8.0);
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
  double elementwise_bytes(bool moe) const {
    double f = moe ? static_cast<double>(m.moe->expert_ffn_hidden) *
                         (m.moe->top_k * m.moe->capacity_factor + m.moe->shared_experts)
                   : static_cast<double>(m.ffn_hidden);
    double act_fn = (m.activation == Activation::swiglu ? 3.0 : 2.0) * f / tp;
    double per_token = 10.0 * h / rep + act_fn + 2.0 * (q_width_per_gpu() + kv_width_per_gpu()) +
                       (m.dropout ? 4.0 * h / rep : 0.0);
    return tokens * per_token * kActBytes;
  }
  double layer_params(bool moe) const { return pc.attention_per_layer + (moe ? 0.0 : pc.dense_mlp_per_layer); }
  double a2a_bytes() const { return tokens / rep * m.moe->top_k * m.moe->capacity_factor * h * kActBytes; }

  // One layer's forward for one microbatch. `recompute` marks the repeat that
  // full recomputation runs before the backward (ZeRO-3 gathers once).
  std::vector<WorkItem> forward(bool moe, bool recompute) const {
    std::vector<WorkItem> w;
    LayerFlops f = layer_forward_flops(m, moe ? m.moe->dense_layers : 0, seq * t.micro_batch);
    const double split = tp * cp;
    if (t.zero == 3 && !recompute)
      w.push_back(comm("zero-3 weight all-gather", CommKind::dp, Collective::all_gather,
                       layer_params(moe) / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    tp_enter(w, false);
    w.push_back(compute(recompute ? "recompute qkv projection" : "qkv projection", f.qkv / split,
                        projection_bytes() * 0.75));
    if (cp > 1)
      w.push_back(comm("cp kv all-gather", CommKind::cp, Collective::all_gather,
                       2.0 * seq * t.micro_batch * kv_width_per_gpu() * kActBytes, t.par.cp, true));
    w.push_back(compute(recompute ? "recompute attention core" : "attention core", f.attn_core / split, core_bytes(),
                        true, true));
    w.push_back(compute(recompute ? "recompute output projection" : "output projection", f.out_proj / split,
                        projection_bytes() * 0.25));
    tp_exit(w, false);
    w.push_back(compute(recompute ? "recompute norms+elementwise" : "norms+elementwise", 0, elementwise_bytes(moe), false));
    tp_enter(w, false);
    if (moe) {
      if (ep > 1) w.push_back(comm("ep dispatch", CommKind::ep, Collective::all_to_all, a2a_bytes(), t.par.ep, false));
      double local = m.moe->experts / ep + m.moe->shared_experts;
      w.push_back(compute(recompute ? "recompute experts" : "experts", (f.mlp + f.router) / split,
                          mlp_bytes(static_cast<double>(m.moe->expert_ffn_hidden), local)));
      if (ep > 1) w.push_back(comm("ep combine", CommKind::ep, Collective::all_to_all, a2a_bytes(), t.par.ep, false));
    } else {
      w.push_back(compute(recompute ? "recompute mlp" : "mlp", f.mlp / split, mlp_bytes(static_cast<double>(m.ffn_hidden), 1.0)));
    }
    tp_exit(w, false);
    return w;
  }

  // One layer's backward: the forward's communication mirrored, matmuls at
  // twice the forward FLOPs (input and weight gradients; under zero-bubble the
  // weight half goes to the W pass). Full recomputation first repeats the
  // layer's forward, selective only the attention core.
  PassWork layer(bool moe) const {
    PassWork p;
    p.forward = forward(moe, false);
    std::vector<WorkItem>& w = p.backward;
    if (t.recompute == Recompute::full) w = forward(moe, true);
    LayerFlops f = layer_forward_flops(m, moe ? m.moe->dense_layers : 0, seq * t.micro_batch);
    const double split = tp * cp;
    auto matmul_bwd = [&](const char* name, const char* wname, double fwd_flops, double bytes) {
      w.push_back(compute(name, zb ? fwd_flops : 2.0 * fwd_flops, zb ? bytes : 2.0 * bytes));
      if (zb) p.weight_grad.push_back(compute(wname, fwd_flops, bytes));
    };
    if (t.zero == 3)
      w.push_back(comm("zero-3 weight all-gather", CommKind::dp, Collective::all_gather,
                       layer_params(moe) / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    tp_exit(w, true);
    if (moe) {
      if (ep > 1) w.push_back(comm("ep combine backward", CommKind::ep, Collective::all_to_all, a2a_bytes(), t.par.ep, false));
      double local = m.moe->experts / ep + m.moe->shared_experts;
      matmul_bwd("experts backward", "experts weight-grad", (f.mlp + f.router) / split,
                 mlp_bytes(static_cast<double>(m.moe->expert_ffn_hidden), local));
      if (ep > 1) w.push_back(comm("ep dispatch backward", CommKind::ep, Collective::all_to_all, a2a_bytes(), t.par.ep, false));
    } else {
      matmul_bwd("mlp backward", "mlp weight-grad", f.mlp / split, mlp_bytes(static_cast<double>(m.ffn_hidden), 1.0));
    }
    tp_enter(w, true);
    w.push_back(compute("norms+elementwise backward", 0, 2.0 * elementwise_bytes(moe), false));
    tp_exit(w, true);
    matmul_bwd("output projection backward", "output projection weight-grad", f.out_proj / split, projection_bytes() * 0.25);
    if (t.recompute == Recompute::selective)
      w.push_back(compute("recompute attention core", f.attn_core / split, core_bytes(), true, true));
    // The score matmuls have no weights: their backward is all input gradients.
    w.push_back(compute("attention core backward", 2.0 * f.attn_core / split, 2.0 * core_bytes(), true, true));
    if (cp > 1)
      w.push_back(comm("cp kv reduce-scatter", CommKind::cp, Collective::reduce_scatter,
                       2.0 * seq * t.micro_batch * kv_width_per_gpu() * kActBytes, t.par.cp, true));
    matmul_bwd("qkv projection backward", "qkv projection weight-grad", f.qkv / split, projection_bytes() * 0.75);
    tp_enter(w, true);
    if (t.zero == 3)
      w.push_back(comm("zero-3 gradient reduce-scatter", CommKind::dp, Collective::reduce_scatter,
                       layer_params(moe) / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    return p;
  }

  // Vocabulary-parallel embedding: a lookup, then a reduction over TP.
  PassWork head() const {
    PassWork p;
    p.forward.push_back(compute("embedding", 0, act() * 2 / rep, false));
    if (tp_on())
      p.forward.push_back(comm(sp ? "tp reduce-scatter" : "tp all-reduce", CommKind::tp,
                               sp ? Collective::reduce_scatter : Collective::all_reduce, act(), t.par.tp,
                               t.overlap.tp_comm));
    p.backward.push_back(compute("embedding backward", 0, act() * 2 / rep, false));
    return p;
  }

  // Final norm, logits (fp32 for the loss) and the loss; fp8 recipes keep the
  // output layer in bf16.
  PassWork tail() const {
    PassWork p;
    const double flops = logits_forward_flops(m, tokens) / tp;
    const double logits = 4.0 * tokens * static_cast<double>(m.vocab) / tp;
    const double weights = h * static_cast<double>(m.vocab) / tp * kActBytes;
    tp_enter(p.forward, false);
    p.forward.push_back(compute("logits", flops, logits + weights, true, true));
    p.forward.push_back(compute("loss", 0, 3.0 * logits, false));
    p.backward.push_back(compute("logits backward", zb ? flops : 2.0 * flops, 2.0 * logits + weights, true, true));
    if (zb) p.weight_grad.push_back(compute("logits weight-grad", flops, logits + weights, true, true));
    tp_enter(p.backward, true);
    return p;
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

namespace {
double pass_flops(const PassWork& p) {
  double total = 0;
  for (const auto* v : {&p.forward, &p.backward, &p.weight_grad})
    for (const WorkItem& w : *v)
      if (!w.is_comm) total += w.compute.flops;
  return total;
}
}  // namespace

StepSchedule build_schedule(const Scenario& s, bool expand) {
  const TrainingSpec& t = s.training;
  const Parallelism& p = t.par;
  Builder b(s);
  StepSchedule out;
  out.microbatches = static_cast<int>(t.microbatches());
  out.pp_send_bytes = b.act() / b.rep;  // with SP only this GPU's slice crosses
  out.tokens = static_cast<double>(t.global_batch) * static_cast<double>(s.model.seq_len);
  out.model_flops = model_flops_per_token(s.model, b.pc) * out.tokens;
  out.dense_layer = b.layer(false);
  if (s.model.moe) out.moe_layer = b.layer(true);
  out.head = b.head();
  out.tail = b.tail();

  auto map = layer_map(t);
  const double grad_bytes = 2.0;  // bf16 gradient buckets
  const double d = static_cast<double>(p.dp) * p.cp;
  double per_microbatch_flops = 0;  // one microbatch through the whole model, per GPU of a stage
  for (int st = 0; st < p.pp; ++st) {
    StageSchedule stage;
    stage.stage = st;
    for (int c = 0; c < p.vpp; ++c) {
      const LayerRange range = map.at(st, c);
      const bool head = st == 0 && c == 0, tail = st == p.pp - 1 && c == p.vpp - 1;
      for (int l = range.first; l < range.end(); ++l) (s.model.is_moe_layer(l) ? stage.moe_layers : stage.dense_layers) += 1;
      if (!expand) continue;
      ChunkWork chunk;
      for (int l = range.first; l < range.end(); ++l) chunk.layers.push_back(l);
      const std::vector<int>& layers = chunk.layers;
      if (head) chunk.append(out.head);  // its backward stays last as layers go in front
      for (int l : layers) {
        PassWork lw = s.model.is_moe_layer(l) ? out.moe_layer : out.dense_layer;
        stamp(lw.forward, l);
        stamp(lw.backward, l);
        stamp(lw.weight_grad, l);
        chunk.forward.insert(chunk.forward.end(), lw.forward.begin(), lw.forward.end());
        // Backward runs the layers in reverse.
        chunk.backward.insert(chunk.backward.begin(), lw.backward.begin(), lw.backward.end());
        chunk.weight_grad.insert(chunk.weight_grad.begin(), lw.weight_grad.begin(), lw.weight_grad.end());
      }
      if (tail) {
        chunk.forward.insert(chunk.forward.end(), out.tail.forward.begin(), out.tail.forward.end());
        chunk.backward.insert(chunk.backward.begin(), out.tail.backward.begin(), out.tail.backward.end());
        chunk.weight_grad.insert(chunk.weight_grad.begin(), out.tail.weight_grad.begin(), out.tail.weight_grad.end());
      }
      stage.chunks.push_back(std::move(chunk));
    }
    if (expand) stage.order = pipeline_order(t.schedule, p.pp, p.vpp, out.microbatches, st);
    per_microbatch_flops += stage.dense_layers * pass_flops(out.dense_layer) +
                            stage.moe_layers * (s.model.moe ? pass_flops(out.moe_layer) : 0.0);

    StageParams params = stage_params(s.model, t, st, map, b.pc);
    if (t.zero < 3) {
      // Gradient reduction in buckets: all-reduce, or reduce-scatter for ZeRO
      // 1/2 followed by the parameter all-gather after the optimizer.
      auto buckets = [&](double params_n, int group, const char* what, const char* after) {
        double bytes = params_n * grad_bytes;
        int n = std::max(1, static_cast<int>(std::ceil(bytes / kBucketBytes)));
        CommOp c;
        c.name = what;
        c.kind = CommKind::dp;
        c.op = t.zero == 0 ? Collective::all_reduce : Collective::reduce_scatter;
        c.bytes = bytes / n;
        c.group = group;
        c.overlappable = t.overlap.dp_comm;
        stage.dp_comm.push_back({c, n});
        if (t.zero >= 1) {
          c.name = after;
          c.op = Collective::all_gather;
          stage.dp_after.push_back({c, n});
        }
      };
      if (d > 1) buckets(params.dense, p.dp * p.cp, "dense gradient bucket", "dense parameter all-gather");
      if (params.expert > 0 && d / p.ep > 1)
        buckets(params.expert, p.dp * p.cp / p.ep, "expert gradient bucket", "expert parameter all-gather");
    }
    // Adam touches master weights, two moments, the gradient and the bf16 copy:
    // 4+4+4 read and written, 2 read, 2 written = 28 bytes per local parameter.
    // Memory-bound: its few vector FLOPs are not counted.
    double local = params.dense / (t.zero >= 1 ? d : 1.0) + params.expert / (t.zero >= 1 ? d / p.ep : 1.0);
    stage.optimizer = {"optimizer", -1, 0.0, 28.0 * local, false, false};
    out.stages.push_back(std::move(stage));
  }
  per_microbatch_flops += pass_flops(out.head) + pass_flops(out.tail);
  // Each microbatch passes every stage once; a stage has tp*cp*dp GPUs, each
  // doing 1/(tp*cp) of a replica's work.
  out.executed_flops = per_microbatch_flops * out.microbatches * static_cast<double>(p.tp) * p.cp * p.dp;
  return out;
}

}  // namespace danlu
