// A layer of the stack as a whole: its parts (workload/layer.hpp), each
// behind a pre-norm with a residual add after it. What belongs to the layer
// rather than to a kind lives here: the norms and residual adds between its
// parts, full recomputation (which keeps only the layer's input), activation
// offload, and ZeRO-3's gather of its weights.
#pragma once

#include <vector>

#include "workload/layer.hpp"

namespace danlu {

TypeParams type_params(const ModelSpec& m, const LayerType& type);

// The increments one layer of the type adds to a GPU's parameters, in order:
// the first part's with all the layer's norms (replicated), then each other
// part's.
PartList<GpuParams> type_params_per_gpu(const ModelSpec& m, const Parallelism& p, const LayerType& type,
                                        const TypeParams& whole);

// Model FLOPs of one layer of the type over `tokens` tokens.
LayerFlops type_forward_flops(const ModelSpec& m, const LayerType& type, double tokens);

// Bytes one layer of the type keeps for the backward, one microbatch on one
// GPU, under c's recomputation.
double type_activation_bytes(const LayerContext& c, const LayerType& type);

// Weights ZeRO-3 gathers for one layer of the type (whole, before TP), and
// the largest gather buffer it needs.
double type_zero3_gathered(const ModelSpec& m, const LayerType& type, const TypeParams& whole);
double type_zero3_buffer(const ModelSpec& m, const LayerType& type, const TypeParams& whole);

// One layer's forward (`repeat`: full recomputation's copy before the
// backward; ZeRO-3 gathers once) and its forward and backward.
std::vector<WorkItem> lower_layer_forward(const LayerContext& c, const LayerType& type, const TypeParams& whole,
                                          bool repeat);
PassWork lower_layer(const LayerContext& c, const LayerType& type, const TypeParams& whole);

}  // namespace danlu
