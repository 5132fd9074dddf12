// Dragonfly: groups of radix/2 routers, all-to-all inside a group, radix/4
// endpoints and radix/4 global links per router, global links round robin:
// router i of group g, port k, reaches group (g + 1 + i*h + k) mod groups.
#include <algorithm>

#include "topologies/builder.hpp"

namespace danlu {

namespace {

// Endpoint ports per router.
int router_endpoints(int radix) { return std::max(1, radix / 4); }

struct Shape {
  int p, a, h, routers, groups;
  Shape(int radix, int ports)
      : p(router_endpoints(radix)),
        a(std::max(2, radix / 2)),
        h(std::max(1, radix / 4)),
        routers((ports + p - 1) / p),
        groups((routers + a - 1) / a) {}
  int global_peer(int g, int i, int k) const { return (g + 1 + i * h + k) % groups; }
};

class Dragonfly : public ScaleOutTopology {
 public:
  const char* name() const override { return "dragonfly"; }
  void build(FabricBuilder& b, const FabricPorts& ports, const ClusterSpec& c, LinkKind) const override {
    const Fabric& f = c.fabric;
    const int n = static_cast<int>(ports.ports.size());
    const Shape s(f.switch_radix, n);
    const double bw = f.port_bytes_per_s, lat = f.switch_latency_s;
    std::vector<VertexId> r(static_cast<size_t>(s.routers));
    for (auto& v : r) v = b.add(NodeKind::leaf);
    for (int i = 0; i < n; ++i)
      b.link(ports.ports[static_cast<size_t>(i)], r[static_cast<size_t>(i / s.p)], LinkKind::scale_out, bw, lat);
    for (int g = 0; g < s.groups; ++g)
      for (int i = g * s.a; i < std::min(s.routers, (g + 1) * s.a); ++i)
        for (int j = i + 1; j < std::min(s.routers, (g + 1) * s.a); ++j)
          b.link(r[static_cast<size_t>(i)], r[static_cast<size_t>(j)], LinkKind::scale_out, bw, lat);
    for (int g = 0; g < s.groups && s.groups > 1; ++g)
      for (int i = 0; i < s.a && g * s.a + i < s.routers; ++i)
        for (int k = 0; k < s.h; ++k) {
          int other = s.global_peer(g, i, k);
          if (other <= g) continue;  // each pair once
          int j = std::min(s.routers - 1, other * s.a + (i + k) % s.a);
          b.link(r[static_cast<size_t>(g) * s.a + i], r[static_cast<size_t>(j)], LinkKind::scale_out, bw, lat);
        }
  }
  void count(const PortCounts& ports, const ClusterSpec& c, FabricCounts& out) const override {
    const Shape s(c.fabric.switch_radix, ports.ports);
    out.switches += s.routers;
    out.links += ports.ports;
    for (int g = 0; g < s.groups; ++g) {
      int in_group = std::min(s.routers, (g + 1) * s.a) - g * s.a;
      out.links += in_group * (in_group - 1) / 2;
      for (int i = 0; i < s.a && g * s.a + i < s.routers && s.groups > 1; ++i)
        for (int k = 0; k < s.h; ++k) out.links += s.global_peer(g, i, k) > g ? 1 : 0;
    }
  }
  ScaleOutShape shape(const ClusterSpec& c) const override {
    ScaleOutShape s;
    // A router's radix/4 endpoint ports reach whole nodes' NICs.
    const int gpn = c.system.accelerators_per_node;
    s.gpus_per_leaf = std::max(1, router_endpoints(c.fabric.switch_radix) / nics_per_node(c)) * gpn;
    // Minimal routes are local, global, local: 3 hops over 2 levels.
    s.tiers = 2;
    s.worst_hops = 3;
    return s;
  }
};

}  // namespace

std::unique_ptr<ScaleOutTopology> make_dragonfly() { return std::make_unique<Dragonfly>(); }

}  // namespace danlu
