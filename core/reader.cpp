#include "core/reader.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace danlu {

Fields::Fields(const Node* node, std::string path, Explain* explain)
    : node_(node && !node->is_null() ? node : nullptr), path_(std::move(path)), explain_(explain) {
  if (node) loc_ = node->loc;
  if (node_ && !node_->is_map())
    throw InputError(node_->loc, path_, fmt::format("expected a mapping, found {}", node_->describe()));
}

std::string Fields::path_of(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

bool Fields::has(const std::string& key) {
  // Asking about a key makes it known: `gpus: null` (removing an inherited
  // value) is then not reported as unknown.
  if (std::find(read_.begin(), read_.end(), key) == read_.end()) read_.push_back(key);
  return node_ && node_->find(key) && !node_->find(key)->is_null();
}

Location Fields::loc_of(const std::string& key) const {
  if (node_)
    if (const Node* n = node_->find(key)) return n->loc;
  return loc_;
}

const Node* Fields::lookup(const std::string& key) {
  if (std::find(read_.begin(), read_.end(), key) == read_.end()) read_.push_back(key);
  if (!node_) return nullptr;
  const Node* n = node_->find(key);
  return (n && !n->is_null()) ? n : nullptr;
}

const Node* Fields::raw(const std::string& key) { return lookup(key); }

const Node* Fields::scalar_or_throw(const std::string& key, const Node* n, const std::string& expected) {
  if (!n->is_scalar())
    throw InputError(n->loc, path_of(key), fmt::format("expected {}, found {}", expected, n->describe()));
  return n;
}

void Fields::record(const std::string& key, const std::string& value, const Node* from) {
  if (!explain_) return;
  explain_->push_back({path_of(key), value, from ? from->loc.str() : std::string("default")});
}

void Fields::note_default(const std::string& key, const std::string& why) {
  if (!explain_) return;
  for (auto it = explain_->rbegin(); it != explain_->rend(); ++it)
    if (it->path == path_of(key) && it->source == "default") {
      it->source = "default: " + why;
      return;
    }
}

std::string floor_words(Range r, double at_least, Quantity q) {
  const std::string floor = format_quantity(at_least, q);
  // A field that may be 0 ("no maintenance") keeps 0 under a floor.
  return r == Range::UnitInterval  ? fmt::format("0, or {} to 1", floor)
         : r == Range::NonNegative ? fmt::format("0, or at least {}", floor)
                                   : fmt::format("at least {}", floor);
}

namespace {
std::string range_words(Range r) {
  switch (r) {
    case Range::Positive: return "greater than 0";
    case Range::NonNegative: return "0 or more";
    case Range::UnitInterval: return "between 0 and 1";
    case Range::AtLeastOne: return "1 or more";
    case Range::Any: return "";
  }
  return "";
}
// " (greater than 0, at most 30y)", or "" when nothing bounds the field.
std::string bounds_text(Range r, std::optional<double> at_most, std::optional<double> at_least, Quantity q) {
  std::string words = at_least ? floor_words(r, *at_least, q) : range_words(r);
  if (at_most) words += fmt::format("{}at most {}", words.empty() ? "" : ", ", format_quantity(*at_most, q));
  return words.empty() ? "" : " (" + words + ")";
}
bool in_range(double v, Range r) {
  switch (r) {
    case Range::Positive: return v > 0;
    case Range::NonNegative: return v >= 0;
    case Range::UnitInterval: return v >= 0 && v <= 1;
    case Range::AtLeastOne: return v >= 1;
    case Range::Any: return true;
  }
  return true;
}
}  // namespace

double Fields::quantity(const std::string& key, Quantity q, std::optional<double> def, Range range,
                        std::optional<double> at_most, std::optional<double> at_least) {
  const Node* n = lookup(key);
  if (!n) {
    if (!def) throw missing(key, expected_text(q));
    record(key, format_quantity(*def, q), nullptr);
    return *def;
  }
  scalar_or_throw(key, n, expected_text(q));
  double v = 0;
  try {
    v = parse_quantity(n->scalar, q);
  } catch (const UnitError& e) {
    throw InputError(n->loc, path_of(key), e.what());
  }
  // A finite value inside its range, and below a ceiling that makes physical
  // sense: 1e300 would pass "greater than 0" and overflow every figure after.
  if (!std::isfinite(v) || !in_range(v, range) || (at_most && v > *at_most) ||
      (at_least && v < *at_least && !(v == 0 && in_range(0, range))))
    throw InputError(n->loc, path_of(key),
                     fmt::format("expected {}{}, found \"{}\"", expected_text(q),
                                 bounds_text(range, at_most, at_least, q), n->scalar));
  record(key, n->scalar, n);  // as the user wrote it
  return v;
}

std::int64_t Fields::integer(const std::string& key, std::optional<std::int64_t> def, std::int64_t min,
                             std::int64_t max) {
  const Node* n = lookup(key);
  std::string expected = min == 1   ? "a positive integer"
                         : min == 0 ? "an integer 0 or more"
                                    : fmt::format("an integer from {}", min);
  if (max < std::numeric_limits<std::int32_t>::max()) expected += fmt::format(" up to {}", max);
  if (!n) {
    if (!def) throw missing(key, expected);
    record(key, fmt::format("{}", *def), nullptr);
    return *def;
  }
  scalar_or_throw(key, n, expected);
  double v = 0;
  try {
    v = parse_quantity(n->scalar, Quantity::Count);
  } catch (const UnitError&) {
    throw InputError(n->loc, path_of(key), fmt::format("expected {}, found \"{}\"", expected, n->scalar));
  }
  if (v != std::floor(v) || v < static_cast<double>(min) || v > static_cast<double>(max)) {
    // A whole number over the ceiling: say where the ceiling is.
    if (v == std::floor(v) && v > static_cast<double>(max) && max == std::numeric_limits<std::int32_t>::max())
      expected += fmt::format(" up to {}", max);
    throw InputError(n->loc, path_of(key), fmt::format("expected {}, found \"{}\"", expected, n->scalar));
  }
  auto i = static_cast<std::int64_t>(v);
  record(key, fmt::format("{}", i), n);
  return i;
}

bool Fields::boolean(const std::string& key, std::optional<bool> def) {
  const Node* n = lookup(key);
  if (!n) {
    if (!def) throw missing(key, "true or false");
    record(key, *def ? "true" : "false", nullptr);
    return *def;
  }
  scalar_or_throw(key, n, "true or false");
  static const std::vector<std::string> yes = {"true", "yes", "on", "True", "TRUE"};
  static const std::vector<std::string> no = {"false", "no", "off", "False", "FALSE"};
  bool v;
  if (std::find(yes.begin(), yes.end(), n->scalar) != yes.end())
    v = true;
  else if (std::find(no.begin(), no.end(), n->scalar) != no.end())
    v = false;
  else
    throw InputError(n->loc, path_of(key), fmt::format("expected true or false, found \"{}\"", n->scalar));
  record(key, v ? "true" : "false", n);
  return v;
}

std::string Fields::choice(const std::string& key, std::optional<std::string> def,
                           const std::vector<std::string>& valid) {
  const Node* n = lookup(key);
  std::string list;
  for (size_t i = 0; i < valid.size(); ++i) list += (i ? " | " : "") + valid[i];
  if (!n) {
    if (!def) throw missing(key, "one of " + list);
    record(key, *def, nullptr);
    return *def;
  }
  scalar_or_throw(key, n, "one of " + list);
  if (std::find(valid.begin(), valid.end(), n->scalar) == valid.end()) {
    std::string near = closest_name(n->scalar, valid);
    throw InputError(n->loc, path_of(key),
                     fmt::format("expected one of {}, found \"{}\"{}", list, n->scalar,
                                 near.empty() ? "" : fmt::format("; did you mean \"{}\"?", near)));
  }
  record(key, n->scalar, n);
  return n->scalar;
}

std::string Fields::text(const std::string& key, std::optional<std::string> def) {
  const Node* n = lookup(key);
  if (!n) {
    if (!def) throw missing(key, "a text");
    if (!def->empty()) record(key, *def, nullptr);
    return *def;
  }
  scalar_or_throw(key, n, "a text");
  record(key, n->scalar, n);
  return n->scalar;
}

Fields Fields::sub(const std::string& key) {
  const Node* n = lookup(key);
  Fields f(n, path_of(key), explain_);
  if (!n) f.loc_ = loc_;
  return f;
}

InputError Fields::missing(const std::string& key, const std::string& expected) const {
  // A required key is often only misspelt: point at the misspelling.
  if (node_)
    for (size_t i = 0; i < node_->map.size(); ++i) {
      const std::string& written = node_->map[i].first;
      if (std::find(read_.begin(), read_.end(), written) == read_.end() && closest_name(written, {key}) == key)
        return InputError(node_->key_locs[i].file.empty() ? node_->map[i].second.loc : node_->key_locs[i],
                          path_of(written), fmt::format("unknown key; did you mean \"{}\"? (it is required)", key));
    }
  return InputError(loc_, path_of(key), "required field missing: expected " + expected);
}

void Fields::finish() const {
  if (!node_) return;
  std::vector<std::string> known = read_;
  for (size_t i = 0; i < node_->map.size(); ++i) {
    const auto& key = node_->map[i].first;
    if (std::find(read_.begin(), read_.end(), key) != read_.end()) continue;
    Location where = node_->key_locs[i].file.empty() ? node_->map[i].second.loc : node_->key_locs[i];
    throw InputError(where, path_of(key), "unknown key" + suggestion(key, known));
  }
}

}  // namespace danlu
