#include "models/reliability.hpp"

#include <algorithm>
#include <cmath>

namespace danlu {

Goodput goodput(const ReliabilitySpec& r, int gpus) {
  Goodput g;
  if (!r.given || gpus <= 0) return g;
  g.job_mtbf_s = r.gpu_mtbf_s / gpus;
  g.young_daly_s = std::sqrt(2.0 * r.checkpoint_write_s * g.job_mtbf_s);
  g.interval_s = r.checkpoint_interval_s > 0 ? r.checkpoint_interval_s : g.young_daly_s;
  if (g.interval_s <= 0) g.interval_s = g.job_mtbf_s;  // no checkpoint cost: checkpoint continuously
  g.checkpoint_share = g.interval_s > 0 ? r.checkpoint_write_s / g.interval_s : 0.0;
  g.failure_share = (g.interval_s / 2.0 + r.restart_s) / g.job_mtbf_s;
  // Below 1% the run no longer makes progress in any useful sense.
  g.goodput = std::max(0.01, 1.0 - g.checkpoint_share - g.failure_share);
  return g;
}

}  // namespace danlu
