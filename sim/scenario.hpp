// The typed scenario: everything a run needs, checked and with every default
// filled. Built once by the loader (sim/loader.hpp) from YAML; nothing past the
// loader reads YAML. Field units follow the names (SI base unless suffixed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/node.hpp"
#include "core/reader.hpp"
#include "models/hardware.hpp"
#include "models/training.hpp"
#include "models/transformer.hpp"

namespace danlu {


struct FacilitySpec {
  std::string cooling;
  double pue = 1.2;
  double electricity_usd_per_kwh = 0.0862;
  double max_rack_w = 0;
};

struct BuySpec {
  double server_usd = 0;          // per system unit (node or rack)
  double network_usd_per_gpu = 0;
  double facility_usd_per_mw = 0;
  double depreciation_s = 0;
  double maintenance_per_year = 0;
  double cost_of_capital_per_year = 0;
};

struct CostSpec {
  double rent_usd_per_gpu_hour = 0;
  double reserved_discount = 0;
  BuySpec buy;
  double utilization = 0.9;
  double horizon_s = 0;
};

struct ReliabilitySpec {
  bool given = false;               // false: goodput 1, with a note
  double gpu_mtbf_s = 0;
  double checkpoint_interval_s = 0; // 0: Young/Daly optimum
  double checkpoint_write_s = 0;
  double restart_s = 0;
};

struct SimSpec {
  std::string engine = "analytic";  // analytic | des
  std::string fidelity = "folded";  // folded | full
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
  std::string source;
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
  std::optional<Measured> measured;

  Explain explain;                    // every effective value and its origin
  std::vector<std::string> warnings;  // accepted but worth saying (replicated KV heads, ...)
};


}  // namespace danlu
