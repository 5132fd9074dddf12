// Rendering shared by the subcommands: aligned tables, markdown, CSV, JSON.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace danlu {

using Json = nlohmann::ordered_json;

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  bool align_numbers = true;  // right-align numeric cells (off for key/value views)

  std::string text() const;  // aligned columns; numeric-looking cells right-aligned
  std::string markdown() const;
  std::string csv() const;
  // "markdown", "csv", else the aligned text.
  std::string render(const std::string& format) const;
};

// "path: value" lines from nested JSON (for a one-entry human view).
Table key_value_table(const Json& j);

// Nested JSON as (dotted.path, text) pairs: numbers with 6 significant
// digits, arrays joined with "; ".
std::vector<std::pair<std::string, std::string>> flatten_json(const Json& j);

// One CSV cell, quoted when it holds a comma, quote or newline.
std::string csv_cell(const std::string& s);
// The first cell of each whole record of CSV text (quoted cells may hold
// commas, quotes and newlines), and in `complete_bytes` where the last whole
// record ends: what follows was cut short.
std::vector<std::string> csv_first_cells(const std::string& text, size_t* complete_bytes);

// A number with `digits` significant digits, no exponent for everyday sizes.
std::string num(double v, int digits = 4);

}  // namespace danlu
