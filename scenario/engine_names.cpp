#include "scenario/engine_names.hpp"

namespace danlu {

std::vector<std::string> engine_names() { return {"analytic", "des"}; }

}  // namespace danlu
