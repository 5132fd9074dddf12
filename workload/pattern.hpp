// Layer patterns as Megatron writes them: one symbol per layer (or per
// pipeline-layout item), `X*N` repeating the symbol before it N times and
// `(...)*N` a group. Used by model.mixer_pattern and model.ffn_pattern, and
// by training.pipeline_layout (Megatron's pipeline_model_parallel_layout).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace danlu {

// A pattern that cannot be read: `at` is the 0-based offset of the fault.
struct PatternError : std::runtime_error {
  PatternError(size_t offset, const std::string& what) : std::runtime_error(what), at(offset) {}
  size_t at;
};

// The pattern expanded to one symbol per item. Symbols outside `alphabet`,
// a count below 1, unbalanced parentheses, or an expansion longer than
// `max_items` throw PatternError. Spaces are ignored.
std::string expand_pattern(std::string_view text, std::string_view alphabet, size_t max_items);

}  // namespace danlu
