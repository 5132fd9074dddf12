// What the command line and the Python module (python/) share: the steps
// from a scenario to the JSON of docs/report.md, so both give the same
// answer for the same input. Everything here throws (InputError for bad
// input, BudgetError past a budget); nothing prints.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/node.hpp"
#include "drivers/search.hpp"
#include "models/catalog.hpp"
#include "scenario/loader.hpp"
#include "sim/engine.hpp"
#include "views/output.hpp"

namespace danlu {

// The point's values as "path=value, path=value": its identity in the output,
// which `sweep --resume` matches.
std::string point_key(const SweepPoint& point);

// A scenario's sweep: its tree without the sweep: block (each point is set
// into it) and the axes; a point is made when it is wanted. InputError, at
// `where`, when the scenario has no sweep: block.
struct SweepPlan {
  Node tree;
  std::vector<SweepAxis> axes;
  std::uint64_t size() const { return sweep_size(axes); }
  SweepPoint point(std::uint64_t i) const { return sweep_point(axes, i); }
};
SweepPlan plan_sweep(Node tree, const Catalog& cat, const Location& where);

// The row of one sweep point: {point, status, ...the report, layout}. A point
// that is invalid is a row with status "invalid" and the reason; one that
// does not fit has status "does-not-fit". BudgetError propagates.
Json sweep_row(const Node& tree, const SweepPoint& point, const Catalog& cat, const std::string& engine,
               const EngineOptions& options);

// A layout field given as an override (--set PATH=VALUE) is fixed at the
// scenario's value: the search would otherwise vary it and drop the setting.
void fix_overridden_layout(Scenario& s, const std::vector<std::string>& sets);

// The scenario a search starts from: `tree` (a file's, before overrides)
// with `sets` applied and the --set layout fields fixed. Its layout is only a
// starting point, so when the one written or defaulted breaks a constraint
// (a global batch of 512 sequences on 1,024 GPUs all data parallel), a plain
// one that loads (tp and pp powers of two, micro-batch 1, 1F1B) takes its
// place, with a warning; other input errors are thrown as they are.
Scenario search_base(const Node& tree, const std::vector<std::string>& sets, const Catalog& cat);

// The report of each layout search found, with its layout.
Json search_rows(const std::vector<Candidate>& best);

// The catalog: entry names of a kind (accelerators, systems, fabrics,
// models), and one entry with every field.
std::vector<std::string> catalog_names(const std::string& kind, const Catalog& cat);
Json catalog_entry(const std::string& kind, const std::string& name, const Catalog& cat);
// A model preset as the model it defines, with its parameter counts.
Json catalog_model_json(const Catalog& cat, const std::string& name);

}  // namespace danlu
