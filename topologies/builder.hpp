// Building a scale-out fabric into the cluster graph: what the topologies'
// build() receives. Only the graph builders need it (it brings Boost.Graph).
#pragma once

#include <vector>

#include "topologies/graph.hpp"
#include "topologies/topology.hpp"

namespace danlu {

// Adds vertices and links to a cluster graph.
struct FabricBuilder {
  ClusterGraph& cg;
  int counters[6] = {0, 0, 0, 0, 0, 0};

  VertexId add(NodeKind k);
  void link(VertexId a, VertexId b, LinkKind k, double bw, double lat);
  // A folded Clos over `endpoints` (vertices that each bring one port), in
  // the shape clos_plan() gives.
  void clos(const std::vector<VertexId>& endpoints, const Fabric& f, double oversub, LinkKind kind);
};

// The same Clos counted: what FabricBuilder::clos would add.
void count_clos(int endpoints, const Fabric& f, double oversub, FabricCounts& out);

// The scale-out ports of a cluster: in rank order, and rail by rail when
// every GPU has its own NIC (rail k: GPU k of every node).
struct FabricPorts {
  std::vector<VertexId> ports;
  std::vector<std::vector<VertexId>> rails;
  bool one_nic_per_gpu = false;
};

}  // namespace danlu
