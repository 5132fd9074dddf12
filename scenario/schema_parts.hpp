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

// Ceilings on a model's shape, each far past anything trained, so no sum or
// product of them leaves the ranges the counts are computed in:
// - a width in channels: the widest FFN trained is 73,728 (PaLM 540B);
inline constexpr std::int64_t kMaxWidth = 10'000'000;
// - heads, head widths, groups and ranks: the most heads is 128, the widest
//   head 256, the largest MLA rank 1,536 (DeepSeek-V3);
inline constexpr std::int64_t kMaxHeads = 65'536;
// - experts per layer: PEER (He 2024, "Mixture of a Million Experts") 2^20;
inline constexpr std::int64_t kMaxExperts = 1'048'576;
// - shared experts: DeepSeekMoE 16B has 2, Qwen1.5-MoE 4;
inline constexpr std::int64_t kMaxSharedExperts = 1'024;
// - tokens: a vocabulary of 262,144 (Gemma 3), a context of 10M (Llama 4 Scout).
inline constexpr std::int64_t kMaxVocab = 10'000'000;
inline constexpr std::int64_t kMaxSequence = 100'000'000;

template <class E>
std::vector<std::string> enum_names() {
  return names_of<E>();
}

// The parts in the order the documentation lists them.
std::span<const FieldDecl> model_fields();
std::span<const FieldDecl> cluster_training_fields();
std::span<const FieldDecl> operation_fields();  // facility, cost, reliability, sim, measured, sweep, search

}  // namespace danlu::schema_parts
