// The engines' names, which `sim.engine` and `--engine` accept. Apart from
// the registry (engine.cpp) so that reading a scenario does not link the
// engines; the registry holds one implementation per name here (a test
// makes each).
#pragma once

#include <string>
#include <vector>

namespace danlu {

std::vector<std::string> engine_names();

}  // namespace danlu
