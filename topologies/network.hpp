// The cluster as a collective sees it, in closed form: per-GPU bandwidth and
// per-step latency inside the scale-up domain and across the scale-out fabric,
// and how a group of ranks falls across the two. The analytic engine costs
// every collective with this (it must stay microseconds per scenario), and the
// DES builds its SimGrid platform from it (a port per GPU inside the domain, a
// NIC per GPU, a shared uplink bundle per leaf). The graph builders
// (topologies/graph.hpp) build the same cluster link by link for counting
// parts, and tests hold the two against each other.
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/hardware.hpp"
#include "topologies/collective.hpp"

namespace danlu {

class ScaleOutTopology;

// Calibration constants of the network model, one value for every run.
// NCCL's measured bus bandwidth reaches ~80% of NVLink's per-direction rate
// (H100: ~360 of 450 GB/s) and ~92% of an InfiniBand/RoCE port (nccl-tests).
inline constexpr double kScaleUpEfficiency = 0.80;
inline constexpr double kScaleOutEfficiency = 0.92;
// Each collective pays a launch and synchronisation cost (kernel launch, proxy
// thread hand-off): ~8 us in nccl-tests' small-message latencies.
inline constexpr double kCollectiveLaunch_s = 8e-6;
// Software share of each algorithm step beyond the wire: ~0.7 us inside a node
// (NVLink), ~1.5 us across the network (RDMA posting and completion).
inline constexpr double kStepOverheadUp_s = 0.7e-6;
inline constexpr double kStepOverheadOut_s = 1.5e-6;

struct Network {
  int gpus = 0;
  int gpus_per_node = 0;
  int domain = 0;  // accelerators per scale-up domain (node, rack or torus slice)
  ScaleUpKind up_kind = ScaleUpKind::Switched;
  std::vector<int> torus_dims;  // torus: the slice shape
  double up_bytes_per_s = 0;    // per GPU, per direction, all scale-up links
  double up_step_s = 0;         // one algorithm step inside the domain
  double out_bytes_per_s = 0;   // per GPU, per direction, all its NICs
  double out_step_s = 0;        // one step across the fabric (worst path)
  double out_step_leaf_s = 0;   // one step that stays under one leaf switch
  int gpus_per_leaf = 0;        // the span of ranks one leaf switch reaches (per rail)
  bool rails = false;           // one fabric per rail (GPU k of each node on rail k)
  double oversubscription = 1;
  int tiers = 1;                                // switch tiers of the scale-out fabric
  const ScaleOutTopology* scale_out = nullptr;  // what the fabric's wiring means for leaves
};

Network make_network(const ClusterSpec& c);

// The shape of a torus slice of `chips` within a pod of `pod_dims`: as cubic as
// the pod allows, each side a divisor of what is left (64 of a 16x16x16 pod:
// 4x4x4; 8960 of v5p's: 16x20x28).
std::vector<int> torus_slice(const std::vector<int>& pod_dims, int chips);

// A group of `n` ranks, `stride` apart in rank order: how many share a domain
// (inner), how many domains it spans (outer), and whether it leaves one leaf.
struct GroupShape {
  int inner = 1;
  int outer = 1;
  bool crosses_leaf = false;
  int torus_dims_used = 0;  // torus only: dimensions the inner group spans
};
GroupShape group_shape(const Network& net, int n, int stride);

// Where a phase's traffic goes: over the scale-up port, over the NIC to a
// peer under the same leaf switch, or over the NIC and up through the leaf's
// uplinks (where oversubscription bites).
enum class Level { up, leaf, far };

// One phase of a collective algorithm as one rank sees it: `bytes` sent over
// `level` at up to `rate` bytes/s, after `latency_s` of per-step latency. The
// analytic engine adds the phases' times; the DES makes each a flow, so that
// concurrent flows share links.
struct Phase {
  Level level = Level::up;
  double bytes = 0;
  double rate = 0;  // achievable bytes/s alone on the path (oversubscription not applied)
  double latency_s = 0;
};

// At most four phases (a hierarchical all-reduce: inside, across, twice), kept
// inline: the analytic engine plans collectives in its hot loop.
struct Phases {
  std::array<Phase, 4> items{};
  int n = 0;
  void push_back(const Phase& p) {
    // A plan with more phases than this holds is a bug in the planner, not
    // bad input: fail loudly rather than write past the array.
    if (n == static_cast<int>(items.size())) throw std::logic_error("a collective plan has more than four phases");
    items[static_cast<size_t>(n++)] = p;
  }
  const Phase* begin() const { return items.data(); }
  const Phase* end() const { return items.data() + n; }
  Phase& back() { return items[static_cast<size_t>(n - 1)]; }
  bool empty() const { return n == 0; }
};

struct CollectivePlan {
  const char* algorithm = "none";
  Phases phases;
  double launch_s = 0;
};

// The fastest applicable algorithm for `op` over ranks `stride` apart (ring,
// hierarchical ring or tree, torus, direct, pairwise all-to-all), as NCCL
// picks one.
CollectivePlan collective_plan(const Network& net, const CommOp& op, int stride);

// The time of a phase or a plan without contention (oversubscription applied
// to far phases when the group leaves its leaf).
double phase_time(const Network& net, const Phase& p);
double plan_time(const Network& net, const CollectivePlan& plan);

struct CollectiveCost {
  double time_s = 0;
  const char* algorithm = "none";
};
CollectiveCost collective_cost(const Network& net, const CommOp& op, int stride);

}  // namespace danlu
