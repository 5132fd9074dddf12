// The typed scenario: everything a run needs, checked and with every default
// filled. Built once by the loader (scenario/loader.hpp) from YAML; nothing past the
// loader reads YAML. Field units follow the names (SI base unless suffixed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/node.hpp"
#include "core/reader.hpp"
#include "models/cost.hpp"
#include "models/hardware.hpp"
#include "models/kernels.hpp"
#include "models/power.hpp"
#include "models/reliability.hpp"
#include "models/training.hpp"
#include "workload/model.hpp"

namespace danlu {

// The DES's ranks: one per pipeline stage standing for its data-parallel
// and tensor peers (folded), or every GPU (full).
enum class Fidelity { folded, full };
template <>
struct NameTable<Fidelity> {
  static constexpr std::array<std::string_view, 2> names{"folded", "full"};
};

struct SimSpec {
  std::string engine = "analytic";  // analytic | des
  Fidelity fidelity = Fidelity::folded;
  int steps = 1;
  std::int64_t seed = 1;
};

struct SweepAxis {
  std::string path;
  std::vector<Node> values;
};

// A published measurement the scenario reproduces (for `danlu validate`).
struct Measured {
  std::optional<double> step_s;
  std::optional<double> mfu;
  std::optional<double> tokens_per_s_per_gpu;
  std::string source;
};

// Limits on `danlu search`'s layout space, from the scenario's `search:`
// block and from layout fields given with --set: each list holds the values
// a dimension may take; empty = every value the divisibility rules allow.
struct SearchLimits {
  std::vector<int> tp, pp, dp, cp, ep, vpp, micro_batch, zero;
  std::vector<Recompute> recompute;
  bool empty() const {
    return tp.empty() && pp.empty() && dp.empty() && cp.empty() && ep.empty() && vpp.empty() && micro_batch.empty() &&
           zero.empty() && recompute.empty();
  }
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;
  ModelSpec model;
  ClusterSpec cluster;
  TrainingSpec training;
  FacilitySpec facility;
  CostSpec cost;
  ReliabilitySpec reliability;
  SimSpec sim;
  std::vector<SweepAxis> sweep;
  SearchLimits search;
  std::optional<Measured> measured;
  ComputeConstants constants;  // the compute model's global constants (calibration profile)
  // Relative uncertainty (one standard deviation) of the predicted step for
  // this accelerator's vendor, from the profile's leave-one-system-out
  // residuals (0: the profile gives none).
  double uncertainty = 0;

  Explain explain;                    // every effective value and its origin
  std::vector<std::string> warnings;  // accepted but worth saying (replicated KV heads, ...)
};

}  // namespace danlu
