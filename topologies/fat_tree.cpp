// Fat-tree: one folded Clos over every NIC port of the cluster.
#include "topologies/builder.hpp"

namespace danlu {

void ClosOverPorts::build(FabricBuilder& b, const FabricPorts& p, const ClusterSpec& c, LinkKind kind) const {
  b.clos(p.ports, c.fabric, c.oversubscription, kind);
}

void ClosOverPorts::count(const PortCounts& p, const ClusterSpec& c, FabricCounts& out) const {
  count_clos(p.ports, c.fabric, c.oversubscription, out);
}

ScaleOutShape ClosOverPorts::shape(const ClusterSpec& c) const { return clos_shape(c, false); }

std::unique_ptr<ScaleOutTopology> make_fat_tree() { return std::make_unique<ClosOverPorts>("fat-tree"); }

}  // namespace danlu
