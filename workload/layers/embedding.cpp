// The input embedding: a lookup of each token's row, vocabulary-parallel
// over TP (each rank holds a slice of the rows, and the partial results are
// reduced).
#include "workload/ends.hpp"

namespace danlu {

PassWork lower_embedding(const LayerContext& c) {
  PassWork p;
  p.forward.push_back(memory_op("embedding", c.act() * 2 / c.rep));
  if (c.tp_on())
    p.forward.push_back(comm(c.sp ? "tp reduce-scatter" : "tp all-reduce", CommKind::tp,
                             c.sp ? Collective::reduce_scatter : Collective::all_reduce, c.act(), c.t.par.tp,
                             c.t.overlap.tp_comm));
  p.backward.push_back(memory_op("embedding backward", c.act() * 2 / c.rep));
  return p;
}

double embedding_activation_bytes(const LayerContext& c) { return c.m.dropout ? c.tokens * c.h / c.rep : 0.0; }

}  // namespace danlu
