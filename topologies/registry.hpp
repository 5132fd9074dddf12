// The scale-out topologies by name (topologies/topology.hpp has the
// interface). Light on purpose: the loader needs only the names.
#pragma once

#include <string>
#include <vector>

namespace danlu {

class ScaleOutTopology;

// The topology of that name; logic_error for a name the loader would refuse.
const ScaleOutTopology& scale_out_topology(const std::string& name);
std::vector<std::string> scale_out_topology_names();

}  // namespace danlu
