// A dense feed-forward network inside the tensor-parallel region: the MLP
// kind, and the shared experts of an MoE layer.
#pragma once

#include <vector>

#include "workload/context.hpp"

namespace danlu {

// The FFN of `width` (summed over its copies) on this GPU: fc1 (gate and up
// with SwiGLU), the activation function, fc2.
void dense_ffn_forward(const LayerContext& c, std::vector<WorkItem>& w, double width);
void dense_ffn_backward(const LayerContext& c, PassWork& p, double width);
// What it keeps for the backward: fc1's outputs (2 bytes each) and fc2's
// input (2 bytes, or its quantised copy).
double dense_ffn_activation_bytes(const LayerContext& c, double width);

}  // namespace danlu
