// Reading scenario files into typed Scenarios (spec: docs/scenario.md).
//
// Two stages, so sweeps can re-apply values to the same input: load_tree()
// assembles the input tree (extends, then --set overrides, keeping every
// value's file:line:col); build_scenario() reads and checks it into a Scenario.
#pragma once

#include <string>
#include <vector>

#include "core/node.hpp"
#include "models/catalog.hpp"
#include "scenario/scenario.hpp"

namespace danlu {

// The file with its `extends:` chain merged, and each "PATH=VALUE" of `sets`
// applied. Throws InputError (bad YAML, missing file, extends cycle, bad --set).
Node load_tree(const std::string& file, const std::vector<std::string>& sets = {});

// The same for a scenario given as text (YAML or JSON, e.g. from Python):
// `name` stands for its file in messages, and `extends:` and `hf_config:`
// paths are relative to its folder.
Node load_tree_text(const std::string& text, const std::string& name, const std::vector<std::string>& sets = {});

// Applies one "PATH=VALUE" override (VALUE is YAML: 4, fp8, [1, 2], {tp: 4}).
void apply_set(Node& tree, const std::string& assignment);

// Reads and checks the tree. Throws InputError for anything invalid.
Scenario build_scenario(const Node& tree, const Catalog& catalog);

inline Scenario load_scenario(const std::string& file, const Catalog& catalog,
                              const std::vector<std::string>& sets = {}) {
  return build_scenario(load_tree(file, sets), catalog);
}

// The integer dimensions `danlu search` varies: the layout path, the
// limit's list, the lowest value allowed, and the scenario's own value.
// Recomputation is the one dimension beside them (kSearchRecomputePath).
struct SearchDim {
  const char* path;
  std::vector<int> SearchLimits::*values;
  int min;
  int (*given)(const TrainingSpec&);
};
const std::vector<SearchDim>& search_dims();
inline constexpr const char* kSearchRecomputePath = "training.recompute";

// The `search:` block (null: no limits). Throws InputError.
SearchLimits read_search_limits(const Node* block);

// One point of a sweep: the (path, value) pairs applied to the scenario.
using SweepPoint = std::vector<std::pair<std::string, Node>>;

// A sweep is the cross product of its axes, the last axis varying fastest.
// Its points are made one at a time from an index, so memory does not grow
// with their number. sweep_size saturates at UINT64_MAX.
std::uint64_t sweep_size(const std::vector<SweepAxis>& axes);
SweepPoint sweep_point(const std::vector<SweepAxis>& axes, std::uint64_t index);

// The most points a sweep may have (scenario/loader.cpp says why).
extern const std::uint64_t kMaxSweepPoints;

}  // namespace danlu
