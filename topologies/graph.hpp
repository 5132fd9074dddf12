// The cluster link by link: accelerators, switches and links in one
// Boost.Graph, built from the scenario's system and scale-out settings. The
// power model counts its switches and transceivers, and tests hold the
// closed-form network model (network.hpp), which both engines use, against
// path queries on it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "models/hardware.hpp"
#include "topologies/fabric_counts.hpp"

namespace danlu {

enum class NodeKind { accelerator, nic, scale_up_switch, leaf, spine, core };
enum class LinkKind { scale_up, host, scale_out, dcn };

struct Vertex {
  NodeKind kind = NodeKind::accelerator;
  int index = 0;  // rank for accelerators; running number per kind otherwise
};

struct Link {
  LinkKind kind = LinkKind::scale_out;
  double bytes_per_s = 0;  // per direction
  double latency_s = 0;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, Vertex, Link>;
using VertexId = Graph::vertex_descriptor;

struct ClusterGraph {
  Graph g;
  std::vector<VertexId> ranks;  // accelerator rank -> vertex

  int count(NodeKind k) const;
  int count(LinkKind k) const;
  int switches() const;  // every switching element of the scale-out fabric
};

// The scale-up domains from the system's kind, the scale-out fabric from the
// topology cluster.scale_out.topology names (topologies/topology.hpp).
ClusterGraph build_cluster(const ClusterSpec& c);

struct PathInfo {
  std::vector<VertexId> vertices;  // from source to destination
  double bottleneck_bytes_per_s = 0;
  double latency_s = 0;
  int hops() const { return static_cast<int>(vertices.size()) - 1; }
};

// A shortest path between two ranks; among equal-length next hops the choice
// follows the destination (d-mod-k, as ECMP spreads flows over spines).
PathInfo path(const ClusterGraph& cg, int from_rank, int to_rank);

// The most flows that any single link carries when each (from, to) pair is
// routed as path() routes it.
int max_link_sharing(const ClusterGraph& cg, const std::vector<std::pair<int, int>>& flows);

// Maximum flow from the first half of the ranks to the second (one direction).
double bisection_bytes_per_s(const ClusterGraph& cg);

}  // namespace danlu
