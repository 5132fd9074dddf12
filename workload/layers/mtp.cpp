// Multi-token prediction (DeepSeek-V3): after the output head, each module
// norms the hidden state and the next token's embedding, projects their
// concatenation (2h to h), runs one more layer of the stack's last type and
// the shared head again; its backward runs first.
#include "workload/block.hpp"
#include "workload/ends.hpp"

namespace danlu {

PassWork lower_tail(const LayerContext& c, const ParamCounts& pc) {
  PassWork p;
  lower_loss(c, p);
  const Linear projection{"mtp projection", "mtp projection dgrad", "mtp projection wgrad", c.tokens, c.h / c.tp,
                          2 * c.h};
  for (int i = 0; i < c.m.mtp_layers; ++i) {
    const int last = c.m.stack.index.back();
    const LayerType& type = c.m.stack.types[static_cast<size_t>(last)];
    PassWork mtp;
    mtp.forward.push_back(memory_op("mtp norms", c.outside(8.0), 2));
    c.linear_forward(mtp.forward, projection);
    PassWork layer_work = lower_layer(c, type, pc.types[static_cast<size_t>(last)]);
    mtp.forward.insert(mtp.forward.end(), layer_work.forward.begin(), layer_work.forward.end());
    lower_loss(c, mtp);
    std::vector<WorkItem> back = mtp.backward;
    back.insert(back.end(), layer_work.backward.begin(), layer_work.backward.end());
    PassWork proj;
    c.linear_backward(proj, projection);
    back.insert(back.end(), proj.backward.begin(), proj.backward.end());
    p.forward.insert(p.forward.end(), mtp.forward.begin(), mtp.forward.end());
    p.backward.insert(p.backward.begin(), back.begin(), back.end());
    p.weight_grad.insert(p.weight_grad.end(), layer_work.weight_grad.begin(), layer_work.weight_grad.end());
    p.weight_grad.insert(p.weight_grad.end(), mtp.weight_grad.begin(), mtp.weight_grad.end());
    p.weight_grad.insert(p.weight_grad.end(), proj.weight_grad.begin(), proj.weight_grad.end());
  }
  return p;
}

}  // namespace danlu
