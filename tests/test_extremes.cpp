// Every figure danlu prints is finite and not negative, whatever in-range
// value a field takes. For each scenario and each numeric field of the
// schema, the field is set to the extremes its declaration allows (and, for
// an integer without a tighter ceiling, to INT32_MAX); the scenario is then
// either refused with an InputError or evaluated, and every number of its
// JSON result is walked.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "scenario/schema.hpp"
#include "sim/evaluate.hpp"
#include "tests/util.hpp"
#include "views/result_view.hpp"

namespace danlu {
namespace {

// Numbers a report may print below zero: differences and signed margins.
bool may_be_negative(const std::string& path) {
  static const std::vector<std::string> signed_names = {"margin", "headroom", "saving", "delta", "difference"};
  for (const auto& s : signed_names)
    if (path.find(s) != std::string::npos) return true;
  return false;
}

// Null means "none" only where the scenario as written has it too (no
// reliability block, a chip that cannot be bought) or for a break-even that
// never comes; anywhere else it is a number that was not finite.
bool may_be_null(const std::string& path, const Json* base) {
  return (base && base->is_null()) || path.ends_with("break_even_months");
}

void walk(const Json& j, const Json* base, const std::string& path, std::vector<std::string>& bad) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      walk(v, base && base->is_object() && base->contains(k) ? &(*base)[k] : nullptr, path + "." + k, bad);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      walk(j[i], base && base->is_array() && i < base->size() ? &(*base)[i] : nullptr, fmt::format("{}[{}]", path, i),
           bad);
  } else if (j.is_null()) {
    if (!may_be_null(path, base)) bad.push_back(path + " is null");
  } else if (j.is_number()) {
    const double v = j.get<double>();
    if (!std::isfinite(v))
      bad.push_back(fmt::format("{} = {}", path, v));
    else if (v < 0 && !may_be_negative(path))
      bad.push_back(fmt::format("{} = {} < 0", path, v));
    else if (std::fabs(v) > 1e30)
      bad.push_back(fmt::format("{} = {}: past any physical range", path, v));
    else if (v != 0 && std::fabs(v) < 1e-30)
      bad.push_back(fmt::format("{} = {}: an underflow, not a figure", path, v));
  }
}

std::vector<std::string> extremes(const FieldDecl& d) {
  if (d.type == FieldType::integer) {
    std::vector<std::string> v = {fmt::format("{}", d.max), fmt::format("{}", d.min), "2147483647"};
    if (d.max > 1'000'000) v.emplace_back("1000000");
    return v;
  }
  if (d.type == FieldType::quantity) {
    std::vector<std::string> v = {"1e-300", "1e-9"};
    v.push_back(std::isfinite(d.at_most) ? fmt::format("{}", d.at_most) : "1e300");
    return v;
  }
  return {};
}

// Every scenario the repository ships, sweeps and validation rows included.
std::vector<std::string> scenario_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(test::source("scenarios")))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("extremes: every printed figure is finite and not negative under extreme fields") {
  std::set<std::string> failures;
  int evaluated = 0, refused = 0;
  for (const auto& file : scenario_files()) {
    Node base = load_tree(file);
    base.erase("sweep");  // each field is set in turn; the axes would only repeat it
    const Scenario as_written = build_scenario(base, test::catalog());
    const Json base_json = result_json(as_written, evaluate(as_written, "analytic"));
    for (const FieldDecl& d : scenario_schema()) {
      if (d.path.find('*') != std::string_view::npos || d.path.starts_with("sweep")) continue;
      for (const auto& value : extremes(d)) {
        const std::string set = fmt::format("{}={}", d.path, value);
        try {
          Node tree = base;
          apply_set(tree, set);
          const Scenario s = build_scenario(tree, test::catalog());
          const Json j = result_json(s, evaluate(s, "analytic"));
          std::vector<std::string> bad;
          walk(j, &base_json, "", bad);
          ++evaluated;
          for (const auto& b : bad) failures.insert(fmt::format("{} --set {}: {}", file, set, b));
        } catch (const InputError& e) {
          // The evaluation's own backstop against a non-finite figure means
          // some field lacks its bound.
          if (e.detail().find("out of any sensible range") != std::string::npos)
            failures.insert(fmt::format("{} --set {}: {}", file, set, e.what()));
          ++refused;
        } catch (const std::exception& e) {
          failures.insert(fmt::format("{} --set {}: {} (not an InputError)", file, set, e.what()));
        }
      }
    }
  }
  MESSAGE(fmt::format("{} evaluated, {} refused", evaluated, refused));
  for (const auto& f : failures) MESSAGE(f);
  CHECK(failures.empty());
  CHECK(evaluated > 1000);
}

}  // namespace danlu

namespace danlu {

TEST_CASE("extremes: two model fields at their ceilings together are refused or finite") {
  // Widths multiply: heads x head_dim, experts x expert_ffn_hidden. Every
  // pair of the model's integer fields at its ceiling, on a dense and an MoE
  // model with MLA, is refused or gives finite figures (run under the
  // sanitizers, an int overflow on the way aborts).
  std::vector<const FieldDecl*> fields;
  for (const FieldDecl& d : scenario_schema())
    if (d.type == FieldType::integer && d.path.starts_with("model.")) fields.push_back(&d);
  std::set<std::string> failures;
  int evaluated = 0;
  for (const char* file : {"scenarios/llama3-405b-h100.yaml", "scenarios/compare/moe/gb200-nvl72.yaml"}) {
    const Node base = load_tree(test::source(file));
    for (size_t i = 0; i < fields.size(); ++i)
      for (size_t k = i + 1; k < fields.size(); ++k) {
        const std::vector<std::string> sets = {fmt::format("{}={}", fields[i]->path, fields[i]->max),
                                               fmt::format("{}={}", fields[k]->path, fields[k]->max)};
        try {
          Node tree = base;
          for (const auto& set : sets) apply_set(tree, set);
          const Scenario s = build_scenario(tree, test::catalog());
          const Json j = result_json(s, evaluate(s, "analytic"));
          std::vector<std::string> bad;
          walk(j, nullptr, "", bad);
          for (const auto& b : bad)
            if (!b.ends_with("is null")) failures.insert(fmt::format("{} {} {}: {}", file, sets[0], sets[1], b));
          ++evaluated;
        } catch (const InputError&) {
        }
      }
  }
  MESSAGE(fmt::format("{} pairs evaluated", evaluated));
  for (const auto& f : failures) MESSAGE(f);
  CHECK(failures.empty());
  CHECK(evaluated > 100);
}

}  // namespace danlu
