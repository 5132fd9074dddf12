// The scale-out topologies by name. A new one is a file defining its class
// and make_ function, plus its two lines here.
#include "core/registry.hpp"
#include "topologies/registry.hpp"
#include "topologies/topology.hpp"

namespace danlu {

std::unique_ptr<ScaleOutTopology> make_fat_tree();
std::unique_ptr<ScaleOutTopology> make_rail_optimized();
std::unique_ptr<ScaleOutTopology> make_torus_3d();
std::unique_ptr<ScaleOutTopology> make_dragonfly();

namespace {
const Registry<ScaleOutTopology>& registry() {
  static const auto all =
      make_registry<ScaleOutTopology>(make_fat_tree, make_rail_optimized, make_torus_3d, make_dragonfly);
  return all;
}
}  // namespace

const ScaleOutTopology& scale_out_topology(const std::string& name) {
  return registry().at(name, "scale-out topology");
}
std::vector<std::string> scale_out_topology_names() { return registry().names(); }

}  // namespace danlu
