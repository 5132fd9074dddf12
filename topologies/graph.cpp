#include "topologies/graph.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

#include <boost/graph/push_relabel_max_flow.hpp>

#include "core/error.hpp"
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

int ClusterGraph::switches() const {
  return count(NodeKind::leaf) + count(NodeKind::spine) + count(NodeKind::core);
}

namespace {

struct Builder {
  ClusterGraph& cg;
  int counters[6] = {0, 0, 0, 0, 0, 0};

  VertexId add(NodeKind k) {
    VertexId v = boost::add_vertex(cg.g);
    cg.g[v] = {k, counters[static_cast<int>(k)]++};
    return v;
  }
  void link(VertexId a, VertexId b, LinkKind k, double bw, double lat) { boost::add_edge(a, b, Link{k, bw, lat}, cg.g); }

  // A folded Clos over `endpoints` (vertices that each bring one port), in
  // the shape clos_plan() gives: leaf uplinks spread round robin over the
  // spines; with three tiers, aggregation switch j of every pod reaches core
  // group j.
  void clos(const std::vector<VertexId>& endpoints, const Fabric& f, double oversub, LinkKind kind) {
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
                 core[static_cast<size_t>(j * plan.cores_per_group + (p * half + k) % plan.cores_per_group)], kind, bw,
                 lat);
      }
    }
  }

  // Dragonfly: groups of radix/2 routers, all-to-all inside a group, radix/4
  // endpoints and radix/4 global links per router, global links round robin.
  void dragonfly(const std::vector<VertexId>& endpoints, const Fabric& f) {
    const int radix = f.switch_radix;
    const int p = std::max(1, radix / 4), a = std::max(2, radix / 2), h = std::max(1, radix / 4);
    const int n = static_cast<int>(endpoints.size());
    const int routers = (n + p - 1) / p;
    const int groups = (routers + a - 1) / a;
    const double bw = f.port_bytes_per_s, lat = f.switch_latency_s;
    std::vector<VertexId> r(static_cast<size_t>(routers));
    for (auto& v : r) v = add(NodeKind::leaf);
    for (int i = 0; i < n; ++i) link(endpoints[static_cast<size_t>(i)], r[static_cast<size_t>(i / p)], LinkKind::scale_out, bw, lat);
    for (int g = 0; g < groups; ++g)
      for (int i = g * a; i < std::min(routers, (g + 1) * a); ++i)
        for (int j = i + 1; j < std::min(routers, (g + 1) * a); ++j)
          link(r[static_cast<size_t>(i)], r[static_cast<size_t>(j)], LinkKind::scale_out, bw, lat);
    // Global links: router i of group g, port k, to group (g + 1 + i*h + k) mod groups.
    for (int g = 0; g < groups && groups > 1; ++g)
      for (int i = 0; i < a && g * a + i < routers; ++i)
        for (int k = 0; k < h; ++k) {
          int other = (g + 1 + i * h + k) % groups;
          if (other <= g) continue;  // each pair once
          int j = std::min(routers - 1, other * a + (i + k) % a);
          link(r[static_cast<size_t>(g * a + i)], r[static_cast<size_t>(j)], LinkKind::scale_out, bw, lat);
        }
  }
};

}  // namespace

std::vector<std::string> scale_out_builders() { return {"fat-tree", "rail-optimized", "torus-3d", "dragonfly"}; }

