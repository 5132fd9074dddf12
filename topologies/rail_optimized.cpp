// Rail-optimized: with a NIC per GPU, GPU k of every node joins rail k, and
// each rail is its own Clos; rails meet only through the scale-up network
// (Megatron's traffic stays on its rail; cross-rail traffic goes over NVLink
// first, as NCCL's PXN does). With fewer NICs, one Clos over the ports.
#include "topologies/builder.hpp"
#include "topologies/network.hpp"

namespace danlu {

namespace {

class RailOptimized : public ScaleOutTopology {
 public:
  const char* name() const override { return "rail-optimized"; }
  void build(FabricBuilder& b, const FabricPorts& p, const ClusterSpec& c, LinkKind kind) const override {
    for (const auto& rail : p.one_nic_per_gpu ? p.rails : std::vector<std::vector<VertexId>>{p.ports})
      if (!rail.empty()) b.clos(rail, c.fabric, c.oversubscription, kind);
  }
  void count(const PortCounts& p, const ClusterSpec& c, FabricCounts& out) const override {
    for (int r : p.one_nic_per_gpu ? p.rails : std::vector<int>{p.ports})
      count_clos(r, c.fabric, c.oversubscription, out);
  }
  // Rails only where build() makes them: with a NIC per GPU.
  ScaleOutShape shape(const ClusterSpec& c) const override { return clos_shape(c, one_nic_per_gpu(c)); }
  // Leaf l of rail k: ranks of the same node sit on different rails.
  int leaf_of(int rank, const Network& net) const override {
    const int gpn = net.gpus_per_node;
    if (!net.rails) return rank / net.gpus_per_leaf();
    return (rank / net.gpus_per_leaf()) * gpn + rank % gpn;
  }
  bool wires_a_lone_slice() const override { return true; }
};

}  // namespace

std::unique_ptr<ScaleOutTopology> make_rail_optimized() { return std::make_unique<RailOptimized>(); }

}  // namespace danlu
