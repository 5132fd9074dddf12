#include "views/output.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace danlu {

namespace {
bool numeric(const std::string& s) {
  if (s.empty()) return false;
  if (s == "n/a") return true;  // a missing figure sits where its number would
  char c = s[0];
  return (c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && s.size() > 1);
}

void flatten(const Json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    return;
  }
  std::string v;
  if (j.is_string())
    v = j.get<std::string>();
  else if (j.is_number_float())
    v = num(j.get<double>(), 6);
  else if (j.is_array()) {
    for (const auto& e : j) v += (v.empty() ? "" : "; ") + (e.is_string() ? e.get<std::string>() : e.dump());
  } else
    v = j.dump();
  out.emplace_back(prefix, v);
}
}  // namespace

std::string num(double v, int digits) {
  if (v == 0) return "0";
  if (!std::isfinite(v)) return "-";
  double mag = std::fabs(v);
  // Whole numbers print whole up to 1e18, so a column of peaks or byte
  // counts reads alike (989000000000000 beside 1979000000000000).
  if (mag < 1e18 && v == std::floor(v)) return fmt::format("{:.0f}", v);
  if (mag >= 1e15 || mag < 1e-4) return fmt::format("{:.{}e}", v, digits - 1);
  // Significant digits, but never round away integer digits, and no trailing zeros.
  int int_digits = mag >= 1 ? static_cast<int>(std::floor(std::log10(mag))) + 1 : 0;
  int decimals = std::max(0, digits - int_digits);
  if (mag < 1) decimals = digits - static_cast<int>(std::floor(std::log10(mag))) - 1;
  std::string out = fmt::format("{:.{}f}", v, decimals);
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  return out;
}

std::string Table::text() const {
  std::vector<size_t> width(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], r[c].size());
  auto line = [&](const std::vector<std::string>& cells, bool is_header) {
    std::string out;
    for (size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      bool right = align_numbers && !is_header && c > 0 && numeric(cell);
      if (c) out += "  ";
      out += right ? fmt::format("{:>{}}", cell, width[c]) : fmt::format("{:<{}}", cell, width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header, true);
  size_t total = 0;
  for (auto w : width) total += w;
  out += std::string(total + 2 * (width.size() - 1), '-') + "\n";
  for (const auto& r : rows) out += line(r, false);
  return out;
}

std::string Table::markdown() const {
  auto line = [](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (const auto& c : cells) out += " " + c + " |";
    return out + "\n";
  };
  std::string out = line(header) + "|";
  // Numbers line up on the right; text (a key/value view) reads from the left.
  for (size_t c = 0; c < header.size(); ++c) out += c && align_numbers ? " ---: |" : " --- |";
  out += "\n";
  for (const auto& r : rows) out += line(r);
  return out;
}

std::string Table::csv() const {
  auto line = [](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      out += csv_cell(cells[i]);
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& r : rows) out += line(r);
  return out;
}

std::vector<std::pair<std::string, std::string>> flatten_json(const Json& j) {
  std::vector<std::pair<std::string, std::string>> out;
  flatten(j, "", out);
  return out;
}

std::vector<std::string> csv_first_cells(const std::string& text, size_t* complete_bytes) {
  std::vector<std::string> firsts;
  *complete_bytes = 0;
  std::string first;
  bool in_first = true, quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        if (in_first) first += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else if (in_first) {
        first += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      in_first = false;
    } else if (c == '\n') {  // the end of a record: only now is it whole
      firsts.push_back(std::move(first));
      first.clear();
      in_first = true;
      *complete_bytes = i + 1;
    } else if (in_first) {
      first += c;
    }
  }
  return firsts;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Table::render(const std::string& format) const {
  if (format == "markdown") return markdown();
  if (format == "csv") return csv();
  return text();
}

Table key_value_table(const Json& j) {
  Table t;
  t.header = {"field", "value"};
  t.align_numbers = false;
  for (auto& [k, v] : flatten_json(j)) t.rows.push_back({k, v});
  return t;
}

}  // namespace danlu
