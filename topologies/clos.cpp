#include "topologies/clos.hpp"

#include <algorithm>

namespace danlu {

ClosPlan clos_plan(int endpoints, int radix, double oversubscription) {
  ClosPlan p;
  const int n = endpoints;
  // The leaf's split holds even without a fabric: it sets the span of ranks
  // a leaf would reach, which the network model uses at any size.
  p.down = std::max(1, static_cast<int>(radix * oversubscription / (oversubscription + 1.0)));
  p.up = std::max(1, static_cast<int>(p.down / oversubscription));
  if (n < 2) return p;
  if (n <= radix) {  // one switch
    p.tiers = 1;
    p.leaves = 1;
    p.switches = 1;
    p.links = n;
    return p;
  }
  p.leaves = (n + p.down - 1) / p.down;
  p.links = n + static_cast<long>(p.leaves) * p.up;
  if (p.leaves <= radix) {
    p.tiers = 2;
    p.spines = std::max(1, (p.leaves * p.up + radix - 1) / radix);
    p.switches = p.leaves + p.spines;
    return p;
  }
  p.tiers = 3;
  const int half = radix / 2;
  p.pods = (p.leaves + half - 1) / half;
  p.aggregation = p.pods * half;
  p.cores_per_group = std::max(1, (p.pods * half + radix - 1) / radix);
  p.cores = half * p.cores_per_group;
  p.switches = p.leaves + p.aggregation + p.cores;
  p.links += static_cast<long>(p.pods) * half * half;
  return p;
}

}  // namespace danlu
