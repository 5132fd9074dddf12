// One scenario, evaluated: memory, the step from an engine, and what follows
// for the whole run. Value type; the CLI renders it (spec: docs/report.md).
#pragma once

#include <string>
#include <vector>

#include "sim/engine.hpp"
#include "topologies/fabric_counts.hpp"
#include "workload/memory.hpp"

namespace danlu {

struct Result {
  std::string engine;
  ParamCounts params;
  MemoryBreakdown memory;
  StepResult step;
  double tokens_per_step = 0;
  double model_flops_per_token = 0;
  double executed_flops_per_step = 0;  // whole cluster
  double tokens_per_s = 0;
  double tflops_per_gpu = 0;  // model FLOPs per second per GPU, 1e12
  double mfu = 0;
  double hfu = 0;
  double steps = 0;  // for training.tokens
  double days = 0;   // wall clock, goodput included
  double gpu_hours = 0;
  double goodput = 1;
  Goodput reliability;
  FabricCounts fabric;
  PowerResult power;
  CostResult cost;
  std::vector<std::string> warnings;
};

// Evaluates with the scenario's engine (sim.engine) unless `engine` is given.
Result evaluate(const Scenario& s, const std::string& engine = "", const EngineOptions& options = {});
Result evaluate(const Scenario& s, const Engine& engine, const std::string& engine_name);

}  // namespace danlu
