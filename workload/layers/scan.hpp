// What the chunked-scan mixers share (Mamba-2; gated DeltaNet and KDA): one
// tensor-parallel region of input projections, a short causal conv1d, the
// chunked scan, a gated RMSNorm and the output projection. A kind says its
// projections and shape; the order of ops and the scan's cost are common.
#pragma once

#include <vector>

#include "workload/layer.hpp"

namespace danlu {

// The chunked scan's shape, whole (before the TP split of its heads).
struct ScanShape {
  double chunk = 0;       // tokens per chunk
  double head_dim = 0;    // the inner width of its products (k of the kernel)
  double heads = 0;       // heads, each with its own state
  double state = 0;       // state elements per head (fp32 in HBM between chunks)
  double conv_width = 0;  // channels the conv1d runs over
  double io_width = 0;    // per token, what the scan reads and writes
  double norm_width = 0;  // the scan's output, which the gated norm reads with its gate; 0: no gated norm
  // A recurrence on the vector units (Mamba-1) rather than chunk products
  // on the matrix units (SSD, flash-linear-attention).
  bool vector_units = false;
};

class ScanKind : public LayerKind {
 public:
  void forward(const LayerContext& c, const LayerPart& part, std::vector<WorkItem>& w, bool repeat) const override;
  void backward(const LayerContext& c, const LayerPart& part, PassWork& p) const override;

 protected:
  virtual ScanShape shape(const ModelSpec& m) const = 0;
  virtual std::vector<Linear> inputs(const LayerContext& c) const = 0;
  virtual Linear out_proj(const LayerContext& c) const = 0;

 private:
  WorkItem scan(const LayerContext& c, const LayerPart& part, bool forward) const;
};

}  // namespace danlu
