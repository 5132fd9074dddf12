#include "scenario/schema.hpp"

#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scenario/schema_parts.hpp"

namespace danlu {

namespace {

using T = FieldType;
using D = DefaultKind;
using Q = Quantity;

// The top-level fields; the parts follow (scenario/schema_parts.hpp).
constexpr FieldDecl kHead[] = {
    {.path = "name",
     .type = T::text,
     .kind = D::required,
     .meaning = "the scenario's name: lower-case letters, digits, '.', '_' or '-'"},
    {.path = "description", .type = T::text, .def = "", .meaning = "free text, shown in reports"},
    {.path = "extends",
     .type = T::text,
     .kind = D::absent,
     .meaning = "another scenario (path relative to this file) this one is deep-merged over"},
};

std::string int_text(std::int64_t v) {
  if (v == std::numeric_limits<std::int64_t>::max() || v == std::numeric_limits<std::int32_t>::max()) return "";
  return fmt::format("{}", v);
}

}  // namespace

std::span<const FieldDecl> scenario_schema() {
  static const std::vector<FieldDecl> all = [] {
    std::vector<FieldDecl> v(std::begin(kHead), std::end(kHead));
    for (auto part :
         {schema_parts::model_fields(), schema_parts::cluster_training_fields(), schema_parts::operation_fields()})
      v.insert(v.end(), part.begin(), part.end());
    return v;
  }();
  return all;
}

const FieldDecl* find_field(std::string_view path) {
  static const std::unordered_map<std::string_view, const FieldDecl*> index = [] {
    std::unordered_map<std::string_view, const FieldDecl*> m;
    for (const FieldDecl& d : scenario_schema()) m.emplace(d.path, &d);
    return m;
  }();
  auto it = index.find(path);
  return it == index.end() ? nullptr : it->second;
}

std::string type_text(const FieldDecl& d) {
  switch (d.type) {
    case T::integer: return "integer";
    case T::quantity:
      switch (d.unit) {
        case Q::Real: return "number";
        case Q::Count: return "count (2048, 16M, 15.6T)";
        case Q::Fraction: return "fraction (0.05 or 5%)";
        case Q::Money: return "USD (3.5k, 10M)";
        case Q::Time: return "time (2us, 30min)";
        case Q::Duration: return "time with its unit (60s, 4y)";
        case Q::EnergyPrice: return "USD/kWh";
        default: return expected_text(d.unit);
      }
    case T::flag: return "true or false";
    case T::choice: return "one of " + fmt::format("{}", fmt::join(d.choices(), ", "));
    case T::text: return "text";
    case T::block: return "mapping";
    case T::list: return d.choices ? "list of " + fmt::format("{}", fmt::join(d.choices(), ", ")) : "list";
  }
  return "";
}

std::string default_text(const FieldDecl& d) {
  switch (d.kind) {
    case D::value:
      if (d.type == T::block) return "";
      return d.def.empty() ? "\"\"" : std::string(d.def);
    case D::derived: return std::string(d.note);
    case D::absent: return "absent";
    case D::required: return "required";
  }
  return "";
}

std::string range_text(const FieldDecl& d) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty()) out += (out.empty() ? "" : ", ") + s;
  };
  if (d.type == T::integer) {
    const std::string hi = int_text(d.max);
    add(hi.empty() ? fmt::format("{} or more", d.min) : fmt::format("{} to {}", d.min, hi));
  } else if (d.type == T::quantity) {
    if (std::isfinite(d.at_least)) {
      add(floor_words(d.range, d.at_least, d.unit));
    } else {
      switch (d.range) {
        case Range::Positive: add("> 0"); break;
        case Range::NonNegative: add(">= 0"); break;
        case Range::UnitInterval: add("0 to 1"); break;
        case Range::AtLeastOne: add(">= 1"); break;
        case Range::Any: break;
      }
    }
    if (std::isfinite(d.at_most)) add("at most " + format_quantity(d.at_most, d.unit));
  }
  add(std::string(d.bound_rule));
  return out;
}

