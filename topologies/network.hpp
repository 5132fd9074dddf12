// The cluster as a collective sees it, in closed form: per-GPU bandwidth and
// per-step latency inside the scale-up domain and across the scale-out fabric,
// and how a group of ranks falls across the two. The analytic engine costs
// every collective with this (it must stay microseconds per scenario); the
// graph builders (topologies/graph.hpp) build the same cluster link by link
// for the DES and for counting parts, and tests hold the two against each other.
#pragma once

#include <string>
#include <vector>

#include "models/hardware.hpp"
#include "topologies/collective.hpp"

namespace danlu {


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
  int domain = 0;                  // accelerators per scale-up domain (node, rack or torus slice)
  ScaleUpKind up_kind = ScaleUpKind::Switched;
  std::vector<int> torus_dims;     // torus: the slice shape
  double up_bytes_per_s = 0;       // per GPU, per direction, all scale-up links
  double up_step_s = 0;            // one algorithm step inside the domain
  double out_bytes_per_s = 0;      // per GPU, per direction, all its NICs
  double out_step_s = 0;           // one step across the fabric (worst path)
  double out_step_leaf_s = 0;      // one step that stays under one leaf switch
  int gpus_per_leaf = 0;           // the span of ranks one leaf switch reaches (per rail)
  double oversubscription = 1;
  int tiers = 1;                   // switch tiers of the scale-out fabric
  std::string topology;
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

struct CollectiveCost {
  double time_s = 0;
  const char* algorithm = "none";
};

// The fastest applicable algorithm for `op` over ranks `stride` apart, with
// `sharing` concurrent collectives of the same size on the same NICs.
CollectiveCost collective_cost(const Network& net, const CommOp& op, int stride, int sharing = 1);

}  // namespace danlu
