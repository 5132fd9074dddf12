#include "topologies/graph.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

#include <boost/graph/push_relabel_max_flow.hpp>

#include "core/error.hpp"
#include "topologies/builder.hpp"
#include "topologies/clos.hpp"
#include "topologies/network.hpp"

namespace danlu {

int ClusterGraph::count(NodeKind k) const {
  int n = 0;
  for (auto v : boost::make_iterator_range(boost::vertices(g))) n += g[v].kind == k;
  return n;
}

int ClusterGraph::count(LinkKind k) const {
  int n = 0;
  for (auto e : boost::make_iterator_range(boost::edges(g))) n += g[e].kind == k;
  return n;
}

int ClusterGraph::switches() const { return count(NodeKind::leaf) + count(NodeKind::spine) + count(NodeKind::core); }

ClusterGraph build_cluster(const ClusterSpec& c) {
  ClusterGraph cg;
  FabricBuilder b{cg};
  const System& sys = c.system;
  const Accelerator& acc = c.accelerator;
  const int gpus = c.gpus;
  for (int r = 0; r < gpus; ++r) cg.ranks.push_back(b.add(NodeKind::accelerator));

  // Scale-up domains.
  const int domain = std::min(sys.scale_up_domain, gpus);
  const double up_lat = sys.scale_up_latency_s;
  for (int start = 0; start < gpus; start += domain) {
    const int size = std::min(domain, gpus - start);
    auto rank = [&](int i) { return cg.ranks[static_cast<size_t>(start) + i]; };
    if (size < 2) continue;
    switch (sys.scale_up) {
      case ScaleUpKind::Switched: {
        // NVSwitch planes as one logical switch: every GPU at its full rate.
        VertexId sw = b.add(NodeKind::scale_up_switch);
        for (int i = 0; i < size; ++i) b.link(rank(i), sw, LinkKind::scale_up, acc.scale_up_bytes_per_s, up_lat);
        break;
      }
      case ScaleUpKind::FullyConnected: {
        double per_link = acc.scale_up_bytes_per_s / (size - 1);
        for (int i = 0; i < size; ++i)
          for (int j = i + 1; j < size; ++j) b.link(rank(i), rank(j), LinkKind::scale_up, per_link, up_lat);
        break;
      }
      case ScaleUpKind::Torus: {
        // The slice's shape; wrap-around in every dimension longer than 2.
        const std::vector<int> dims = torus_slice(sys.torus_dims, size);
        const double per_link = acc.scale_up_bytes_per_s / acc.scale_up_links;
        int stride = 1;
        for (int e : dims) {
          for (int i = 0; i < size; ++i) {
            int coord = (i / stride) % e;
            int next = i + ((coord + 1) % e - coord) * stride;
            if (e < 2 || next >= size) continue;
            if (e == 2 && coord == 1) continue;  // a 2-ring is one link
            b.link(rank(i), rank(next), LinkKind::scale_up, per_link, up_lat);
          }
          stride *= e;
        }
        break;
      }
    }
  }

  // Scale-out: one port per NIC; GPUs share NICs when there are fewer.
  const ScaleOutTopology& topo = scale_out_topology(c.topology);
  const int gpn = sys.accelerators_per_node;
  const int nics_per_node = danlu::nics_per_node(c);
  FabricPorts fp;
  fp.one_nic_per_gpu = one_nic_per_gpu(c);
  if (gpus <= domain && !topo.wires_a_lone_slice() && sys.scale_up == ScaleUpKind::Torus) return cg;
  fp.rails.resize(static_cast<size_t>(gpn));
  for (int node = 0; node * gpn < gpus; ++node) {
    for (int k = 0; k < nics_per_node; ++k) {
      VertexId port;
      if (fp.one_nic_per_gpu) {
        port = cg.ranks[static_cast<size_t>(node) * gpn + k];
        if (node * gpn + k >= gpus) continue;
      } else {
        port = b.add(NodeKind::nic);
        for (int g = k * gpn / nics_per_node; g < (k + 1) * gpn / nics_per_node && node * gpn + g < gpus; ++g)
          b.link(cg.ranks[static_cast<size_t>(node) * gpn + g], port, LinkKind::host, 64e9, 1e-6);  // PCIe 5 x16
      }
      fp.ports.push_back(port);
      if (fp.one_nic_per_gpu) fp.rails[static_cast<size_t>(k)].push_back(port);
    }
  }
  if (fp.ports.size() < 2) return cg;
  topo.build(b, fp, c, c.fabric.kind == FabricKind::dcn ? LinkKind::dcn : LinkKind::scale_out);
  return cg;
}

FabricCounts fabric_counts(const ClusterSpec& c) {
  FabricCounts out;
  const System& sys = c.system;
  const int gpus = c.gpus, gpn = sys.accelerators_per_node;
  const int domain = std::min(sys.scale_up_domain, gpus);
  const ScaleOutTopology& topo = scale_out_topology(c.topology);
  if (gpus <= domain && !topo.wires_a_lone_slice() && sys.scale_up == ScaleUpKind::Torus) return out;
  const int nics_per_node = danlu::nics_per_node(c);
  PortCounts pc;
  pc.one_nic_per_gpu = one_nic_per_gpu(c);
  const int nodes = (gpus + gpn - 1) / gpn;
  // One port per NIC; with a NIC per GPU a partial last node has fewer, and
  // rail k has a port on every node that has a GPU k.
  const int full_nodes = gpus / gpn, last = gpus % gpn;
  pc.ports = pc.one_nic_per_gpu ? gpus : nodes * nics_per_node;
  if (pc.one_nic_per_gpu)
    for (int k = 0; k < gpn; ++k) pc.rails.push_back(full_nodes + (k < last ? 1 : 0));
  out.nic_ports = pc.ports;
  if (pc.ports < 2) return out;
  topo.count(pc, c, out);
  out.transceivers = 2 * out.links;
  return out;
}

namespace {
std::vector<int> bfs_distance(const Graph& g, VertexId from) {
  std::vector<int> dist(boost::num_vertices(g), -1);
  std::deque<VertexId> q{from};
  dist[from] = 0;
  while (!q.empty()) {
    VertexId v = q.front();
    q.pop_front();
    for (auto w : boost::make_iterator_range(boost::adjacent_vertices(v, g)))
      if (dist[w] < 0) dist[w] = dist[v] + 1, q.push_back(w);
  }
  return dist;
}
}  // namespace

PathInfo path(const ClusterGraph& cg, int from_rank, int to_rank) {
  const Graph& g = cg.g;
  VertexId src = cg.ranks.at(static_cast<size_t>(from_rank)), dst = cg.ranks.at(static_cast<size_t>(to_rank));
  std::vector<int> dist = bfs_distance(g, dst);
  if (dist[src] < 0) throw std::runtime_error("no path between ranks");
  PathInfo p;
  p.vertices.push_back(src);
  p.bottleneck_bytes_per_s = 1e300;
  VertexId v = src;
  while (v != dst) {
    std::vector<std::pair<VertexId, Graph::edge_descriptor>> next;
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g))) {
      VertexId w = boost::target(e, g);
      if (dist[w] == dist[v] - 1) next.emplace_back(w, e);
    }
    auto [w, e] = next[static_cast<size_t>(to_rank) % next.size()];
    p.bottleneck_bytes_per_s = std::min(p.bottleneck_bytes_per_s, g[e].bytes_per_s);
    p.latency_s += g[e].latency_s;
    p.vertices.push_back(w);
    v = w;
  }
  return p;
}

