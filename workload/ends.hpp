// The model outside its stack of layers: the input embedding (first
// pipeline stage), the output head with the loss (last stage), and the
// multi-token-prediction modules after it (DeepSeek-V3). Their parameters
// are counted in count_params (embedding, output, final_norm, mtp).
#pragma once

#include "workload/context.hpp"

namespace danlu {

// Vocabulary-parallel embedding: a lookup, then a reduction over TP.
PassWork lower_embedding(const LayerContext& c);
// Bytes the embedding keeps per microbatch: its dropout mask, when used.
double embedding_activation_bytes(const LayerContext& c);

// Final norm, the output layer (bf16 in every recipe) and the loss over
// fp32 logits, into `p` (its backward goes first).
void lower_loss(const LayerContext& c, PassWork& p);
// Bytes kept per microbatch: the fp32 logits and the final norm's input.
double loss_activation_bytes(const LayerContext& c);

// The output head, then each MTP module.
PassWork lower_tail(const LayerContext& c, const ParamCounts& pc);

}  // namespace danlu