// ------------------------------------------------------------ DeclaredFields

const FieldDecl& DeclaredFields::decl(const std::string& key, FieldType type) const {
  const std::string path = f_.path_of(key);
  const FieldDecl* d = find_field(path);
  if (!d) throw std::logic_error("the loader reads " + path + ", which the scenario schema does not declare");
  if (d->type != type) throw std::logic_error("the loader reads " + path + " as another type than declared");
  return *d;
}

template <class T>
std::optional<T> DeclaredFields::fallback(const FieldDecl& d, std::optional<T> derived,
                                          T (*parse)(const FieldDecl&)) const {
  const bool gives = derived.has_value();
  const bool needs = d.kind == D::derived;
  if (gives != needs)
    throw std::logic_error(fmt::format("{}: the loader {} a default the schema {}", d.path, gives ? "gives" : "lacks",
                                       gives ? "already fixes or leaves out" : "derives"));
  if (d.kind == D::value) return parse(d);
  return derived;
}

void DeclaredFields::note(const std::string& key, const FieldDecl& d) {
  if (!d.note.empty()) f_.note_default(key, std::string(d.note));
}

std::int64_t DeclaredFields::integer(const std::string& key, std::optional<std::int64_t> derived,
                                     std::optional<std::int64_t> at_most) {
  const FieldDecl& d = decl(key, T::integer);
  auto def = fallback<std::int64_t>(d, derived,
                                    [](const FieldDecl& x) -> std::int64_t { return std::stoll(std::string(x.def)); });
  const std::int64_t v = f_.integer(key, def, d.min, at_most.value_or(d.max));
  note(key, d);
  return v;
}

double DeclaredFields::quantity(const std::string& key, std::optional<double> derived, std::optional<double> at_most) {
  const FieldDecl& d = decl(key, T::quantity);
  auto def =
      fallback<double>(d, derived, [](const FieldDecl& x) { return parse_quantity(std::string(x.def), x.unit); });
  std::optional<double> bound = at_most;
  if (!bound && std::isfinite(d.at_most)) bound = d.at_most;
  const double v = f_.quantity(key, d.unit, def, d.range, bound,
                               std::isfinite(d.at_least) ? std::optional<double>(d.at_least) : std::nullopt);
  note(key, d);
  return v;
}

bool DeclaredFields::flag(const std::string& key, std::optional<bool> derived) {
  const FieldDecl& d = decl(key, T::flag);
  auto def = fallback<bool>(d, derived, [](const FieldDecl& x) { return x.def == "true"; });
  const bool v = f_.boolean(key, def);
  note(key, d);
  return v;
}

std::string DeclaredFields::choice(const std::string& key, std::optional<std::string> derived) {
  const FieldDecl& d = decl(key, T::choice);
  auto def = fallback<std::string>(d, std::move(derived), [](const FieldDecl& x) { return std::string(x.def); });
  std::string v = f_.choice(key, def, d.choices());
  note(key, d);
  return v;
}

std::string DeclaredFields::text(const std::string& key, std::optional<std::string> derived) {
  const FieldDecl& d = decl(key, T::text);
  auto def = fallback<std::string>(d, std::move(derived), [](const FieldDecl& x) { return std::string(x.def); });
  std::string v = f_.text(key, def);
  note(key, d);
  return v;
}

const Node* DeclaredFields::raw(const std::string& key) {
  const std::string path = f_.path_of(key);
  if (!find_field(path))
    throw std::logic_error("the loader reads " + path + ", which the scenario schema does not declare");
  return f_.raw(key);
}

DeclaredFields DeclaredFields::sub(const std::string& key) {
  const std::string path = f_.path_of(key);
  const FieldDecl* d = find_field(path);
  if (!d || d->type != T::block)
    throw std::logic_error("the loader reads " + path + " as a block, which the schema does not declare");
  return DeclaredFields(f_.sub(key));
}

}  // namespace danlu
