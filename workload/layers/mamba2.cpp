// Mamba-2 (Dao and Gu 2024, "Transformers are SSMs", the SSD layer) as
// Megatron-Core's MambaMixer runs it: one input projection gives the gate z,
// x, B, C and dt; a causal conv1d over x, B and C; the chunked scan; a gated
// RMSNorm; the output projection. Tensor parallelism splits heads and B/C
// groups (each GPU runs its heads' scan alone), so the layer is one
// tensor-parallel region like an MLP.
#include <memory>

#include "workload/layers/scan.hpp"

namespace danlu {

namespace {

// Width of the input projection's output: z and x (inner each), B and C
// (groups x state each), dt (one per head).
double in_proj_width(const MambaSpec& s) { return 2.0 * s.inner() + 2.0 * s.groups * s.state_size + s.heads; }

class Mamba2 final : public ScanKind {
 public:
  std::string_view name() const override { return "mamba2"; }

  PartParams params(const ModelSpec& m) const override {
    const MambaSpec& s = *m.mamba;
    const double h = static_cast<double>(m.hidden);
    const double conv = s.conv_width() * (s.conv_kernel + 1.0);  // weights and bias
    const double per_head = 3.0 * s.heads;                       // A, D and dt's bias
    const double all = h * in_proj_width(s) + conv + per_head + s.inner() * h;
    // The gated RMSNorm's weight sits inside the part.
    return {all, all, 0, s.inner(), conv + per_head};
  }
  GpuParams params_per_gpu(const ModelSpec&, const Parallelism& p, const PartParams& whole) const override {
    return {whole.total / p.tp, 0};
  }

  // The SSD algorithm (Dao and Gu 2024, section 6), per token, in
  // multiply-adds: within its chunk of Q tokens, C B^T per group (Q x N)
  // and the masked scores times x per head (Q x P); across chunks, each
  // chunk's state B^T x and the output's C h, per head (N x P each). The
  // chunk products are dense: the causal mask is applied, not skipped.
  // The conv1d adds conv_kernel per channel.
  double core_flops(const ModelSpec& m, const LayerPart&, double tokens) const override {
    const MambaSpec& s = *m.mamba;
    const double q = s.chunk, n = s.state_size, p = s.head_dim;
    const double scan = s.groups * q * n + s.heads * (q * p + 2.0 * n * p);
    return 2.0 * tokens * (scan + s.conv_kernel * s.conv_width());
  }

  // The projection's outputs (z, x, B, C, dt), the conv's outputs, the
  // scan's output y and the output projection's input (the gated norm's
  // output), per GPU; the scan recomputes its chunk states in the backward.
  double activation_bytes(const LayerContext& c, const LayerPart&) const override {
    const MambaSpec& s = *c.m.mamba;
    const double per_token =
        kActBytes * (in_proj_width(s) + s.conv_width() + s.inner()) + saved_gemm_input_bytes(c.t) * s.inner();
    return c.tokens * per_token / c.tp;
  }

 protected:
  ScanShape shape(const ModelSpec& m) const override {
    const MambaSpec& s = *m.mamba;
    return {static_cast<double>(s.chunk),
            static_cast<double>(s.head_dim),
            static_cast<double>(s.heads),
            static_cast<double>(s.head_dim) * s.state_size,
            s.conv_width(),
            s.conv_width() + s.heads + s.inner(),
            s.inner()};
  }
  std::vector<Linear> inputs(const LayerContext& c) const override { return {in_proj(c)}; }
  Linear out_proj(const LayerContext& c) const override {
    return {"mamba out projection",   "mamba out projection dgrad", "mamba out projection wgrad", c.tokens, c.h,
            c.m.mamba->inner() / c.tp};
  }

 private:
  static Linear in_proj(const LayerContext& c) {
    return {"mamba in projection",
            "mamba in projection dgrad",
            "mamba in projection wgrad",
            c.tokens,
            in_proj_width(*c.m.mamba) / c.tp,
            c.h};
  }
};

}  // namespace

std::unique_ptr<LayerKind> make_mamba2_layer() { return std::make_unique<Mamba2>(); }

}  // namespace danlu
