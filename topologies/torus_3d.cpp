// Torus-3d: the slices' own torus is the scale-up network (the system's
// kind); between slices, a data-centre network, modelled as a Clos over
// every host port. One slice alone needs no scale-out fabric.
#include "topologies/topology.hpp"

namespace danlu {

std::unique_ptr<ScaleOutTopology> make_torus_3d() { return std::make_unique<ClosOverPorts>("torus-3d"); }

}  // namespace danlu
