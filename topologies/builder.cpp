#include <algorithm>
#include <cmath>

#include "topologies/builder.hpp"
#include "topologies/clos.hpp"
#include "topologies/network.hpp"

namespace danlu {

VertexId FabricBuilder::add(NodeKind k) {
  VertexId v = boost::add_vertex(cg.g);
  cg.g[v] = {k, counters[static_cast<int>(k)]++};
  return v;
}

void FabricBuilder::link(VertexId a, VertexId b, LinkKind k, double bw, double lat) {
  boost::add_edge(a, b, Link{k, bw, lat}, cg.g);
}

// Leaf uplinks spread round robin over the spines; with three tiers,
// aggregation switch j of every pod reaches core group j.
void FabricBuilder::clos(const std::vector<VertexId>& endpoints, const Fabric& f, double oversub, LinkKind kind) {
  const int n = static_cast<int>(endpoints.size());
  const ClosPlan plan = clos_plan(n, f.switch_radix, oversub);
  const double bw = f.port_bytes_per_s, lat = f.switch_latency_s;
  if (plan.tiers == 0) return;
  std::vector<VertexId> leaf(static_cast<size_t>(plan.leaves));
  for (auto& l : leaf) l = add(NodeKind::leaf);
  for (int i = 0; i < n; ++i)
    link(endpoints[static_cast<size_t>(i)], leaf[static_cast<size_t>(plan.tiers == 1 ? 0 : i / plan.down)], kind, bw,
         lat);
  if (plan.tiers == 2) {
    std::vector<VertexId> spine(static_cast<size_t>(plan.spines));
    for (auto& s : spine) s = add(NodeKind::spine);
    for (int l = 0; l < plan.leaves; ++l)
      for (int k = 0; k < plan.up; ++k)
        link(leaf[static_cast<size_t>(l)], spine[static_cast<size_t>((l * plan.up + k) % plan.spines)], kind, bw, lat);
  } else if (plan.tiers == 3) {
    const int half = f.switch_radix / 2;
    std::vector<VertexId> core(static_cast<size_t>(plan.cores));
    for (auto& c : core) c = add(NodeKind::core);
    for (int p = 0; p < plan.pods; ++p) {
      std::vector<VertexId> agg(static_cast<size_t>(half));
      for (auto& a : agg) a = add(NodeKind::spine);
      for (int l = p * half; l < std::min(plan.leaves, (p + 1) * half); ++l)
        for (int k = 0; k < plan.up; ++k)
          link(leaf[static_cast<size_t>(l)], agg[static_cast<size_t>(k % half)], kind, bw, lat);
      for (int j = 0; j < half; ++j)
        for (int k = 0; k < half; ++k)
          link(agg[static_cast<size_t>(j)],
               core[static_cast<size_t>(j) * plan.cores_per_group + (p * half + k) % plan.cores_per_group], kind, bw,
               lat);
    }
  }
}

void count_clos(int endpoints, const Fabric& f, double oversub, FabricCounts& out) {
  const ClosPlan plan = clos_plan(endpoints, f.switch_radix, oversub);
  out.switches += plan.switches;
  out.links += static_cast<int>(plan.links);
}

int nics_per_node(const ClusterSpec& c) {
  return std::max(1, static_cast<int>(std::lround(c.nics_per_gpu * c.system.accelerators_per_node)));
}

ScaleOutShape clos_shape(const ClusterSpec& c, bool per_rail) {
  const int gpn = c.system.accelerators_per_node;
  const double nics_per_node = std::max(1.0, c.nics_per_gpu * gpn);
  const double endpoints = per_rail ? static_cast<double>(c.nodes) : c.nodes * nics_per_node;
  const ClosPlan plan = clos_plan(static_cast<int>(endpoints), c.fabric.switch_radix, c.oversubscription);
  ScaleOutShape s;
  // A rail leaf reaches `down` nodes (one GPU each per rail); a plain leaf
  // reaches `down` NIC ports.
  s.gpus_per_leaf = per_rail ? plan.down * gpn : std::max(1, static_cast<int>(plan.down / nics_per_node) * gpn);
  s.tiers = std::max(1, plan.tiers);
  // Worst path: up and down every tier (2 tiers: leaf, spine, leaf = 3 hops).
  s.worst_hops = 2 * s.tiers - 1;
  s.rails = per_rail;
  return s;
}

int ScaleOutTopology::leaf_of(int rank, const Network& net) const { return rank / net.gpus_per_leaf(); }

}  // namespace danlu