int max_link_sharing(const ClusterGraph& cg, const std::vector<std::pair<int, int>>& flows) {
  std::map<std::pair<VertexId, VertexId>, int> load;
  int most = 0;
  for (auto [a, b] : flows) {
    PathInfo p = path(cg, a, b);
    for (size_t i = 0; i + 1 < p.vertices.size(); ++i)
      most = std::max(most, ++load[{p.vertices[i], p.vertices[i + 1]}]);  // per direction
  }
  return most;
}

double bisection_bytes_per_s(const ClusterGraph& cg) {
  // A directed flow network: each link both ways, a source feeding the first
  // half of the ranks and a sink draining the second half.
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, double,
                      boost::property<boost::edge_residual_capacity_t, double,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const size_t n = boost::num_vertices(cg.g);
  FlowGraph fg(n + 2);
  auto cap = boost::get(boost::edge_capacity, fg);
  auto rev = boost::get(boost::edge_reverse, fg);
  auto arc = [&](size_t a, size_t b, double c) {
    auto e1 = boost::add_edge(a, b, fg).first;
    auto e2 = boost::add_edge(b, a, fg).first;
    cap[e1] = c;
    cap[e2] = 0;
    rev[e1] = e2;
    rev[e2] = e1;
  };
  for (auto e : boost::make_iterator_range(boost::edges(cg.g))) {
    size_t a = boost::source(e, cg.g), b = boost::target(e, cg.g);
    arc(a, b, cg.g[e].bytes_per_s);
    arc(b, a, cg.g[e].bytes_per_s);
  }
  const size_t source = n, sink = n + 1;
  const size_t half = cg.ranks.size() / 2;
  for (size_t r = 0; r < cg.ranks.size(); ++r) {
    if (r < half)
      arc(source, cg.ranks[r], 1e300);
    else
      arc(cg.ranks[r], sink, 1e300);
  }
  return boost::push_relabel_max_flow(fg, source, sink);
}

}  // namespace danlu
