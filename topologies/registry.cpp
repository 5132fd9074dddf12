// The scale-out topologies by name. A new one is a file defining its class
// and make_ function, plus its two lines here.
#include <memory>
#include <stdexcept>

#include "topologies/registry.hpp"
#include "topologies/topology.hpp"

namespace danlu {

std::unique_ptr<ScaleOutTopology> make_fat_tree();
std::unique_ptr<ScaleOutTopology> make_rail_optimized();
std::unique_ptr<ScaleOutTopology> make_torus_3d();
std::unique_ptr<ScaleOutTopology> make_dragonfly();

namespace {

const std::vector<std::unique_ptr<ScaleOutTopology>>& registry() {
  static const auto all = [] {
    std::vector<std::unique_ptr<ScaleOutTopology>> v;
    v.push_back(make_fat_tree());
    v.push_back(make_rail_optimized());
    v.push_back(make_torus_3d());
    v.push_back(make_dragonfly());
    return v;
  }();
  return all;
}

}  // namespace

const ScaleOutTopology& scale_out_topology(const std::string& name) {
  for (const auto& t : registry())
    if (name == t->name()) return *t;
  throw std::logic_error("unknown scale-out topology '" + name + "' (the loader checks names)");
}

std::vector<std::string> scale_out_topology_names() {
  std::vector<std::string> names;
  for (const auto& t : registry()) names.emplace_back(t->name());
  return names;
}

}  // namespace danlu
