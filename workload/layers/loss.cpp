// The output head: the final norm, the output layer (vocabulary-parallel
// over TP, in bf16 in every recipe) and the cross-entropy loss over fp32
// logits.
#include "workload/ends.hpp"

namespace danlu {

void lower_loss(const LayerContext& c, PassWork& q) {
  const Linear out{"logits", "logits dgrad", "logits wgrad", c.tokens, static_cast<double>(c.m.vocab) / c.tp, c.h,
                   1,        false};
  const double logits = 4.0 * c.tokens * static_cast<double>(c.m.vocab) / c.tp;
  q.forward.push_back(memory_op("final norm", c.outside(4.0)));
  c.tp_enter(q.forward, false);
  c.linear_forward(q.forward, out);
  q.forward.push_back(memory_op("loss", 3.0 * logits, 3));
  std::vector<WorkItem> back;
  back.push_back(memory_op("loss backward", 2.0 * logits));
  PassWork lin;
  c.linear_backward(lin, out);
  back.insert(back.end(), lin.backward.begin(), lin.backward.end());
  q.weight_grad.insert(q.weight_grad.end(), lin.weight_grad.begin(), lin.weight_grad.end());
  c.tp_enter(back, true);
  back.push_back(memory_op("final norm backward", c.outside(6.0)));
  q.backward.insert(q.backward.begin(), back.begin(), back.end());
}

double loss_activation_bytes(const LayerContext& c) {
  return 4.0 * c.tokens * static_cast<double>(c.m.vocab) / c.t.par.tp + 2.0 * c.tokens * c.h / c.rep;
}

}  // namespace danlu
