// The scenario schema, declared once: every field a scenario file may hold,
// with its type, unit, default (a value, or the rule that derives it) and
// where that default comes from, its range and its meaning. The loader reads
// each field through this declaration (DeclaredFields below), `danlu schema`
// prints it, and docs/scenario.md's field reference is generated from it
// (a test fails when the two differ).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/reader.hpp"

namespace danlu {

enum class FieldType { integer, quantity, flag, choice, text, block, list };

// How a field gets its value when the file leaves it out.
enum class DefaultKind {
  value,     // `def`, a literal written as in a file; `note` says where it comes from, if anywhere
  derived,   // from other fields or the catalog, by the rule in `note`
  absent,    // optional with no value: leaving it out means something (e.g. no MoE block)
  required,  // the file must give it
};

struct FieldDecl {
  std::string_view path{};  // dotted, as in --set and the error messages
  FieldType type = FieldType::integer;
  Quantity unit = Quantity::Real;  // quantity only: what units it takes
  DefaultKind kind = DefaultKind::value;
  std::string_view def{};   // the literal default (DefaultKind::value)
  std::string_view note{};  // the rule (derived) or the source of the literal
  // quantity: the sign rule and the largest value that makes physical sense.
  Range range = Range::Positive;
  double at_most = std::numeric_limits<double>::infinity();
  // quantity: the smallest value that makes physical sense, when "> 0" would
  // let a tiny value underflow every figure derived from it.
  double at_least = -std::numeric_limits<double>::infinity();
  // integer: the bounds.
  std::int64_t min = 1;
  std::int64_t max = std::numeric_limits<std::int32_t>::max();
  // A bound that depends on other fields, in words ("at most experts").
  std::string_view bound_rule{};
  // choice: the words it accepts (from the registry or the enum's name table).
  std::vector<std::string> (*choices)() = nullptr;
  std::string_view meaning{};
  bool addition = false;  // beyond the shared input contract (../shared/spec)
};

// Every declared field, in the order the documentation lists them.
std::span<const FieldDecl> scenario_schema();
// The declaration of `path`, or null.
const FieldDecl* find_field(std::string_view path);

// Presentation of a declaration, shared by `danlu schema` and the doc.
std::string type_text(const FieldDecl& d);     // "integer", "time", "one of: a, b"
std::string default_text(const FieldDecl& d);  // "1", "heads", "required", "absent"
std::string range_text(const FieldDecl& d);    // "1 to 10000", "> 0, at most 64"

// Fields of a scenario read through the schema: the default, the range and
// the unit come from the declaration; the caller gives only what the
// declaration cannot (a derived default's value, a bound that depends on
// other fields). Reading a field that is not declared, or giving a default
// the declaration already fixes, is a bug in danlu (std::logic_error), which
// the tests find by loading every scenario.
class DeclaredFields {
 public:
  explicit DeclaredFields(Fields fields) : f_(std::move(fields)) {}

  std::int64_t integer(const std::string& key, std::optional<std::int64_t> derived = std::nullopt,
                       std::optional<std::int64_t> at_most = std::nullopt);
  double quantity(const std::string& key, std::optional<double> derived = std::nullopt,
                  std::optional<double> at_most = std::nullopt);
  bool flag(const std::string& key, std::optional<bool> derived = std::nullopt);
  std::string choice(const std::string& key, std::optional<std::string> derived = std::nullopt);
  std::string text(const std::string& key, std::optional<std::string> derived = std::nullopt);
  // A field read as it is written (sweep axes, stage_layers, presence).
  const Node* raw(const std::string& key);
  DeclaredFields sub(const std::string& key);

  bool has(const std::string& key) { return f_.has(key); }
  void finish() const { f_.finish(); }
  std::string path_of(const std::string& key) const { return f_.path_of(key); }
  Location loc_of(const std::string& key) const { return f_.loc_of(key); }
  const Location& loc() const { return f_.loc(); }
  const std::string& path() const { return f_.path(); }

 private:
  const FieldDecl& decl(const std::string& key, FieldType type) const;
  // The literal default, or `derived` for a derived one; checks the caller
  // gave exactly what the declaration lacks.
  template <class T>
  std::optional<T> fallback(const FieldDecl& d, std::optional<T> derived, T (*parse)(const FieldDecl&)) const;
  void note(const std::string& key, const FieldDecl& d);

  Fields f_;
};

}  // namespace danlu
