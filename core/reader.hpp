// Strict, typed reading of one YAML mapping.
//
// Each accessor reads one key, checks its type, unit and range, and records the
// effective value with where it came from (for `--explain`). finish() rejects
// any key nobody read, with a did-you-mean: a typo must never be ignored.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/node.hpp"
#include "core/units.hpp"

namespace danlu {

// One effective setting: dotted path, rendered value, and its origin
// ("file:line:col", "default", or a note such as "default: heads").
struct ExplainEntry {
  std::string path;
  std::string value;
  std::string source;
};
using Explain = std::vector<ExplainEntry>;

enum class Range { Any, Positive, NonNegative, UnitInterval /* [0,1] */, AtLeastOne };

// A quantity's range with a physical floor, in words: "at least 0.01", or
// "0, or at least 1e-4" where the range lets it be 0.
std::string floor_words(Range r, double at_least, Quantity q);

class Fields {
 public:
  // `node` may be null or Null (an absent section): every field takes its default.
  Fields(const Node* node, std::string path, Explain* explain);

  bool has(const std::string& key);
  // Raw access for the few values that are not one scalar (sweep lists); marks it read.
  const Node* raw(const std::string& key);

  // `at_most` and `at_least`: the largest and smallest values that make
  // physical sense for the field (a floor keeps a tiny value from
  // underflowing every figure derived from it).
  double quantity(const std::string& key, Quantity q, std::optional<double> def, Range range = Range::Positive,
                  std::optional<double> at_most = std::nullopt, std::optional<double> at_least = std::nullopt);
  std::int64_t integer(const std::string& key, std::optional<std::int64_t> def, std::int64_t min = 1,
                       std::int64_t max = std::numeric_limits<std::int32_t>::max());
  bool boolean(const std::string& key, std::optional<bool> def);
  // One of a fixed set of words.
  std::string choice(const std::string& key, std::optional<std::string> def, const std::vector<std::string>& valid);
  std::string text(const std::string& key, std::optional<std::string> def);

  // A nested mapping (absent: an empty one, so its fields take defaults).
  Fields sub(const std::string& key);

  // Adds a note to the explanation of a key read with its default.
  void note_default(const std::string& key, const std::string& why);

  // Throws for the first key that no accessor read.
  void finish() const;

  std::string path_of(const std::string& key) const;
  Location loc_of(const std::string& key) const;  // value location, or the mapping's
  const Location& loc() const { return loc_; }
  const std::string& path() const { return path_; }

 private:
  const Node* lookup(const std::string& key);
  // The error for a required `key` that is absent.
  InputError missing(const std::string& key, const std::string& expected) const;
  const Node* scalar_or_throw(const std::string& key, const Node* n, const std::string& expected);
  void record(const std::string& key, const std::string& value, const Node* from);

  const Node* node_;
  std::string path_;
  Explain* explain_;
  Location loc_;
  std::vector<std::string> read_;
};

}  // namespace danlu
