#include "sim/engine.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>

namespace danlu {

namespace {
using Factory = std::function<std::unique_ptr<Engine>(const EngineOptions&)>;
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

std::vector<std::string> engine_names() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

double compute_time(const ComputeOp& op, const Accelerator& acc, Precision precision) {
  double t_mem = op.bytes / (kHbmEfficiency * acc.hbm_bytes_per_s);
  if (!op.matmul || op.flops <= 0) return t_mem + kOpOverhead_s;
  Precision p = precision;
  // Recipes keep some matmuls in bf16 under fp8/fp4 (attention scores, logits).
  if (op.bf16_only && (p == Precision::fp8 || p == Precision::fp4 || p == Precision::fp6)) p = Precision::bf16;
  double peak = acc.peak(p);
  if (peak <= 0) peak = acc.peak(Precision::bf16);
  double t_flops = op.flops / (kMatmulEfficiency * peak);
  return std::max(t_flops, t_mem) + kOpOverhead_s;
}

}  // namespace danlu
