// The rules a parallel layout must keep, in one place: the loader reports
// the first one broken at its field, and the search skips the layout.
#pragma once

#include <optional>
#include <string>

#include "models/training.hpp"
#include "workload/model.hpp"

namespace danlu {

struct LayoutProblem {
  const char* field;  // under training.parallelism; "" for the layout as a whole
  std::string message;
};

// tp x pp x dp x cp = gpus; expert parallelism folded over the attention
// ranks (ep x etp divides tp x cp x dp), only for an MoE model, dividing its
// experts; tp divides the heads (and the KV heads unless fewer); cp divides
// the sequence; enough layers for every pipeline chunk. The pipeline
// schedule adds its own (PipelineSchedule::layout_problem).
std::optional<LayoutProblem> layout_problem(const ModelSpec& m, const TrainingSpec& t, int gpus);

}  // namespace danlu
