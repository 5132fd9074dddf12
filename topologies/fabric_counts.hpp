// The scale-out parts of a cluster, counted in closed form. Apart from the
// graph (topologies/graph.hpp) so that what reads a result needs no Boost.
#pragma once

#include "models/hardware.hpp"

namespace danlu {

// The scale-out parts build_cluster() would create, counted in closed form
// (the power and cost models need them per evaluation; building a 16K-GPU
// graph each time would cost milliseconds). Tests hold it to the graph.
struct FabricCounts {
  int switches = 0;      // leaf + spine + core
  int links = 0;         // scale-out and DCN links
  int transceivers = 0;  // optical modules: two per link
  int nic_ports = 0;     // endpoints on the fabric
};
FabricCounts fabric_counts(const ClusterSpec& c);

}  // namespace danlu