ClusterGraph build_cluster(const ClusterSpec& c) {
  ClusterGraph cg;
  Builder b{cg};
  const System& sys = c.system;
  const Accelerator& acc = c.accelerator;
  const int gpus = c.gpus;
  for (int r = 0; r < gpus; ++r) cg.ranks.push_back(b.add(NodeKind::accelerator));

  // Scale-up domains.
  const int domain = std::min(sys.scale_up_domain, gpus);
  const double up_lat = sys.scale_up_latency_s;
  for (int start = 0; start < gpus; start += domain) {
    const int size = std::min(domain, gpus - start);
    auto rank = [&](int i) { return cg.ranks[static_cast<size_t>(start + i)]; };
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
  const Fabric& f = c.fabric;
  const int gpn = sys.accelerators_per_node;
  const int nics_per_node = std::max(1, static_cast<int>(std::lround(c.nics_per_gpu * gpn)));
  const bool one_nic_per_gpu = nics_per_node == gpn;
  if (gpus <= domain && c.topology != "rail-optimized" && sys.scale_up == ScaleUpKind::Torus) return cg;
  std::vector<VertexId> ports;  // in rank order, or rail by rail
  std::vector<std::vector<VertexId>> rails(static_cast<size_t>(gpn));
  for (int node = 0; node * gpn < gpus; ++node) {
    for (int k = 0; k < nics_per_node; ++k) {
      VertexId port;
      if (one_nic_per_gpu) {
        port = cg.ranks[static_cast<size_t>(node * gpn + k)];
        if (node * gpn + k >= gpus) continue;
      } else {
        port = b.add(NodeKind::nic);
        for (int g = k * gpn / nics_per_node; g < (k + 1) * gpn / nics_per_node && node * gpn + g < gpus; ++g)
          b.link(cg.ranks[static_cast<size_t>(node * gpn + g)], port, LinkKind::host, 64e9, 1e-6);  // PCIe 5 x16
      }
      ports.push_back(port);
      if (one_nic_per_gpu) rails[static_cast<size_t>(k)].push_back(port);
    }
  }
  if (ports.size() < 2) return cg;
  const LinkKind kind = f.kind == "dcn" ? LinkKind::dcn : LinkKind::scale_out;
  if (c.topology == "rail-optimized" && one_nic_per_gpu) {
    for (const auto& rail : rails)
      if (!rail.empty()) b.clos(rail, f, c.oversubscription, kind);
    // Rails meet at the spines only within a rail; Megatron's traffic stays on
    // its rail, and cross-rail traffic goes through NVLink first (PXN).
  } else if (c.topology == "dragonfly") {
    b.dragonfly(ports, f);
  } else {
    // fat-tree, and torus-3d's data-centre network between slices
    b.clos(ports, f, c.oversubscription, kind);
  }
  return cg;
}

namespace {

// What Builder::clos builds, counted.
void clos_counts(int n, const Fabric& f, double oversub, FabricCounts& out) {
  const ClosPlan plan = clos_plan(n, f.switch_radix, oversub);
  out.switches += plan.switches;
  out.links += static_cast<int>(plan.links);
}

}  // namespace

FabricCounts fabric_counts(const ClusterSpec& c) {
  FabricCounts out;
  const System& sys = c.system;
  const int gpus = c.gpus, gpn = sys.accelerators_per_node;
  const int domain = std::min(sys.scale_up_domain, gpus);
  if (gpus <= domain && c.topology != "rail-optimized" && sys.scale_up == ScaleUpKind::Torus) return out;
  const int nics_per_node = std::max(1, static_cast<int>(std::lround(c.nics_per_gpu * gpn)));
  const bool one_nic_per_gpu = nics_per_node == gpn;
  const int nodes = (gpus + gpn - 1) / gpn;
  // One port per NIC; with a NIC per GPU a partial last node has fewer, and
  // rail k has a port on every node that has a GPU k.
  const int full_nodes = gpus / gpn, last = gpus % gpn;
  int ports = one_nic_per_gpu ? gpus : nodes * nics_per_node;
  std::vector<int> rails(static_cast<size_t>(gpn), 0);
  if (one_nic_per_gpu)
    for (int k = 0; k < gpn; ++k) rails[static_cast<size_t>(k)] = full_nodes + (k < last ? 1 : 0);
  out.nic_ports = ports;
  if (ports < 2) return out;
  if (c.topology == "rail-optimized" && one_nic_per_gpu) {
    for (int r : rails) clos_counts(r, c.fabric, c.oversubscription, out);
  } else if (c.topology == "dragonfly") {
    const int radix = c.fabric.switch_radix;
    const int p = std::max(1, radix / 4), a = std::max(2, radix / 2), h = std::max(1, radix / 4);
    const int routers = (ports + p - 1) / p, groups = (routers + a - 1) / a;
    out.switches = routers;
    out.links = ports;
    for (int g = 0; g < groups; ++g) {
      int in_group = std::min(routers, (g + 1) * a) - g * a;
      out.links += in_group * (in_group - 1) / 2;
      for (int i = 0; i < a && g * a + i < routers && groups > 1; ++i)
        for (int k = 0; k < h; ++k) out.links += ((g + 1 + i * h + k) % groups) > g ? 1 : 0;
    }
  } else {
    clos_counts(ports, c.fabric, c.oversubscription, out);
  }
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
    if (r < half) arc(source, cg.ranks[r], 1e300);
    else arc(cg.ranks[r], sink, 1e300);
  }
  return boost::push_relabel_max_flow(fg, source, sink);
}

}  // namespace danlu
