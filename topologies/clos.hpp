// A folded Clos of `radix`-port switches over `endpoints` ports, as danlu
// builds it (topologies/graph.cpp), counts it (fabric_counts) and models its
// collectives (network.cpp): one plan, so the three always describe the same
// fabric.
//
// Leaves give radix*o/(o+1) ports to endpoints and down/o to spines at
// oversubscription o. Two tiers hold at most `radix` leaves (each spine
// reaches every leaf once), i.e. radix*down endpoints: radix^2/2 at 1:1,
// 2/3 radix^2 at 2:1. Past that, pods of radix/2 leaves and radix/2
// aggregation switches are joined by a core tier (the k-ary fat-tree).
#pragma once

namespace danlu {

struct ClosPlan {
  int tiers = 0;  // 0: fewer than two endpoints, nothing to build
  int down = 0;   // leaf ports facing endpoints
  int up = 0;     // leaf ports facing the next tier
  int leaves = 0;
  int spines = 0;           // two tiers: spine switches
  int pods = 0;             // three tiers: pods of radix/2 leaves ...
  int aggregation = 0;      // ... and radix/2 aggregation switches each
  int cores_per_group = 0;  // core switches behind each aggregation position
  int cores = 0;
  int switches = 0;
  long links = 0;  // endpoint links and switch-to-switch links
};

ClosPlan clos_plan(int endpoints, int radix, double oversubscription);

}  // namespace danlu
