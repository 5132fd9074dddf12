// The dense MLP: fc1 (gate and up with SwiGLU, up alone with GeLU), the
// activation, fc2; split over tensor parallelism by its width.
#include <memory>

#include "workload/layer.hpp"
#include "workload/layers/ffn.hpp"

namespace danlu {

namespace {

Linear fc1(const LayerContext& c, double width) {
  return {"mlp fc1", "mlp fc1 dgrad", "mlp fc1 wgrad", c.tokens, ffn_input_matrices(c.m) * width / c.tp, c.h, 1};
}
Linear fc2(const LayerContext& c, double width) {
  return {"mlp fc2", "mlp fc2 dgrad", "mlp fc2 wgrad", c.tokens, c.h, width / c.tp, 1};
}

}  // namespace

void dense_ffn_forward(const LayerContext& c, std::vector<WorkItem>& w, double width) {
  c.linear_forward(w, fc1(c, width));
  w.push_back(memory_op("activation", c.activation_fn_bytes(c.tokens, width / c.tp)));
  c.linear_forward(w, fc2(c, width));
}

void dense_ffn_backward(const LayerContext& c, PassWork& p, double width) {
  c.linear_backward(p, fc2(c, width));
  p.backward.push_back(memory_op("activation backward", 2.0 * c.activation_fn_bytes(c.tokens, width / c.tp)));
  c.linear_backward(p, fc1(c, width));
}

double dense_ffn_activation_bytes(const LayerContext& c, double width) {
  const double fc1_out = 2.0 * ffn_input_matrices(c.m);
  return (fc1_out + saved_gemm_input_bytes(c.t)) * c.tokens * width / c.tp;
}

namespace {

class Mlp final : public LayerKind {
 public:
  std::string_view name() const override { return "mlp"; }

  PartParams params(const ModelSpec& m) const override {
    const double all = ffn_matrices(m) * static_cast<double>(m.hidden) * static_cast<double>(m.ffn_hidden);
    return {all, all, 0, 0};
  }
  GpuParams params_per_gpu(const ModelSpec&, const Parallelism& p, const PartParams& whole) const override {
    return {whole.total / p.tp, 0};
  }
  // A recomputed MLP keeps only its input (the layer's norm output).
  double activation_bytes(const LayerContext& c, const LayerPart&) const override {
    return c.again(RecomputeModule::mlp) ? 0.0 : dense_ffn_activation_bytes(c, static_cast<double>(c.m.ffn_hidden));
  }
  void forward(const LayerContext& c, const LayerPart&, std::vector<WorkItem>& w, bool) const override {
    c.tp_enter(w, false);
    dense_ffn_forward(c, w, static_cast<double>(c.m.ffn_hidden));
    c.tp_exit(w, false);
  }
  void backward(const LayerContext& c, const LayerPart&, PassWork& p) const override {
    std::vector<WorkItem>& w = p.backward;
    if (c.again(RecomputeModule::mlp)) {
      c.tp_enter(w, false);
      dense_ffn_forward(c, w, static_cast<double>(c.m.ffn_hidden));
    }
    c.tp_exit(w, true);
    dense_ffn_backward(c, p, static_cast<double>(c.m.ffn_hidden));
    c.tp_enter(w, true);
  }
};

}  // namespace

std::unique_ptr<LayerKind> make_mlp_layer() { return std::make_unique<Mlp>(); }

}  // namespace danlu
