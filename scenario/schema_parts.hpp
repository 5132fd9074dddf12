// The scenario schema's declarations, one file per part of a scenario:
// what they share. Internal to scenario/. Their bounds are what makes
// physical sense, so that a typo of a few orders of magnitude is refused
// rather than carried into every figure.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/names.hpp"
#include "scenario/schema.hpp"

namespace danlu::schema_parts {

using T = FieldType;
using D = DefaultKind;
using Q = Quantity;

inline constexpr double kYear_s = 365 * 86400.0;

template <class E>
std::vector<std::string> enum_names() {
  return names_of<E>();
}

// The parts in the order the documentation lists them.
std::span<const FieldDecl> model_fields();
std::span<const FieldDecl> cluster_training_fields();
std::span<const FieldDecl> operation_fields();  // facility, cost, reliability, sim, measured, sweep, search

}  // namespace danlu::schema_parts
