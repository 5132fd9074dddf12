// The MLA kind's registration; the kind is declared in mla.hpp, which DSA
// extends.
#include "workload/layers/mla.hpp"

namespace danlu {

std::unique_ptr<LayerKind> make_mla_layer() { return std::make_unique<Mla>(); }

}  // namespace danlu
