// The mixture-of-experts block as Megatron-Core runs it (alltoall
// dispatcher): the router on this GPU's tokens (sequence-parallel: 1/tp of
// them), a permute into expert order, the dispatch all-to-all over the
// expert-parallel group, an all-gather over the expert-tensor group when
// experts are split etp ways, the local experts' grouped GEMMs, and the way
// back. The dispatcher needs each expert's token count on the host before
// it can size the grouped GEMMs: a device-to-host sync that drains the
// launch queue. Shared experts are an MLP over the tensor-parallel group.
#include <memory>

#include "workload/layer.hpp"
#include "workload/layers/ffn.hpp"

namespace danlu {

namespace {

// Kernel counts of the MoE block's small ops, as Megatron-Core's router
// and alltoall dispatcher launch them (each a PyTorch op the host must
// dispatch): scores, top-k, normalisation and the load-balancing loss;
// token counts and split sizes; the permutation's sort and gathers; the
// sort into expert order after the all-to-all and its undoing; the
// probability-weighted unpermute.
constexpr int kRouterKernels = 10, kPreprocessKernels = 4, kPermuteKernels = 4, kSortKernels = 2, kUnpermuteKernels = 4;

// The quantities of one MoE layer on one GPU.
struct Experts {
  const LayerContext& c;
  const MoeSpec& moe;
  explicit Experts(const LayerContext& ctx) : c(ctx), moe(*ctx.m.moe) {}

  double etp() const { return c.t.par.etp; }
  // The width tokens travel and experts work at: LatentMoE's latent, or hidden.
  double width() const { return moe.latent_hidden > 0 ? static_cast<double>(moe.latent_hidden) : c.h; }
  double ffn() const { return static_cast<double>(moe.expert_ffn_hidden); }
  double tokens() const { return c.tokens / c.rep; }
  double routed_copies() const { return tokens() * moe.top_k * moe.expert_load(); }
  double local_experts() const { return moe.experts / c.ep; }
  // Rows each local expert's GEMM sees: the routed copies of the EP group,
  // gathered over the expert-tensor group, spread over the experts.
  double rows() const { return routed_copies() * etp() * c.ep / moe.experts; }
  Linear fc1() const {
    return {"expert fc1",
            "expert fc1 dgrad",
            "expert fc1 wgrad",
            rows(),
            ffn_input_matrices(c.m) * ffn() / etp(),
            width(),
            local_experts(),
            true,
            true};
  }
  Linear fc2() const {
    return {"expert fc2", "expert fc2 dgrad", "expert fc2 wgrad", rows(), width(), ffn() / etp(), local_experts(), true,
            true};
  }
  // LatentMoE's projections into the latent before the dispatch and back
  // after the combine, on this GPU's tokens; like the router, whole on
  // every TP rank.
  Linear latent_down() const {
    return {"latent down-projection",
            "latent down-projection dgrad",
            "latent down-projection wgrad",
            tokens(),
            width(),
            c.h};
  }
  Linear latent_up() const {
    return {"latent up-projection", "latent up-projection dgrad", "latent up-projection wgrad", tokens(), c.h, width()};
  }
  double dispatch_bytes() const { return routed_copies() * width() * kActBytes; }
  double activation_fn_bytes() const { return c.activation_fn_bytes(rows() * local_experts(), ffn() / etp()); }
  WorkItem all_to_all(const char* name) const {
    WorkItem w = comm(name, CommKind::ep, Collective::all_to_all, dispatch_bytes(), c.t.par.ep, c.t.overlap.ep_comm);
    w.comm.fanout = moe.top_k;
    w.comm.reach = moe.routable_share();
    w.comm.hierarchical = c.t.ep_dispatch == EpDispatch::hierarchical;
    return w;
  }
  void expert_tp(std::vector<WorkItem>& w, bool gather) const {
    if (etp() <= 1) return;
    w.push_back(comm(gather ? "etp all-gather" : "etp reduce-scatter", CommKind::ep,
                     gather ? Collective::all_gather : Collective::reduce_scatter, dispatch_bytes() * etp(),
                     c.t.par.etp, false));
    w.back().comm.stride = 1;
  }
  // DeepEP-class dispatchers (Megatron's flex dispatcher with DeepEP or
  // Hybrid-EP) fuse the global permute into the dispatch kernel and the
  // probability-weighted unpermute into the combine: no copy of the tokens
  // top_k times around the all-to-all (Megatron-LM's DeepSeek-V3 on GB200
  // notes). The sort into expert order after it remains.
  bool fused_permute() const { return c.ep > 1 && c.t.ep_dispatch == EpDispatch::hierarchical; }
  void permute(std::vector<WorkItem>& w, const char* name, int kernels) const {
    if (!fused_permute()) w.push_back(memory_op(name, 2.0 * dispatch_bytes(), kernels));
  }
  WorkItem router_scores(const char* name) const {
    return memory_op(name, tokens() * moe.experts * 4.0 * 3, kRouterKernels);
  }
  double sort_bytes() const { return 2.0 * dispatch_bytes() * etp(); }
};

WorkItem host_sync(const char* name) {
  WorkItem w = memory_op(name, 0, 0);
  w.compute.kind = OpKind::host_sync;
  return w;
}

class Moe final : public LayerKind {
 public:
  std::string_view name() const override { return "moe"; }
  bool routed() const override { return true; }

