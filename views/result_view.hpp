// Rendering a Result: the JSON of docs/report.md, and the human views.
#pragma once

#include <string>
#include <vector>

#include "sim/evaluate.hpp"
#include "views/output.hpp"

namespace danlu {

Json result_json(const Scenario& s, const Result& r);
// What the cost and power figures assume: prices with their basis,
// utilisation, PUE, electricity, depreciation, cost of capital, failures.
Json assumptions_json(const Scenario& s);
// The layout as {tp, pp, dp, cp, ep, vpp, micro_batch, recompute, zero}: search and sweep rows.
Json layout_json(const TrainingSpec& t);
std::string result_text(const Scenario& s, const Result& r);

// One row per JSON object, columns the union of their flattened keys (a.b.c),
// in first-seen order; arrays are joined with "; ".
Table flat_table(const std::vector<Json>& rows);

// Renders `rows` (one JSON object per scenario) in a table format.
std::string render_rows(const std::vector<Json>& rows, const std::string& format);

}  // namespace danlu
