#include "workload/schedule.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "workload/memory.hpp"

namespace danlu {

PerKind<int> comm_strides(const Parallelism& p) {
  PerKind<int> s;
  s[CommKind::tp] = p.stride("tp");
  s[CommKind::cp] = p.stride("cp");
  s[CommKind::ep] = p.expert_stride();
  s[CommKind::pp] = p.stride("pp");
  s[CommKind::dp] = p.stride("dp");
  return s;
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

WorkItem memory_op(const char* name, double bytes, int kernels = 1) {
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

void stamp(std::vector<WorkItem>& items, int layer) {
  for (auto& w : items) w.compute.layer = w.comm.layer = layer;
}

// One linear layer Y[m x n] = X[m x k] W[k x n], `count` of them (experts),
// and its backward: dX = dY W^T (m x k x n) and dW = X^T dY (k x n x m).
struct Linear {
  const char* fwd;
  const char* dgrad;
  const char* wgrad;
  double m, n, k, count = 1;
  bool low_precision = true;   // in the recipe's fp8/fp4 (the output layer and router are not)
  bool grouped = false;        // the experts' grouped GEMM
  bool up_projection = false;  // MLA's, from a latent (recompute_modules: mla_up_proj)
};

// Everything about one scenario that the per-layer builders need.
struct Builder {
  const ModelSpec& m;
  const TrainingSpec& t;
  const ParamCounts pc;
  const double tp, cp, ep;
  const double seq;     // full sequence
  const double tokens;  // local tokens of one microbatch on one CP rank
  const double h;
  const bool sp;
  const double rep;  // divisor of tensors outside the TP region
  const bool zb;
  const bool lowp;  // the training precision is below 16 bits
  const QuantizeCost quant;
  const Recompute recompute;  // what the layers built here recompute
  const bool offload;         // their saved activations go to host memory and back
  const bool windowed;        // their attention sees a sliding window

  Builder(const ModelSpec& model, const TrainingSpec& training, Recompute rc, bool off = false, bool window = false)
      : m(model),
        t(training),
        pc(count_params(model)),
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
        offload(off),
        windowed(window) {}

  double act() const { return tokens * h * kActBytes; }  // one full activation tensor
  // Whether this layer's backward repeats module `mod` (selective recompute).
  bool again(RecomputeModule mod) const { return recomputes(t, recompute, mod); }
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

  // A GEMM op; a low-precision one also quantises the tensor it reads
  // (`quantised` elements) for this product and the weight gradient's.
  WorkItem gemm(const char* name, double gm, double gn, double gk, double count, bool low, double quantised) const {
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
  // The experts' GEMMs are grouped; each expert holds the layer's m rows
  // in all three (the weight gradient's inner dimension).
  static void mark_grouped(WorkItem& w, const Linear& l) {
    w.compute.grouped = l.grouped;
    if (l.grouped) w.compute.group_rows = l.m;
  }
  void linear_forward(std::vector<WorkItem>& w, const Linear& l) const {
    w.push_back(gemm(l.fwd, l.m, l.n, l.k, l.count, l.low_precision, l.m * l.k * l.count));
    mark_grouped(w.back(), l);
  }
  // The input gradient stays on the critical path; the weight gradient goes
  // to the W pass under zero-bubble.
  void linear_backward(PassWork& p, const Linear& l) const {
    p.backward.push_back(gemm(l.dgrad, l.m, l.k, l.n, l.count, l.low_precision, l.m * l.n * l.count));
    mark_grouped(p.backward.back(), l);
    auto& wg = zb ? p.weight_grad : p.backward;
    wg.push_back(gemm(l.wgrad, l.k, l.n, l.m, l.count, l.low_precision, 0));
    mark_grouped(wg.back(), l);
  }

  // The projections into attention: one fused QKV GEMM, or MLA's low-rank
  // paths (the down-projections are small and not split over TP; the up-
  // projections split by heads).
  std::vector<Linear> attention_inputs() const {
    if (!m.mla)
      return {{"qkv projection", "qkv projection dgrad", "qkv projection wgrad", tokens,
               q_width_per_gpu() + 2 * kv_width_per_gpu(), h}};
    const MlaSpec& a = *m.mla;
    const double heads = m.heads / tp;
    std::vector<Linear> out;
    if (a.q_lora_rank > 0) {
      out.push_back({"q down-projection", "q down-projection dgrad", "q down-projection wgrad", tokens,
                     static_cast<double>(a.q_lora_rank), h});
      out.push_back({"q up-projection", "q up-projection dgrad", "q up-projection wgrad", tokens,
                     heads * a.qk_head_dim(), static_cast<double>(a.q_lora_rank)});
      out.back().up_projection = true;
    } else {
      out.push_back({"q projection", "q projection dgrad", "q projection wgrad", tokens, heads * a.qk_head_dim(), h});
    }
    out.push_back({"kv down-projection", "kv down-projection dgrad", "kv down-projection wgrad", tokens,
                   static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim), h});
    out.push_back({"kv up-projection", "kv up-projection dgrad", "kv up-projection wgrad", tokens,
                   heads * (a.qk_nope_head_dim + a.v_head_dim), static_cast<double>(a.kv_lora_rank)});
    out.back().up_projection = true;
    return out;
  }
  // Per-head widths on this GPU: what attention reads and writes per token.
  double v_width_per_gpu() const { return m.mla ? m.heads / tp * m.mla->v_head_dim : q_width_per_gpu(); }
  double qk_width_per_gpu() const { return m.mla ? m.heads / tp * m.mla->qk_head_dim() : q_width_per_gpu(); }
  Linear out_proj() const {
    return {"output projection", "output projection dgrad", "output projection wgrad", tokens, h, v_width_per_gpu()};
  }
  // Dense FFN, or shared experts (`width` = their summed FFN width), split
  // over tensor parallelism.
  Linear fc1(double width, double count, double rows) const {
    return {"mlp fc1", "mlp fc1 dgrad", "mlp fc1 wgrad", rows, ffn_input_matrices(m) * width / tp, h, count};
  }
  Linear fc2(double width, double count, double rows) const {
    return {"mlp fc2", "mlp fc2 dgrad", "mlp fc2 wgrad", rows, h, width / tp, count};
  }

  // Attention for one microbatch on this GPU: per sequence and local head,
  // queries against the keys they see (causal: half of them on average; with
  // CP, Megatron's load-balanced split keeps that true on every rank).
  WorkItem attention(const char* name, bool forward, double report_flops) const {
    WorkItem w;
    ComputeOp& c = w.compute;
    c.name = name;
    c.kind = forward ? OpKind::attention_forward : OpKind::attention_backward;
    c.flops = report_flops;
    c.m = seq / cp;
    // Causal: a query sees half the keys on average; in a sliding window, at
    // most the window (less the ramp at the sequence start).
    c.n = windowed ? std::min(seq / 2, static_cast<double>(m.sliding_window) *
                                           (1 - static_cast<double>(m.sliding_window) / (2 * seq)))
                   : seq / 2;
    // QK^T over the query-key head width, PV over the value width: k is
    // their mean (4 m n k counts both products).
    c.k = m.mla ? (m.mla->qk_head_dim() + m.mla->v_head_dim) / 2.0 : m.head_dim;
    c.count = t.micro_batch * m.heads / tp;
    // Q, K, V and O (and their gradients in the backward) through HBM once.
    const double kv = m.mla ? qk_width_per_gpu() + v_width_per_gpu() : 2 * kv_width_per_gpu();
    const double qkvo = tokens * kActBytes * (qk_width_per_gpu() + v_width_per_gpu() + kv * cp);
    c.bytes = forward ? qkvo : 2.0 * qkvo;
    return w;
  }
  // Without a fused kernel (Megatron before 2023) the s x s scores are GEMM
  // outputs, written, softmaxed (read + write), dropped out (read + write +
  // a 1-byte mask) and read again: batched GEMMs plus that traffic.
  double scores() const { return t.micro_batch * m.heads / tp * (seq / cp) * seq; }
  void unfused_attention_forward(std::vector<WorkItem>& w, const char* prefix_scores, const char* prefix_ctx) const {
    const double b = t.micro_batch * m.heads / tp, s = seq / cp;
    w.push_back(gemm(prefix_scores, s, seq, m.head_dim, b, false, 0));
    w.push_back(memory_op("softmax+dropout", scores() * (m.dropout ? 9.0 : 4.0), m.dropout ? 2 : 1));
    w.push_back(gemm(prefix_ctx, s, m.head_dim, seq, b, false, 0));
  }
  void unfused_attention_backward(std::vector<WorkItem>& w) const {
    const double b = t.micro_batch * m.heads / tp, s = seq / cp, d = m.head_dim;
    w.push_back(gemm("attention context dgrad", s, seq, d, b, false, 0));  // dP = dO V^T
    w.push_back(gemm("attention context vgrad", seq, d, s, b, false, 0));  // dV = P^T dO
    w.push_back(memory_op("softmax+dropout backward", scores() * (m.dropout ? 9.0 : 6.0), m.dropout ? 2 : 1));
    w.push_back(gemm("attention scores qgrad", s, d, seq, b, false, 0));  // dQ = dS K
    w.push_back(gemm("attention scores kgrad", seq, d, s, b, false, 0));  // dK = dS^T Q
  }

  double layer_params(bool moe) const { return pc.attention_per_layer + (moe ? 0.0 : pc.dense_mlp_per_layer); }
  // Bytes of the memory-bound work per token outside the TP region (norms,
  // residual adds; dropout masks when used), per GPU.
  double outside(double per_h) const { return tokens * per_h * h / rep; }
  // Gate x up (SwiGLU: read 2 f, write f) or the GeLU (read f, write f), on
  // `width` of FFN per token on this GPU.
  double activation_bytes(double rows, double width) const {
    return rows * width * kActBytes * (m.activation == Activation::swiglu ? 3.0 : 2.0);
  }
  double rope_bytes() const {
    const double width =
        m.mla ? (m.heads / tp + 1.0) * m.mla->qk_rope_head_dim : q_width_per_gpu() + kv_width_per_gpu();
    return tokens * 2.0 * width * kActBytes;
  }

  // The dense MLP's forward, inside the TP region.
  void mlp_forward(std::vector<WorkItem>& w, double f) const {
    linear_forward(w, fc1(f, 1, tokens));
    w.push_back(memory_op("activation", activation_bytes(tokens, f / tp)));
    linear_forward(w, fc2(f, 1, tokens));
  }
  void mlp_backward(PassWork& p, double f) const {
    linear_backward(p, fc2(f, 1, tokens));
    p.backward.push_back(memory_op("activation backward", 2.0 * activation_bytes(tokens, f / tp)));
    linear_backward(p, fc1(f, 1, tokens));
  }

  // The MoE block as Megatron-Core runs it (alltoall dispatcher): the router
  // on this GPU's tokens (sequence-parallel: 1/tp of them), a permute into
  // expert order, the dispatch all-to-all over the expert-parallel group, an
  // all-gather over the expert-tensor group when experts are split etp ways,
  // the local experts' grouped GEMMs, and the way back. The dispatcher needs
  // each expert's token count on the host before it can size the grouped
  // GEMMs: a device-to-host sync that drains the launch queue. Shared
  // experts are an MLP over the tensor-parallel group.
  double etp() const { return t.par.etp; }
  double moe_tokens() const { return tokens / rep; }
  double routed_copies() const { return moe_tokens() * m.moe->top_k * m.moe->expert_load(); }
  double local_experts() const { return m.moe->experts / ep; }
  // Rows each local expert's GEMM sees: the routed copies of the EP group,
  // gathered over the expert-tensor group, spread over the experts.
  double expert_rows() const { return routed_copies() * etp() * ep / m.moe->experts; }
  Linear expert_fc1() const {
    const double fe = static_cast<double>(m.moe->expert_ffn_hidden);
    return {"expert fc1",
            "expert fc1 dgrad",
            "expert fc1 wgrad",
            expert_rows(),
            ffn_input_matrices(m) * fe / etp(),
            h,
            local_experts(),
            true,
            true};
  }
  Linear expert_fc2() const {
    const double fe = static_cast<double>(m.moe->expert_ffn_hidden);
    return {"expert fc2", "expert fc2 dgrad", "expert fc2 wgrad", expert_rows(), h, fe / etp(), local_experts(), true,
            true};
  }
  double dispatch_bytes() const { return routed_copies() * h * kActBytes; }
  WorkItem ep_all_to_all(const char* name) const {
    WorkItem w = comm(name, CommKind::ep, Collective::all_to_all, dispatch_bytes(), t.par.ep, t.overlap.ep_comm);
    w.comm.fanout = m.moe->top_k;
    w.comm.reach = m.moe->routable_share();
    w.comm.hierarchical = t.ep_dispatch == EpDispatch::hierarchical;
    return w;
  }
  void expert_tp(std::vector<WorkItem>& w, bool gather) const {
    if (etp() <= 1) return;
    w.push_back(comm(gather ? "etp all-gather" : "etp reduce-scatter", CommKind::ep,
                     gather ? Collective::all_gather : Collective::reduce_scatter, dispatch_bytes() * etp(), t.par.etp,
                     false));
    w.back().comm.stride = 1;
  }
  // DeepEP-class dispatchers (Megatron's flex dispatcher with DeepEP or
  // Hybrid-EP) fuse the global permute into the dispatch kernel and the
  // probability-weighted unpermute into the combine: no copy of the tokens
  // top_k times around the all-to-all (Megatron-LM's DeepSeek-V3 on GB200
  // notes). The sort into expert order after it remains.
  bool fused_permute() const { return ep > 1 && t.ep_dispatch == EpDispatch::hierarchical; }
  void permute_op(std::vector<WorkItem>& w, const char* name, int kernels) const {
    if (!fused_permute()) w.push_back(memory_op(name, 2.0 * dispatch_bytes(), kernels));
  }
  WorkItem host_sync(const char* name) const {
    WorkItem w = memory_op(name, 0, 0);
    w.compute.kind = OpKind::host_sync;
    return w;
  }
  // Kernel counts of the MoE block's small ops, as Megatron-Core's router
  // and alltoall dispatcher launch them (each a PyTorch op the host must
  // dispatch): scores, top-k, normalisation and the load-balancing loss;
  // token counts and split sizes; the permutation's sort and gathers; the
  // sort into expert order after the all-to-all and its undoing; the
  // probability-weighted unpermute.
  static constexpr int kRouterKernels = 10, kPreprocessKernels = 4, kPermuteKernels = 4, kSortKernels = 2,
                       kUnpermuteKernels = 4;
  void moe_forward(std::vector<WorkItem>& w) const {
    const double fe = static_cast<double>(m.moe->expert_ffn_hidden);
    w.push_back(gemm("router", moe_tokens(), m.moe->experts, h, 1, false, 0));
    w.push_back(memory_op("router scores and top-k", moe_tokens() * m.moe->experts * 4.0 * 3, kRouterKernels));
    w.push_back(memory_op("dispatch preprocessing", moe_tokens() * m.moe->top_k * 8.0, kPreprocessKernels));
    // Dropless routing sizes the grouped GEMMs from the token counts, which
    // the host must read first; token dropping pads to a known capacity.
    if (!m.moe->token_drop) w.push_back(host_sync("token counts to the host"));
    permute_op(w, "permute", kPermuteKernels);
    if (ep > 1) w.push_back(ep_all_to_all("ep dispatch"));
    expert_tp(w, true);
    w.push_back(memory_op("sort by expert", 2.0 * dispatch_bytes() * etp(), kSortKernels));
    linear_forward(w, expert_fc1());
    w.push_back(memory_op("expert activation", activation_bytes(expert_rows() * local_experts(), fe / etp())));
    linear_forward(w, expert_fc2());
    w.push_back(memory_op("unsort", 2.0 * dispatch_bytes() * etp(), kSortKernels));
    expert_tp(w, false);
    if (ep > 1) w.push_back(ep_all_to_all("ep combine"));
    permute_op(w, "unpermute", kUnpermuteKernels);
    if (m.moe->shared_experts > 0) {
      tp_enter(w, false);
      mlp_forward(w, fe * m.moe->shared_experts);
      tp_exit(w, false);
    }
  }
  void moe_backward(PassWork& p) const {
    std::vector<WorkItem>& w = p.backward;
    const double fe = static_cast<double>(m.moe->expert_ffn_hidden);
    if (m.moe->shared_experts > 0) {
      tp_exit(w, true);
      mlp_backward(p, fe * m.moe->shared_experts);
      tp_enter(w, true);
    }
    permute_op(w, "unpermute backward", kUnpermuteKernels);
    if (ep > 1) w.push_back(ep_all_to_all("ep combine backward"));
    expert_tp(w, true);
    w.push_back(memory_op("unsort backward", 2.0 * dispatch_bytes() * etp(), kSortKernels));
    linear_backward(p, expert_fc2());
    if (again(RecomputeModule::moe_act))
      w.push_back(
          memory_op("recompute expert activation", activation_bytes(expert_rows() * local_experts(), fe / etp())));
    w.push_back(
        memory_op("expert activation backward", 2.0 * activation_bytes(expert_rows() * local_experts(), fe / etp())));
    linear_backward(p, expert_fc1());
    w.push_back(memory_op("sort by expert backward", 2.0 * dispatch_bytes() * etp(), kSortKernels));
    expert_tp(w, false);
    if (ep > 1) w.push_back(ep_all_to_all("ep dispatch backward"));
    permute_op(w, "permute backward", kPermuteKernels);
    // The router's gradient (bf16), through the top-k and scores.
    w.push_back(memory_op("router scores backward", moe_tokens() * m.moe->experts * 4.0 * 3, kRouterKernels));
    p.backward.push_back(gemm("router dgrad", moe_tokens(), h, m.moe->experts, 1, false, 0));
    (zb ? p.weight_grad : p.backward).push_back(gemm("router wgrad", h, m.moe->experts, moe_tokens(), 1, false, 0));
  }

  // One layer's forward for one microbatch. `recompute` marks the repeat that
  // full recomputation runs before the backward (ZeRO-3 gathers once).
  std::vector<WorkItem> forward(bool moe, bool recompute) const {
    std::vector<WorkItem> w;
    LayerFlops f = layer_forward_flops(m, moe ? m.moe->dense_layers : 0, seq * t.micro_batch);
    const double split = tp * cp;
    if (t.zero == 3 && !recompute)
      w.push_back(comm("zero-3 weight all-gather", CommKind::dp, Collective::all_gather,
                       layer_params(moe) / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    w.push_back(memory_op("input norm", outside(4.0)));
    tp_enter(w, false);
    for (const Linear& l : attention_inputs()) linear_forward(w, l);
    w.push_back(memory_op("rotary embedding", rope_bytes()));
    if (cp > 1)
      w.push_back(comm("cp kv all-gather", CommKind::cp, Collective::all_gather,
                       2.0 * seq * t.micro_batch * kv_width_per_gpu() * kActBytes, t.par.cp, true));
    if (t.flash_attention)
      w.push_back(attention(recompute ? "recompute attention" : "attention", true, f.attn_core / split));
    else
      unfused_attention_forward(w, "attention scores", "attention context");
    linear_forward(w, out_proj());
    tp_exit(w, false);
    w.push_back(memory_op("residual add + norm", outside(10.0 + (m.dropout ? 4.0 : 0.0)), 2));
    if (moe) {
      moe_forward(w);
    } else {
      tp_enter(w, false);
      mlp_forward(w, static_cast<double>(m.ffn_hidden));
      tp_exit(w, false);
    }
    w.push_back(memory_op("residual add", outside(6.0 + (m.dropout ? 4.0 : 0.0))));
    return w;
  }

  // One layer's backward: the forward's communication mirrored, each linear
  // layer's input and weight gradients (the weight half in the W pass under
  // zero-bubble). Full recomputation first repeats the layer's forward,
  // selective the modules it names, each before its own backward.
  PassWork layer(bool moe) const {
    PassWork p;
    p.forward = forward(moe, false);
    std::vector<WorkItem>& w = p.backward;
    // Offloaded activations leave during the forward and come back before
    // the backward needs them, beside the compute.
    if (offload) {
      TrainingSpec as_run = t;
      as_run.recompute = recompute;
      const double bytes = layer_activation_bytes(m, as_run, moe ? m.moe->dense_layers : 0);
      p.forward.push_back(host_copy("activation offload", bytes));
      w.push_back(host_copy("activation reload", bytes));
    }
    if (recompute == Recompute::full) {
      std::vector<WorkItem> again = forward(moe, true);
      w.insert(w.end(), again.begin(), again.end());
    }
    LayerFlops f = layer_forward_flops(m, moe ? m.moe->dense_layers : 0, seq * t.micro_batch);
    const double split = tp * cp;
    if (t.zero == 3)
      w.push_back(comm("zero-3 weight all-gather", CommKind::dp, Collective::all_gather,
                       layer_params(moe) / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    // Recomputed norms: both of the layer's, from their kept inputs.
    if (again(RecomputeModule::layernorm)) w.push_back(memory_op("recompute norms", outside(8.0), 2));
    w.push_back(memory_op("residual add backward", outside(6.0)));
    if (moe) {
      moe_backward(p);
    } else {
      if (again(RecomputeModule::mlp)) {
        tp_enter(w, false);
        mlp_forward(w, static_cast<double>(m.ffn_hidden));
      }
      tp_exit(w, true);
      mlp_backward(p, static_cast<double>(m.ffn_hidden));
      tp_enter(w, true);
    }
    w.push_back(memory_op("norm backward + residual", outside(12.0 + (m.dropout ? 4.0 : 0.0)), 2));
    tp_exit(w, true);
    linear_backward(p, out_proj());
    if (m.mla && again(RecomputeModule::mla_up_proj)) {
      for (const Linear& l : attention_inputs())
        if (l.up_projection) {
          linear_forward(w, l);
          w.back().compute.name = "recompute up-projection";
        }
      w.push_back(memory_op("recompute rotary embedding", rope_bytes()));
    }
    if (t.flash_attention) {
      if (again(RecomputeModule::core_attn)) w.push_back(attention("recompute attention", true, f.attn_core / split));
      // The score matmuls have no weights: their backward is all input gradients.
      w.push_back(attention("attention backward", false, 2.0 * f.attn_core / split));
    } else {
      if (again(RecomputeModule::core_attn))
        unfused_attention_forward(w, "recompute attention scores", "recompute attention context");
      unfused_attention_backward(w);
    }
    if (cp > 1)
      w.push_back(comm("cp kv reduce-scatter", CommKind::cp, Collective::reduce_scatter,
                       2.0 * seq * t.micro_batch * kv_width_per_gpu() * kActBytes, t.par.cp, true));
    w.push_back(memory_op("rotary embedding backward", rope_bytes()));
    const std::vector<Linear> inputs = attention_inputs();
    for (auto it = inputs.rbegin(); it != inputs.rend(); ++it) linear_backward(p, *it);
    tp_enter(w, true);
    w.push_back(memory_op("input norm backward", outside(6.0)));
    if (t.zero == 3)
      w.push_back(comm("zero-3 gradient reduce-scatter", CommKind::dp, Collective::reduce_scatter,
                       layer_params(moe) / tp * kActBytes, dp_group(), t.overlap.dp_comm));
    return p;
  }

  // Vocabulary-parallel embedding: a lookup, then a reduction over TP.
  PassWork head() const {
    PassWork p;
    p.forward.push_back(memory_op("embedding", act() * 2 / rep));
    if (tp_on())
      p.forward.push_back(comm(sp ? "tp reduce-scatter" : "tp all-reduce", CommKind::tp,
                               sp ? Collective::reduce_scatter : Collective::all_reduce, act(), t.par.tp,
                               t.overlap.tp_comm));
    p.backward.push_back(memory_op("embedding backward", act() * 2 / rep));
    return p;
  }

  // Final norm, the output layer (bf16 in every recipe) and the loss over
  // fp32 logits.
  PassWork tail() const {
    PassWork p;
    const Linear out{"logits", "logits dgrad", "logits wgrad", tokens, static_cast<double>(m.vocab) / tp, h, 1, false};
    const double logits = 4.0 * tokens * static_cast<double>(m.vocab) / tp;
    auto head = [&](PassWork& q) {
      q.forward.push_back(memory_op("final norm", outside(4.0)));
      tp_enter(q.forward, false);
      linear_forward(q.forward, out);
      q.forward.push_back(memory_op("loss", 3.0 * logits, 3));
      std::vector<WorkItem> back;
      back.push_back(memory_op("loss backward", 2.0 * logits));
      PassWork lin;
      linear_backward(lin, out);
      back.insert(back.end(), lin.backward.begin(), lin.backward.end());
      q.weight_grad.insert(q.weight_grad.end(), lin.weight_grad.begin(), lin.weight_grad.end());
      tp_enter(back, true);
      back.push_back(memory_op("final norm backward", outside(6.0)));
      q.backward.insert(q.backward.begin(), back.begin(), back.end());
    };
    head(p);
    // Multi-token prediction: each module norms the hidden state and the next
    // token's embedding, projects their concatenation, runs one more layer and
    // the shared head again; its backward runs first.
    for (int i = 0; i < m.mtp_layers; ++i) {
      PassWork mtp;
      mtp.forward.push_back(memory_op("mtp norms", outside(8.0), 2));
      linear_forward(mtp.forward,
                     {"mtp projection", "mtp projection dgrad", "mtp projection wgrad", tokens, h / tp, 2 * h});
      PassWork layer_work = layer(m.moe.has_value());
      mtp.forward.insert(mtp.forward.end(), layer_work.forward.begin(), layer_work.forward.end());
      head(mtp);
      std::vector<WorkItem> back = mtp.backward;
      back.insert(back.end(), layer_work.backward.begin(), layer_work.backward.end());
      PassWork proj;
      linear_backward(proj, {"mtp projection", "mtp projection dgrad", "mtp projection wgrad", tokens, h / tp, 2 * h});
      back.insert(back.end(), proj.backward.begin(), proj.backward.end());
      p.forward.insert(p.forward.end(), mtp.forward.begin(), mtp.forward.end());
      p.backward.insert(p.backward.begin(), back.begin(), back.end());
      p.weight_grad.insert(p.weight_grad.end(), layer_work.weight_grad.begin(), layer_work.weight_grad.end());
      p.weight_grad.insert(p.weight_grad.end(), mtp.weight_grad.begin(), mtp.weight_grad.end());
      p.weight_grad.insert(p.weight_grad.end(), proj.weight_grad.begin(), proj.weight_grad.end());
    }
    return p;
  }
};

}  // namespace

const PassWork& StepSchedule::layer(bool moe) const {
  for (const auto& v : variants)
    if (v.moe == moe) return v.work;
  throw std::logic_error("no layer variant of that kind");
}

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

StepSchedule build_schedule(const ModelSpec& model, const TrainingSpec& t, bool expand) {
  const Parallelism& p = t.par;
  Builder b(model, t, t.recompute);
  StepSchedule out;
  out.microbatches = static_cast<int>(t.microbatches());
  out.pp_send_bytes = b.act() / b.rep;  // with SP only this GPU's slice crosses
  out.tokens = static_cast<double>(t.global_batch) * static_cast<double>(model.seq_len);
  out.model_flops = model_flops_per_token(model) * out.tokens;
  out.head = b.head();
  out.tail = b.tail();
  // Each distinct kind of layer is built once; stages count theirs.
  auto variant = [&](bool moe, Recompute rc, bool offload, bool windowed) {
    for (size_t i = 0; i < out.variants.size(); ++i) {
      const auto& v = out.variants[i];
      if (v.moe == moe && v.recompute == rc && v.offload == offload && v.windowed == windowed) return i;
    }
    out.variants.push_back({moe, rc, offload, windowed, Builder(model, t, rc, offload, windowed).layer(moe)});
    return out.variants.size() - 1;
  };
  variant(false, t.recompute, false, false);
  if (model.moe) variant(true, t.recompute, false, false);
  auto map = layer_map(t);
  const double grad_bytes = 2.0;  // bf16 gradient buckets
  const double d = static_cast<double>(p.dp) * p.cp;
  double per_microbatch_flops = 0;  // one microbatch through the whole model, per GPU of a stage
  for (int st = 0; st < p.pp; ++st) {
    StageSchedule stage;
    stage.stage = st;
    // The stage's first offload_activations layers (in chunk order) offload.
    int local_layer = 0;
    std::vector<std::vector<size_t>> chunk_variants(static_cast<size_t>(p.vpp));
    for (int c = 0; c < p.vpp; ++c) {
      const LayerRange range = map.at(st, c);
      for (int l = range.first; l < range.end(); ++l, ++local_layer) {
        const size_t v = variant(model.is_moe_layer(l), layer_recompute(t, l - range.first),
                                 local_layer < t.offload_activation_layers, model.windowed_layer(l));
        chunk_variants[static_cast<size_t>(c)].push_back(v);
        if (stage.variant_count.size() <= v) stage.variant_count.resize(v + 1, 0);
        stage.variant_count[v] += 1;
      }
    }
    for (int c = 0; expand && c < p.vpp; ++c) {
      const LayerRange range = map.at(st, c);
      const bool head = st == 0 && c == 0, tail = st == p.pp - 1 && c == p.vpp - 1;
      ChunkWork chunk;
      for (int l = range.first; l < range.end(); ++l) chunk.layers.push_back(l);
      if (head) chunk.append(out.head);  // its backward stays last as layers go in front
      for (int l : chunk.layers) {
        PassWork lw = out.variants[chunk_variants[static_cast<size_t>(c)][static_cast<size_t>(l - range.first)]].work;
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
    if (expand) stage.order = t.schedule->order(p.pp, p.vpp, out.microbatches, st);
    for (size_t v = 0; v < stage.variant_count.size(); ++v)
      per_microbatch_flops += stage.variant_count[v] * pass_flops(out.variants[v].work);

    StageParams params = stage_params(model, t, st, map, b.pc);
    if (t.zero < 3) {
      // Gradient reduction in buckets: all-reduce, or reduce-scatter for ZeRO
      // 1/2 followed by the parameter all-gather after the optimizer.
      auto buckets = [&](double params_n, int group, const char* what, const char* after, int stride = 0) {
        double bytes = params_n * grad_bytes;
        // At most a million buckets (80 TB of gradients a stage): the count
        // stays an int for any model the loader lets through.
        int n = static_cast<int>(std::clamp(std::ceil(bytes / kBucketBytes), 1.0, 1e6));
        CommOp c;
        c.name = what;
        c.kind = CommKind::dp;
        c.op = t.zero == 0 ? Collective::all_reduce : Collective::reduce_scatter;
        c.bytes = bytes / n;
        c.group = group;
        c.stride = stride;
        c.overlappable = t.overlap.dp_comm;
        stage.dp_comm.push_back({c, n});
        if (t.zero >= 1) {
          c.name = after;
          c.op = Collective::all_gather;
          stage.dp_after.push_back({c, n});
        }
      };
      if (d > 1) buckets(params.dense, p.dp * p.cp, "dense gradient bucket", "dense parameter all-gather");
      if (params.expert > 0 && p.expert_data_parallel() > 1)
        buckets(params.expert, p.expert_data_parallel(), "expert gradient bucket", "expert parameter all-gather",
                p.expert_data_stride());
    }
    // Memory-bound: its few vector FLOPs are not counted.
    double local =
        params.dense / (t.zero >= 1 ? d : 1.0) + params.expert / (t.zero >= 1 ? p.expert_data_parallel() : 1.0);
    stage.optimizer = memory_op("optimizer", optimizer_step_bytes(t) * local).compute;
    out.stages.push_back(std::move(stage));
  }
  per_microbatch_flops += pass_flops(out.head) + pass_flops(out.tail);
  // Each microbatch passes every stage once; a stage has tp*cp*dp GPUs, each
  // doing 1/(tp*cp) of a replica's work.
  out.executed_flops = per_microbatch_flops * out.microbatches * static_cast<double>(p.tp) * p.cp * p.dp;
  return out;
}

}  // namespace danlu
