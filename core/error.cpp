#include "core/error.hpp"

#include <fmt/format.h>
#include <algorithm>

namespace danlu {

std::string Location::str() const {
  if (file.empty()) return {};
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

namespace {
std::string compose(const Location& loc, const std::string& path, const std::string& detail) {
  std::string out;
  if (auto where = loc.str(); !where.empty()) out += where + ": ";
  if (!path.empty()) out += path + ": ";
  return out + detail;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

InputError::InputError(Location loc, std::string path, std::string detail)
    : std::runtime_error(compose(loc, path, detail)),
      loc_(std::move(loc)),
      path_(std::move(path)),
      detail_(std::move(detail)) {}

InputError::InputError(std::string path, std::string detail)
    : InputError(Location{}, std::move(path), std::move(detail)) {}

std::string closest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    // A prefix or suffix match ("h100" for "h100-sxm") counts as close too.
    if (c.size() > word.size() && (c.rfind(word, 0) == 0)) d = std::min(d, size_t{1});
    if (d < best_d) best_d = d, best = c;
  }
  // Allow roughly one edit in three characters: catches typos, not unrelated words.
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit ? best : std::string{};
}

std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  if (auto near = closest_name(word, candidates); !near.empty()) return fmt::format("; did you mean \"{}\"?", near);
  if (candidates.empty()) return {};
  std::string list;
  for (size_t i = 0; i < candidates.size(); ++i) list += (i ? ", " : "") + candidates[i];
  return "; valid: " + list;
}

}  // namespace danlu