  PartParams params(const ModelSpec& m) const override {
    const MoeSpec& e = *m.moe;
    const double h = static_cast<double>(m.hidden);
    const double expert = expert_params(m), shared = e.shared_experts * shared_params(m);
    const double dense = h * e.experts + latent_params(m);  // the router and LatentMoE's projections
    return {e.experts * expert + shared + dense, e.top_k * expert + shared + dense, e.experts * expert, 0};
  }
  GpuParams params_per_gpu(const ModelSpec& m, const Parallelism& p, const PartParams&) const override {
    const MoeSpec& e = *m.moe;
    const double tp = p.tp;
    const double experts_split = static_cast<double>(p.etp) * p.ep;
    return {e.shared_experts * shared_params(m) / tp + latent_params(m) + static_cast<double>(m.hidden) * e.experts,
            e.experts * expert_params(m) / experts_split};
  }
  // ZeRO-3 gathers the layer's attention ahead of it; the experts' gather
  // over the expert-data group is not modelled yet.
  double zero3_gathered(const ModelSpec&, const PartParams&) const override { return 0; }
  double zero3_buffer(const ModelSpec& m, const PartParams&) const override { return expert_params(m) * m.moe->top_k; }

  // The routed copies this GPU's experts process: its tokens' top_k
  // assignments (times the capacity factor), gathered over the expert-
  // tensor group; each keeps the dispatched hidden state (the expert FC1's
  // input) and its share of the expert's FFN width. moe_act recomputes the
  // experts' activation output (fc2's input).
  double activation_bytes(const LayerContext& c, const LayerPart&) const override {
    const MoeSpec& e = *c.m.moe;
    const double gemm_in = saved_gemm_input_bytes(c.t);
    const double fc1_out = 2.0 * ffn_input_matrices(c.m);
    const double act_out = c.again(RecomputeModule::moe_act) ? 0.0 : gemm_in;
    const double fe = static_cast<double>(e.expert_ffn_hidden);
    const double etp = c.t.par.etp;
    const double rows = c.tokens / c.rep * e.top_k * e.expert_load() * etp;
    const double width = e.latent_hidden > 0 ? static_cast<double>(e.latent_hidden) : c.h;
    const double per_row = gemm_in * width + (fc1_out + act_out) * fe / etp;
    // LatentMoE: the up-projection's input, the combined latent tokens.
    const double latent = e.latent_hidden > 0 ? gemm_in * c.tokens / c.rep * width : 0.0;
    return rows * per_row + latent + e.shared_experts * dense_ffn_activation_bytes(c, fe);
  }

