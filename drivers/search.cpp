#include "drivers/search.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/error.hpp"

#include "workload/layout.hpp"

namespace danlu {

// Layouts a search tries at most: the default space of 16,384 GPUs is a
// few hundred thousand, at over a million a second; a billion is minutes
// and only reached by long limit lists.
constexpr double kMaxSearchLayouts = 1e9;

namespace {

std::vector<int> divisors(long n, long limit) {
  std::vector<int> out;
  for (long d = 1; d <= std::min(n, limit); ++d)
    if (n % d == 0) out.push_back(static_cast<int>(d));
  return out;
}

// A dimension's candidates: the search's own (`values`), or when the user
// limited it, the allowed values that `valid` accepts, even outside the
// search's usual range (micro-batch 16, TP past the scale-up domain).
template <typename T, typename Valid>
std::vector<T> candidates(const std::vector<T>& values, const std::vector<T>& allowed, Valid valid) {
  if (allowed.empty()) return values;
  std::vector<T> out;
  for (const T& v : allowed)
    if (valid(v) && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}
const auto any = [](auto) { return true; };

double score(const Result& r, Objective o) {
  switch (o) {
    case Objective::time: return r.step.time_s;
    case Objective::cost: return r.cost.cheaper_usd();
    case Objective::energy: return r.power.energy_mwh;
  }
  return r.step.time_s;
}

}  // namespace

std::vector<Candidate> search(const Scenario& base, Objective objective, int top, SearchStats* stats,
                              const std::function<void(long)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const ModelSpec& m = base.model;
  const int gpus = base.cluster.gpus;
  const std::int64_t batch = base.training.global_batch;
  auto engine = make_engine("analytic");
  std::vector<Candidate> best;
  SearchStats st;
  Scenario s = base;  // reused: only the layout fields change
  s.sweep.clear();
  s.explain.clear();

  // Tensor parallelism stays inside the scale-up domain and divides the heads
  // (and the KV heads, unless they are fewer and replicated).
  const SearchLimits& lim = base.search;
  // The embedding and loss places of pipeline_split count as layers, as the loader counts them.
  const int split_units = int(base.training.split_embedding) + int(base.training.split_loss);
  // The dimensions whose candidates depend on no other: chosen once, not in
  // the innermost loops.
  const auto mbs = candidates(std::vector<int>{1, 2, 4, 8}, lim.micro_batch, any);
  const auto vpps = candidates(std::vector<int>{1, 2, 4}, lim.vpp, any);
  const auto rcs =
      candidates(std::vector<Recompute>{Recompute::none, Recompute::selective, Recompute::full}, lim.recompute, any);
  const auto zeros = candidates(std::vector<int>{0, 1, 2, 3}, lim.zero, [](int z) { return z <= 3; });
  const auto tps = candidates(divisors(gpus, std::min(base.cluster.system.scale_up_domain, m.heads)), lim.tp,
                              [&](int v) { return gpus % v == 0 && v <= m.heads; });
  // Counted before any layout is tried: the divisor dimensions take at most
  // as many values as their divisors of the GPU count or their limit lists
  // hold, whichever is fewer.
  const auto at_most = [&](long cap, const std::vector<int>& limit) {
    const double d = static_cast<double>(divisors(gpus, cap).size());
    return limit.empty() ? d : std::min(d, static_cast<double>(limit.size()));
  };
  const double space = static_cast<double>(tps.size()) * at_most(16, lim.cp) * at_most(m.layers, lim.pp) *
                       at_most(m.moe ? m.moe->experts : 1, lim.ep) * (m.moe ? 2 : 1) * static_cast<double>(mbs.size()) *
                       static_cast<double>(vpps.size() * rcs.size() * zeros.size());
  if (space > kMaxSearchLayouts)
    throw InputError("search", fmt::format("up to {:.3g} layouts to try, over the {:.0e} a search takes; limit "
                                           "micro-batch and vpp to a few values each (search: block or --set)",
                                           space, kMaxSearchLayouts));
  long considered = 0;
  for (int tp : tps) {
    if (m.heads % tp != 0 || (m.kv_heads >= tp && m.kv_heads % tp != 0)) continue;
    for (int cp : candidates(divisors(gpus / tp, 16), lim.cp, [&](int v) { return (gpus / tp) % v == 0; })) {
      if (m.seq_len % cp != 0) continue;
      for (int pp : candidates(divisors(gpus / tp / cp, m.layers), lim.pp,
                               [&](int v) { return (gpus / tp / cp) % v == 0 && v <= m.layers; })) {
        const int dp = gpus / tp / cp / pp;
        if (!lim.dp.empty() && std::find(lim.dp.begin(), lim.dp.end(), dp) == lim.dp.end()) continue;
        // Expert parallelism folds over the tp x cp x dp ranks (Megatron-Core),
        // with experts whole (etp 1) or split like attention (etp = tp).
        const std::vector<int> etps = m.moe && tp > 1 ? std::vector<int>{1, tp} : std::vector<int>{tp};
        for (int ep : candidates(divisors(static_cast<long>(dp) * cp * tp, m.moe ? m.moe->experts : 1), lim.ep, any))
          for (int etp : etps) {
            if (m.moe && m.moe->experts % ep != 0) continue;
            if ((static_cast<long>(dp) * cp * tp) % (static_cast<long>(ep) * etp) != 0) continue;
            for (int mb : mbs) {
              if (batch % (static_cast<std::int64_t>(mb) * dp) != 0) continue;
              const std::int64_t micro = batch / (static_cast<std::int64_t>(mb) * dp);
              for (int vpp : vpps) {
                if (vpp > 1 && (pp < 2 || micro % pp != 0 || m.layers + split_units < pp * vpp)) continue;
                for (Recompute rc : rcs)
                  for (int zero : zeros) {
                    if (progress && ++considered % 4096 == 0) progress(st.generated);
                    TrainingSpec& t = s.training;
                    t.par.tp = tp, t.par.cp = cp, t.par.pp = pp, t.par.dp = dp, t.par.ep = ep, t.par.vpp = vpp;
                    t.par.etp = m.moe ? etp : tp;
                    t.micro_batch = mb;
                    t.recompute = rc;
                    t.zero = zero;
                    t.sequence_parallel = tp > 1;
                    t.schedule = vpp > 1 ? &pipeline_schedule("interleaved")
                                         : (base.training.schedule->runs_virtual_stages() ? &pipeline_schedule("1f1b")
                                                                                          : base.training.schedule);
                    // The loops above prune by the same rules (the fast path);
                    // the loader's own checks decide.
                    if (layout_problem(m, t, gpus) || !t.schedule->layout_problem(pp, micro).empty()) continue;
                    t.stage_layers = default_stage_layers(m.layers, t);
                    if (!stages_fill_chunks(t)) continue;
                    ++st.generated;
                    // Memory first: it is cheap, and most layouts fail it.
                    if (!memory_per_gpu(m, t, s.cluster.accelerator).fits()) continue;
                    ++st.fitted;
                    Result r = evaluate(s, *engine, "analytic");
                    double sc = score(r, objective);
                    if (static_cast<int>(best.size()) < top || sc < best.back().score) {
                      best.push_back({s, std::move(r), sc});
                      std::sort(best.begin(), best.end(),
                                [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
                      if (static_cast<int>(best.size()) > top) best.pop_back();
                    }
                  }
              }
            }
          }
      }
    }
  }
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stats) *stats = st;
  return best;
}

}  // namespace danlu
