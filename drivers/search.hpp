// Searching training layouts: every TP, PP, DP, CP, EP, vpp, micro-batch,
// recomputation and ZeRO combination that the model and cluster allow (by
// construction: divisors only), pruned by memory fit, ranked by an objective.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/evaluate.hpp"

namespace danlu {

enum class Objective { time, cost, energy };

struct Candidate {
  Scenario scenario;  // the base with this layout
  Result result;
  double score = 0;  // lower is better: step seconds, run USD or run MWh
};

struct SearchStats {
  long generated = 0;  // layouts the divisibility rules allow
  long fitted = 0;     // of which fit in memory and were evaluated
  double seconds = 0;
};

// Layouts of `base` for its model, cluster, global batch and precision; the
// best `top` by `objective`. `progress` (may be empty) is called now and then
// with the layouts generated so far; it may throw (BudgetError) to stop.
// InputError before any work when the space is too large to search.
std::vector<Candidate> search(const Scenario& base, Objective objective, int top, SearchStats* stats = nullptr,
                              const std::function<void(long)>& progress = {});

}  // namespace danlu
