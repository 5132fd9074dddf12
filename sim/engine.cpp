#include "sim/engine.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>

namespace danlu {

namespace {
using Factory = std::function<std::unique_ptr<Engine>(const EngineOptions&)>;
// One implementation per name of engine_names.cpp.
const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> engines = {
      {"analytic", make_analytic_engine},
      {"des", make_des_engine},
  };
  return engines;
}
}  // namespace

std::unique_ptr<Engine> make_engine(const std::string& name, const EngineOptions& options) {
  auto it = registry().find(name);
  if (it == registry().end())
    throw InputError("sim.engine", fmt::format("unknown engine \"{}\"{}", name, suggestion(name, engine_names())));
  return it->second(options);
}

}  // namespace danlu
