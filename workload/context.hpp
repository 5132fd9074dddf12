// What every layer kind lowers through: the work items of a pass, and the
// quantities of one scenario that each kind's parameters, memory and ops
// read (per GPU, after the TP, CP and EP split), with the helpers that build
// GEMMs, memory-bound kernels and tensor-parallel traffic the same way for
// every kind.
#pragma once

#include <vector>

#include "models/kernels.hpp"
#include "models/training.hpp"
#include "topologies/collective.hpp"
#include "workload/model.hpp"

namespace danlu {

struct WorkItem {
  bool is_comm = false;
  ComputeOp compute;
  CommOp comm;
};

// The items of one pass over some work, in order.
struct PassWork {
  std::vector<WorkItem> forward, backward, weight_grad;
  const std::vector<WorkItem>& work(Pass p) const {
    return p == Pass::F ? forward : p == Pass::B ? backward : weight_grad;
  }
  void append(const PassWork& o);
};

inline constexpr double kActBytes = 2.0;  // activations travel and rest in bf16

// Bytes per element of a saved GEMM input: 2, or the quantised copy's size
// (with its block scales) in an fp8/fp4 recipe.
double saved_gemm_input_bytes(const TrainingSpec& t);

// One linear layer Y[m x n] = X[m x k] W[k x n], `count` of them (experts),
// and its backward: dX = dY W^T (m x k x n) and dW = X^T dY (k x n x m).
struct Linear {
  const char* fwd;
  const char* dgrad;
  const char* wgrad;
  double m, n, k, count = 1;
  bool low_precision = true;   // in the recipe's fp8/fp4 (the output layer and router are not)
  bool grouped = false;        // the experts' grouped GEMM
  bool up_projection = false;  // MLA's, from a latent (recompute_modules: mla_up_proj)
};

WorkItem memory_op(const char* name, double bytes, int kernels = 1);
WorkItem host_copy(const char* name, double bytes);
WorkItem comm(const char* name, CommKind kind, Collective op, double bytes, int group, bool overlappable);

// Everything about one scenario that a layer of one recomputation choice
// needs, for its memory and its ops.
struct LayerContext {
  const ModelSpec& m;
  const TrainingSpec& t;
  const double tp, cp, ep;
  const double seq;     // full sequence
  const double tokens;  // local tokens of one microbatch on one CP rank
  const double h;
  const bool sp;
  const double rep;  // divisor of tensors outside the TP region
  const bool zb;
  const bool lowp;  // the training precision is below 16 bits
  const QuantizeCost quant;
  const Recompute recompute;  // what the layers built here recompute
  const bool offload;         // their saved activations go to host memory and back

  LayerContext(const ModelSpec& model, const TrainingSpec& training, Recompute rc, bool off = false);

  double act() const { return tokens * h * kActBytes; }  // one full activation tensor
  // Whether this layer's backward repeats module `mod` (selective recompute).
  bool again(RecomputeModule mod) const { return recomputes(t, recompute, mod); }
  bool tp_on() const { return tp > 1; }
  int dp_group() const { return t.par.dp * t.par.cp; }
  // Bytes of the memory-bound work per token outside the TP region (norms,
  // residual adds; dropout masks when used), per GPU.
  double outside(double per_h) const { return tokens * per_h * h / rep; }
  // Gate x up (SwiGLU: read 2 f, write f) or the GeLU (read f, write f), on
  // `width` of FFN per token on this GPU.
  double activation_fn_bytes(double rows, double width) const {
    return rows * width * kActBytes * (m.activation == Activation::swiglu ? 3.0 : 2.0);
  }

  // TP traffic around a tensor-parallel region: with sequence parallelism an
  // all-gather in and a reduce-scatter out (mirrored in the backward); without,
  // an all-reduce out in the forward and in on the backward.
  void tp_enter(std::vector<WorkItem>& w, bool backward) const;
  void tp_exit(std::vector<WorkItem>& w, bool backward) const;

  // A GEMM op; a low-precision one also quantises the tensor it reads
  // (`quantised` elements) for this product and the weight gradient's.
  WorkItem gemm(const char* name, double gm, double gn, double gk, double count, bool low, double quantised) const;
  void linear_forward(std::vector<WorkItem>& w, const Linear& l) const;
  // The input gradient stays on the critical path; the weight gradient goes
  // to the W pass under zero-bubble.
  void linear_backward(PassWork& p, const Linear& l) const;
};

}  // namespace danlu
