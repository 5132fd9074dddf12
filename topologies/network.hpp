// The cluster as a collective sees it, in closed form: a list of network
// dimensions, innermost first, as ASTRA-sim describes a network. The scale-up
// domain is one dimension (an NVLink switch, a fully connected xGMI or RoCE
// mesh) or one per torus axis (ICI); the scale-out fabric adds a dimension per
// reach (the ranks under one leaf switch, then the whole fabric). Each has
// its per-GPU rate, its per-step latency and the oversubscription a flow
// crossing into it shares. The analytic engine costs every collective with
// this (it must stay microseconds per scenario), and the DES builds its
// SimGrid platform from it. The graph builders (topologies/graph.hpp) build
// the same cluster link by link for counting parts, and tests hold the two
// against each other.
#pragma once

#include <algorithm>
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
// An all-to-all (MoE dispatch and combine) moves its data at this fraction of
// the rates above: a message per peer, incast at the receivers, and the few
// SMs a communication kernel gets. Measured dispatch and combine rates over
// what these link efficiencies give (shared/reference/kernel-and-collective-
// facts.md, S20, S21): Hybrid-EP, which the Megatron-Bridge recipes use,
// 0.58-0.59 on H100 over InfiniBand at EP 16 and 0.78-0.89 at EP 64, 0.61-0.65
// on GB200 NVL72 at EP 36, 0.65 on B200 at EP 8 (median 0.65); DeepEP on B200
// and H800 0.78-0.98. 0.75 lies between the two libraries; the range is 0.6-1.
inline constexpr double kAllToAllEfficiency = 0.75;
// Each collective pays a launch and synchronisation cost (kernel launch, proxy
// thread hand-off): ~8 us in nccl-tests' small-message latencies.
inline constexpr double kCollectiveLaunch_s = 8e-6;
// Software share of each algorithm step beyond the wire: ~0.7 us inside a node
// (NVLink), ~1.5 us across the network (RDMA posting and completion).
inline constexpr double kStepOverheadUp_s = 0.7e-6;
inline constexpr double kStepOverheadOut_s = 1.5e-6;

enum class DimKind {
  switched,         // a scale-up switch (NVSwitch): any member at the port's full rate
  fully_connected,  // a direct link to each peer (xGMI, Gaudi's RoCE mesh): a group uses its members' links
  torus_axis,       // one axis of a torus (ICI): a ring with wraparound, a share of the chip's links
  fabric,           // a reach of the scale-out fabric, over the NICs
};

struct NetDim {
  DimKind kind = DimKind::switched;
  // Scale-up: accelerators along the dimension. Fabric: the span of ranks it
  // reaches (per rail), e.g. one leaf switch's.
  int size = 1;
  double bytes_per_s = 0;  // per GPU, per direction, over this dimension's links
  double step_s = 0;       // one algorithm step across it
  // What a flow crossing into this dimension shares its rate with (a leaf's
  // uplinks over its downlinks).
  double oversubscription = 1;
  bool scale_up() const { return kind != DimKind::fabric; }
};

// Room for three torus axes, a leaf, the fabric beyond it and one more reach
// (a data-centre network): the collective planner keeps its phases inline.
inline constexpr std::size_t kMaxNetDims = 6;

struct Network {
  int gpus = 0;
  int gpus_per_node = 0;
  std::vector<NetDim> dims;                     // innermost first: the scale-up dimensions, then the fabric's by reach
  int up_dims = 0;                              // how many of `dims` lie inside the scale-up domain
  bool rails = false;                           // one fabric per rail (GPU k of each node on rail k)
  int tiers = 1;                                // switch tiers of the scale-out fabric
  const ScaleOutTopology* scale_out = nullptr;  // what the fabric's wiring means for leaves

  // Accelerators per scale-up domain (node, rack or torus slice): the
  // product of the scale-up dimensions.
  int domain() const;
  // Per GPU, per direction, over all its scale-up links.
  double up_bytes_per_s() const;
  const NetDim& leaf() const { return dims[static_cast<size_t>(up_dims)]; }  // the fabric's first reach
  int gpus_per_leaf() const { return leaf().size; }
  bool torus() const { return dims.front().kind == DimKind::torus_axis; }
};

Network make_network(const ClusterSpec& c);

// The shape of a torus slice of `chips` within a pod of `pod_dims`: as cubic as
// the pod allows, each side a divisor of what is left (64 of a 16x16x16 pod:
// 4x4x4; 8960 of v5p's: 16x20x28).
std::vector<int> torus_slice(const std::vector<int>& pod_dims, int chips);

// A group of `n` ranks, `stride` apart in rank order: how many share a domain
// (inner), how many domains it spans (outer), and which fabric dimension the
// outer part crosses (the first whose reach covers the group).
struct GroupShape {
  int inner = 1;
  int outer = 1;
  int out_dim = 0;          // an index into Network::dims
  int torus_dims_used = 0;  // torus only: scale-up dimensions the inner group spans
};
GroupShape group_shape(const Network& net, int n, int stride);

// One phase of a collective algorithm as one rank sees it: `bytes` sent
// over dimension `dim` at up to `rate` bytes/s, after `latency_s` of per-step
// latency. A phase over several torus axes names the first. The analytic
// engine adds the phases' times; the DES makes each a flow, so that
// concurrent flows share links.
struct Phase {
  int dim = 0;
  double bytes = 0;
  double rate = 0;  // achievable bytes/s alone on the path (oversubscription not applied)
  double latency_s = 0;
};

// An all-reduce is two passes over every dimension a plan uses, kept inline:
// the analytic engine plans collectives in its hot loop.
struct Phases {
  std::array<Phase, 2 * kMaxNetDims> items{};
  int n = 0;
  Phases() = default;
  // Plans are copied as the planner compares them: only the phases in use.
  Phases(const Phases& o) : n(o.n) { std::copy_n(o.items.begin(), n, items.begin()); }
  Phases& operator=(const Phases& o) {
    n = o.n;
    std::copy_n(o.items.begin(), n, items.begin());
    return *this;
  }
  void push_back(const Phase& p) {
    // A plan with more phases than this holds is a bug in the planner, not
    // bad input: fail loudly rather than write past the array.
    if (n == static_cast<int>(items.size()))
      throw std::logic_error("a collective plan has more phases than dimensions");
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

// The time of a phase or a plan without contention (the oversubscription of
// the phase's dimension applied).
double phase_time(const Network& net, const Phase& p);
double plan_time(const Network& net, const CollectivePlan& plan);

struct CollectiveCost {
  double time_s = 0;
  const char* algorithm = "none";
};
CollectiveCost collective_cost(const Network& net, const CommOp& op, int stride);

}  // namespace danlu
