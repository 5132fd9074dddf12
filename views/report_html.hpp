// The self-contained HTML report: the results as embedded JSON, drawn as SVG
// charts by an inline script (no network needed to view it).
#pragma once

#include <string>
#include <vector>

#include "views/output.hpp"

namespace danlu {

// `results`: one object per scenario as result_json() makes them; `title` for the page.
std::string report_html(const std::vector<Json>& results, const std::string& title);

}  // namespace danlu