  void forward(const LayerContext& c, const LayerPart&, std::vector<WorkItem>& w, bool) const override {
    const Experts x(c);
    w.push_back(c.gemm("router", x.tokens(), x.moe.experts, c.h, 1, false, 0));
    w.push_back(x.router_scores("router scores and top-k"));
    w.push_back(memory_op("dispatch preprocessing", x.tokens() * x.moe.top_k * 8.0, kPreprocessKernels));
    // Dropless routing sizes the grouped GEMMs from the token counts, which
    // the host must read first; token dropping pads to a known capacity.
    if (!x.moe.token_drop) w.push_back(host_sync("token counts to the host"));
    if (x.moe.latent_hidden > 0) c.linear_forward(w, x.latent_down());
    x.permute(w, "permute", kPermuteKernels);
    if (c.ep > 1) w.push_back(x.all_to_all("ep dispatch"));
    x.expert_tp(w, true);
    w.push_back(memory_op("sort by expert", x.sort_bytes(), kSortKernels));
    c.linear_forward(w, x.fc1());
    w.push_back(memory_op("expert activation", x.activation_fn_bytes()));
    c.linear_forward(w, x.fc2());
    w.push_back(memory_op("unsort", x.sort_bytes(), kSortKernels));
    x.expert_tp(w, false);
    if (c.ep > 1) w.push_back(x.all_to_all("ep combine"));
    x.permute(w, "unpermute", kUnpermuteKernels);
    if (x.moe.latent_hidden > 0) c.linear_forward(w, x.latent_up());
    if (x.moe.shared_experts > 0) {
      c.tp_enter(w, false);
      dense_ffn_forward(c, w, x.ffn() * x.moe.shared_experts);
      c.tp_exit(w, false);
    }
  }

  void backward(const LayerContext& c, const LayerPart&, PassWork& p) const override {
    const Experts x(c);
    std::vector<WorkItem>& w = p.backward;
    if (x.moe.shared_experts > 0) {
      c.tp_exit(w, true);
      dense_ffn_backward(c, p, x.ffn() * x.moe.shared_experts);
      c.tp_enter(w, true);
    }
    if (x.moe.latent_hidden > 0) c.linear_backward(p, x.latent_up());
    x.permute(w, "unpermute backward", kUnpermuteKernels);
    if (c.ep > 1) w.push_back(x.all_to_all("ep combine backward"));
    x.expert_tp(w, true);
    w.push_back(memory_op("unsort backward", x.sort_bytes(), kSortKernels));
    c.linear_backward(p, x.fc2());
    if (c.again(RecomputeModule::moe_act))
      w.push_back(memory_op("recompute expert activation", x.activation_fn_bytes()));
    w.push_back(memory_op("expert activation backward", 2.0 * x.activation_fn_bytes()));
    c.linear_backward(p, x.fc1());
    w.push_back(memory_op("sort by expert backward", x.sort_bytes(), kSortKernels));
    x.expert_tp(w, false);
    if (c.ep > 1) w.push_back(x.all_to_all("ep dispatch backward"));
    x.permute(w, "permute backward", kPermuteKernels);
    if (x.moe.latent_hidden > 0) c.linear_backward(p, x.latent_down());
    // The router's gradient (bf16), through the top-k and scores.
    w.push_back(x.router_scores("router scores backward"));
    p.backward.push_back(c.gemm("router dgrad", x.tokens(), c.h, x.moe.experts, 1, false, 0));
    (c.zb ? p.weight_grad : p.backward).push_back(c.gemm("router wgrad", c.h, x.moe.experts, x.tokens(), 1, false, 0));
  }

 private:
  // One routed expert's MLP (at the latent width in LatentMoE), one shared
  // expert's (at the hidden width), and LatentMoE's two projections.
  static double expert_params(const ModelSpec& m) {
    const std::int64_t in = m.moe->latent_hidden > 0 ? m.moe->latent_hidden : m.hidden;
    return ffn_matrices(m) * static_cast<double>(in) * static_cast<double>(m.moe->expert_ffn_hidden);
  }
  static double shared_params(const ModelSpec& m) {
    return ffn_matrices(m) * static_cast<double>(m.hidden) * static_cast<double>(m.moe->expert_ffn_hidden);
  }
  static double latent_params(const ModelSpec& m) {
    return 2.0 * static_cast<double>(m.hidden) * static_cast<double>(m.moe->latent_hidden);
  }
};

}  // namespace

std::unique_ptr<LayerKind> make_moe_layer() { return std::make_unique<Moe>(); }

}  // namespace danlu
