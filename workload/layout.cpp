#include "workload/layout.hpp"

#include <fmt/format.h>

namespace danlu {

std::optional<LayoutProblem> layout_problem(const ModelSpec& m, const TrainingSpec& t, int gpus) {
  const Parallelism& p = t.par;
  const std::int64_t product = static_cast<std::int64_t>(p.tp) * p.pp * p.dp * p.cp;
  if (product != gpus)
    return LayoutProblem{"", fmt::format("tp*pp*dp*cp = {}*{}*{}*{} = {}, but cluster.gpus = {}", p.tp, p.pp, p.dp,
                                         p.cp, product, gpus)};
  // Megatron-Core folds expert parallelism over the attention ranks of a
  // pipeline stage: ep x etp must divide tp x cp x dp.
  const std::int64_t attention_ranks = static_cast<std::int64_t>(p.tp) * p.cp * p.dp;
  if (attention_ranks % (static_cast<std::int64_t>(p.ep) * p.etp) != 0)
    return LayoutProblem{"ep", fmt::format("ep*etp = {}*{} = {} must divide tp*cp*dp = {}*{}*{} = {}", p.ep, p.etp,
                                           static_cast<std::int64_t>(p.ep) * p.etp, p.tp, p.cp, p.dp, attention_ranks)};
  if (p.ep > 1 && !m.moe) return LayoutProblem{"ep", "expert parallelism needs an MoE model (model.moe)"};
  if (m.moe && m.moe->experts % p.ep != 0)
    return LayoutProblem{"ep", fmt::format("ep = {} must divide model.moe.experts = {}", p.ep, m.moe->experts)};
  if (m.heads % p.tp != 0)
    return LayoutProblem{"tp", fmt::format("model.heads = {} is not divisible by tp = {}", m.heads, p.tp)};
  // Fewer KV heads than tp are replicated (a warning); more must split evenly.
  if (m.kv_heads >= p.tp && m.kv_heads % p.tp != 0)
    return LayoutProblem{"tp", fmt::format("model.kv_heads = {} is not divisible by tp = {}", m.kv_heads, p.tp)};
  // Megatron-Core splits the SSM and linear-attention heads (and Mamba's
  // B/C groups) over TP; it has no context parallelism for their scan,
  // whose state runs through the whole sequence in order.
  if (m.mamba && (m.mamba->heads % p.tp != 0 || m.mamba->groups % p.tp != 0))
    return LayoutProblem{"tp", fmt::format("model.mamba heads {} and groups {} must both be divisible by tp = {}",
                                           m.mamba->heads, m.mamba->groups, p.tp)};
  if (m.linear_attention && (m.linear_attention->heads % p.tp != 0 || m.linear_attention->key_heads % p.tp != 0))
    return LayoutProblem{"tp", fmt::format("model.linear_attention heads {} and key_heads {} must both be divisible "
                                           "by tp = {}",
                                           m.linear_attention->heads, m.linear_attention->key_heads, p.tp)};
  if (m.mamba1 && m.mamba1->inner % p.tp != 0)
    return LayoutProblem{"tp",
                         fmt::format("model.mamba1 inner {} must be divisible by tp = {}", m.mamba1->inner, p.tp)};
  if (p.cp > 1 && (m.mamba || m.mamba1 || m.linear_attention))
    return LayoutProblem{"cp",
                         "context parallelism is not modelled for Mamba or linear-attention layers: their "
                         "scan carries its state through the sequence in order; use cp 1"};
  if (m.seq_len % p.cp != 0)
    return LayoutProblem{"cp", fmt::format("model.seq_len = {} is not divisible by cp = {}", m.seq_len, p.cp)};
  const int split_units = int(t.split_embedding) + int(t.split_loss);
  if (m.layers + split_units < static_cast<std::int64_t>(p.pp) * p.vpp)
    return LayoutProblem{"pp",
                         fmt::format("model.layers = {}{} is fewer than pipeline chunks pp*vpp = {}*{} = {}", m.layers,
                                     split_units ? fmt::format(" + {} (pipeline_split)", split_units) : "", p.pp, p.vpp,
                                     static_cast<std::int64_t>(p.pp) * p.vpp)};
  return std::nullopt;
}

}  // namespace danlu
