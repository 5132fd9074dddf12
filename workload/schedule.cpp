#include "workload/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "workload/block.hpp"
#include "workload/ends.hpp"
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

namespace {
// Megatron's gradient buckets: 40M parameters of bf16 gradients.
constexpr double kBucketBytes = 40e6 * 2.0;

void stamp(std::vector<WorkItem>& items, int layer) {
  for (auto& w : items) w.compute.layer = w.comm.layer = layer;
}
}  // namespace

const PassWork& StepSchedule::layer(bool moe) const {
  for (const auto& v : variants)
    if (v.type.routed() == moe) return v.work;
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
  return build_schedule(model, t, count_params(model), expand);
}

StepSchedule build_schedule(const ModelSpec& model, const TrainingSpec& t, const ParamCounts& pc, bool expand) {
  const Parallelism& p = t.par;
  const LayerContext b(model, t, t.recompute);
  StepSchedule out;
  out.microbatches = static_cast<int>(t.microbatches());
  out.pp_send_bytes = b.act() / b.rep;  // with SP only this GPU's slice crosses
  out.tokens = static_cast<double>(t.global_batch) * static_cast<double>(model.seq_len);
  out.model_flops = model_flops_per_token(model) * out.tokens;
  out.head = lower_embedding(b);
  out.tail = lower_tail(b, pc);
  // Each distinct layer is built once; stages count theirs.
  std::vector<int> variant_type;
  auto variant = [&](int type, Recompute rc, bool offload) {
    for (size_t i = 0; i < out.variants.size(); ++i) {
      const auto& v = out.variants[i];
      if (variant_type[i] == type && v.recompute == rc && v.offload == offload) return i;
    }
    const LayerType& lt = model.stack.types[static_cast<size_t>(type)];
    out.variants.push_back(
        {lt, rc, offload, lower_layer(LayerContext(model, t, rc, offload), lt, pc.types[static_cast<size_t>(type)])});
    variant_type.push_back(type);
    return out.variants.size() - 1;
  };
  // The full-sequence types first, as the stack numbers them (build_stack).
  for (size_t type = 0; type < model.stack.types.size(); ++type)
    if (!model.stack.types[type].windowed()) variant(static_cast<int>(type), t.recompute, false);
  auto map = layer_map(t);
  const std::vector<StageParams> stage_params_all = all_stage_params(model, t, map, pc);
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
        const size_t v = variant(model.stack.index[static_cast<size_t>(l)], layer_recompute(t, l - range.first),
                                 local_layer < t.offload_activation_layers);
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

    const StageParams& params = stage_params_all[static_cast<size_t>(st)];
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
