// Mamba-1 (Gu and Dao 2023, "Mamba: Linear-Time Sequence Modeling with
// Selective State Spaces"), as Jamba runs it: in_proj gives x and the gate z;
// a causal conv1d over x; x_proj gives the step size's rank-R input and B and
// C; dt_proj widens the step size to one per channel; the selective scan;
// y * silu(z) (fused into the scan kernel); out_proj. Tensor parallelism
// splits the channels, as for Mamba-2; x_proj's outputs (R + 2N a token) are
// then partial sums whose all-reduce (under 4% of the layer's own) is left
// out. Jamba's norms on dt, B and C (R + 2N weights) are left out too.
#include <memory>

#include "workload/layers/scan.hpp"

namespace danlu {

namespace {

// The selective scan's arithmetic per channel and state (the paper's
// section 3.3 counts 9 per element: the discretisation exp(dt A) and dt B x,
// the state update, and C h).
constexpr double kScanFlopsPerState = 9.0;
// mamba_ssm's selective_scan_cuda keeps states in registers and writes one
// per channel every 2048 tokens (its kChunkSize), for the backward.
constexpr double kScanStateEvery = 2048;

double x_proj_width(const Mamba1Spec& s) { return s.dt_rank + 2.0 * s.state_size; }

class Mamba1 final : public ScanKind {
 public:
  std::string_view name() const override { return "mamba1"; }

  PartParams params(const ModelSpec& m) const override {
    const Mamba1Spec& s = *m.mamba1;
    const double h = static_cast<double>(m.hidden), d = s.inner;
    const double conv = d * (s.conv_kernel + 1.0);        // weights and bias
    const double per_channel = d * s.state_size + d + d;  // A, D and dt_proj's bias
    const double gemms = h * 2.0 * d + d * x_proj_width(s) + s.dt_rank * d + d * h;
    const double all = gemms + conv + per_channel;
    return {all, all, 0, 0, conv + per_channel};
  }
  GpuParams params_per_gpu(const ModelSpec&, const Parallelism& p, const PartParams& whole) const override {
    return {whole.total / p.tp, 0};
  }

  // Per token: the scan over every channel's state, and the conv1d.
  double core_flops(const ModelSpec& m, const LayerPart&, double tokens) const override {
    const Mamba1Spec& s = *m.mamba1;
    return tokens * (kScanFlopsPerState * s.inner * s.state_size + 2.0 * s.conv_kernel * s.inner);
  }

  // What selective_scan_cuda and the projections keep for the backward, per
  // GPU: in_proj's outputs x and z, the conv's output, x_proj's output, the
  // step sizes and the scan's output; the GEMMs' saved inputs; the states
  // are recomputed.
  double activation_bytes(const LayerContext& c, const LayerPart&) const override {
    const Mamba1Spec& s = *c.m.mamba1;
    const double per_token = kActBytes * (2.0 * s.inner + s.inner + x_proj_width(s) + s.inner + s.inner) +
                             saved_gemm_input_bytes(c.t) * s.inner;
    return c.tokens * per_token / c.tp;
  }

 protected:
  ScanShape shape(const ModelSpec& m) const override {
    const Mamba1Spec& s = *m.mamba1;
    const double d = s.inner;
    ScanShape out;
    out.chunk = kScanStateEvery;
    out.head_dim = 1;  // each channel its own recurrence
    out.heads = d;
    out.state = s.state_size;
    out.conv_width = d;
    // Reads x, the step sizes, z, B and C; writes y.
    out.io_width = 4.0 * d + 2.0 * s.state_size;
    out.norm_width = 0;  // the gate is fused into the scan
    out.vector_units = true;
    return out;
  }
  std::vector<Linear> inputs(const LayerContext& c) const override {
    const Mamba1Spec& s = *c.m.mamba1;
    const double d = s.inner / c.tp;
    return {
        {"mamba in projection", "mamba in projection dgrad", "mamba in projection wgrad", c.tokens, 2.0 * d, c.h},
        {"mamba x projection", "mamba x projection dgrad", "mamba x projection wgrad", c.tokens, x_proj_width(s), d},
        {"mamba dt projection", "mamba dt projection dgrad", "mamba dt projection wgrad", c.tokens, d,
         static_cast<double>(s.dt_rank)}};
  }
  Linear out_proj(const LayerContext& c) const override {
    return {"mamba out projection",  "mamba out projection dgrad", "mamba out projection wgrad", c.tokens, c.h,
            c.m.mamba1->inner / c.tp};
  }
};

}  // namespace

std::unique_ptr<LayerKind> make_mamba1_layer() { return std::make_unique<Mamba1>(); }

}  // namespace danlu
