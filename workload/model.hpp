// The model a scenario trains: its shape, and the stack of layers it is made
// of. A layer is one or two parts, each of a registered layer kind
// (workload/layer.hpp): a token mixer (attention, MLA, ...) and a
// feed-forward part (MLP, MoE), each behind its own pre-norm and residual.
// Parameter counts, FLOPs, memory and the step's ops are read from the kinds.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace danlu {

class LayerKind;

// SwiGLU gates its FFN (three matrices); GeLU and squared ReLU (Nemotron-H)
// do not (two).
enum class Activation { swiglu, gelu, relu2 };
std::string_view to_string(Activation a);

struct MoeSpec {
  int experts = 0;
  int top_k = 0;
  int shared_experts = 0;
  std::int64_t expert_ffn_hidden = 0;
  int dense_layers = 0;          // the first N layers use the dense FFN
  double capacity_factor = 1.0;  // expert buffers relative to perfectly even routing
  // Token dropping: each expert takes at most capacity_factor x its even
  // share and its input is padded to that, so every shape is known before
  // the step (Megatron's moe_expert_capacity_factor with
  // moe_pad_expert_input_to_capacity). Dropless routing (false) sizes the
  // expert GEMMs from the token counts, which the host must first read.
  bool token_drop = false;
  // Dropless routing: the busiest GPU's routed tokens over an even share (1
  // when the load is forced to balance, as in the published benchmark runs).
  // The step waits for that GPU's expert GEMMs and all-to-all. Token
  // dropping caps it at the capacity.
  double load_imbalance = 1.0;
  // Group-limited routing (DeepSeek-V3: 8 groups, top 4): the experts are
  // split into router_groups contiguous groups and a token's top_k experts
  // come from its best router_group_top_k of them. Laid out over expert-
  // parallel ranks in order, a group sits on a contiguous run of GPUs, so a
  // token reaches fewer scale-up domains (the point of the scheme).
  int router_groups = 1;
  int router_group_top_k = 1;
  // LatentMoE (Nemotron 3 Super and Ultra): each token is projected from
  // hidden to this latent width before dispatch and back after the combine,
  // so the routed experts' weights and the all-to-all are latent-wide; the
  // router and shared experts stay at the full width. 0: plain MoE.
  std::int64_t latent_hidden = 0;

  // The share of the experts a token's top_k can come from.
  double routable_share() const { return static_cast<double>(router_group_top_k) / router_groups; }
  // Routed token copies on the busiest GPU, relative to perfectly even routing.
  double expert_load() const { return token_drop ? capacity_factor : capacity_factor * load_imbalance; }
};

// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): queries and keys/
// values pass through low-rank projections; each head's query and key are a
// no-position part and a rotary part, and its value has its own width.
struct MlaSpec {
  int q_lora_rank = 0;  // 0: queries projected directly from the hidden state
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
};

// Mamba-2 (Dao and Gu 2024, "Transformers are SSMs"): the state-space
// duality (SSD) layer. One input projection gives z (the gate), x, B, C and
// dt; a short causal conv1d runs over x, B and C; the chunked scan mixes
// tokens; a gated RMSNorm and the output projection follow. The inner width
// is heads x head_dim; B and C are shared by the heads of a group.
struct MambaSpec {
  int heads = 0;
  int head_dim = 64;
  int state_size = 128;  // N, the state per head channel
  int groups = 8;        // B/C groups (Megatron's mamba_num_groups)
  int conv_kernel = 4;
  int chunk = 128;  // SSD's chunk length Q
  double inner() const { return static_cast<double>(heads) * head_dim; }
  // x, B and C: what the conv1d runs over.
  double conv_width() const { return inner() + 2.0 * groups * state_size; }
};

// Mamba-1 (Gu and Dao 2023), the selective SSM of Jamba: an input
// projection to x and the gate z, a causal conv1d over x, x_proj to the
// step size's low-rank input and B and C (shared by every channel), dt_proj
// back to one step size per channel, and the selective scan, in which every
// channel keeps its own state of state_size.
struct Mamba1Spec {
  int inner = 0;        // channels (expand x hidden)
  int state_size = 16;  // N, the state per channel
  int conv_kernel = 4;
  int dt_rank = 0;  // the step size's low rank (R)
};

// Gated DeltaNet (Yang, Kautz and Hatamizadeh 2025), the linear attention
// of Qwen3-Next and, with channel-wise gates, Kimi Linear's KDA: q and k per
// key head, v and the output gate per value head, a short conv1d over q, k
// and v, and the delta rule run chunk by chunk (flash-linear-attention).
struct LinearAttentionSpec {
  int heads = 0;      // value heads
  int key_heads = 0;  // query/key heads (each shared by heads / key_heads value heads)
  int key_head_dim = 128;
  int value_head_dim = 128;
  int conv_kernel = 4;
  int chunk = 64;
  // KDA: the decay gate is per channel, from a low-rank projection of this
  // rank (head_dim in Kimi Linear); 0 for gated DeltaNet's scalar gate.
  int gate_rank = 0;
  double key_width() const { return static_cast<double>(key_heads) * key_head_dim; }
  double value_width() const { return static_cast<double>(heads) * value_head_dim; }
};

// DeepSeek Sparse Attention (DeepSeek-V3.2): a lightning indexer scores
// every earlier key with a few small FP8 heads, and the MLA core attends
// to each query's top_k keys only.
struct SparseAttentionSpec {
  int top_k = 2048;
  int indexer_heads = 64;
  int indexer_head_dim = 128;
};

// At most one of each per layer: a mixer and a feed-forward part, in a
// fixed-size list (evaluating a scenario reads them often, and copies none).
inline constexpr size_t kMaxLayerParts = 2;
template <class T>
class PartList {
 public:
  void push_back(const T& v) {
    if (n_ == kMaxLayerParts) throw std::logic_error("a layer has at most two parts");
    items_[n_++] = v;
  }
  size_t size() const { return n_; }
  const T& operator[](size_t i) const { return items_[i]; }
  T& operator[](size_t i) { return items_[i]; }
  T& back() { return items_[n_ - 1]; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + n_; }
  bool operator==(const PartList& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

 private:
  std::array<T, kMaxLayerParts> items_{};
  size_t n_ = 0;
};

// One part of a layer: its kind and, for attention, the keys a query sees.
struct LayerPart {
  const LayerKind* kind = nullptr;
  std::int64_t window = 0;  // sliding-window attention: keys each query sees (0: the whole sequence)
  bool operator==(const LayerPart&) const = default;
};

// A distinct layer of the stack: its parts in order (mixer, then feed-forward).
struct LayerType {
  PartList<LayerPart> parts;
  bool operator==(const LayerType&) const = default;
  // Whether a part holds routed experts (sharded by expert parallelism).
  bool routed() const;
  // Whether its attention sees a sliding window rather than the sequence.
  bool windowed() const;
};

// The layers in order, as indices into the distinct types.
struct LayerStack {
  std::vector<LayerType> types;
  std::vector<int> index;  // [layers]
  std::vector<int> count;  // layers of each type
  const LayerType& of(int layer) const { return types[static_cast<size_t>(index[static_cast<size_t>(layer)])]; }
};

struct ModelSpec {
  std::string preset;  // "" when none
  int layers = 0;
  std::int64_t hidden = 0;
  std::int64_t ffn_hidden = 0;  // dense layers' FFN width
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  std::int64_t vocab = 0;
  std::int64_t seq_len = 0;
  Activation activation = Activation::swiglu;
  bool tied_embeddings = false;
  bool learned_positions = false;
  bool dropout = false;  // GPT-2/3-era training stores dropout masks
  std::optional<MoeSpec> moe;
  std::optional<MlaSpec> mla;                           // absent: grouped-query attention (heads, kv_heads, head_dim)
  std::optional<SparseAttentionSpec> sparse_attention;  // with MLA: DeepSeek-V3.2's DSA
  std::optional<MambaSpec> mamba;
  std::optional<Mamba1Spec> mamba1;
  std::optional<LinearAttentionSpec> linear_attention;
  // A learned logit per head that takes part in the softmax (GPT-OSS).
  bool attention_sinks = false;
  // Multi-token prediction modules (DeepSeek-V3): each adds a projection, one
  // more layer of the stack's last type and another pass through the shared
  // output head, on the last pipeline stage. Left out of the parameter
  // totals, as the published figures leave them out.
  int mtp_layers = 0;
  // Sliding-window attention: layers attend to the last `sliding_window`
  // tokens, except every `global_every`-th layer, which sees the whole
  // sequence (GPT-OSS: 128 and 2; Gemma 3: 1024 and 6). 0 = every layer global.
  std::int64_t sliding_window = 0;
  int global_every = 1;
  // The layers one by one, expanded from the scenario's patterns (each
  // already checked against `layers`); empty: from the fields above.
  // hybrid: one single-part layer per letter, Nemotron-H's M (Mamba-2),
  // * (attention), - (MLP), E (MoE). mixer and ffn: the two parts of each
  // layer, A (attention), W (sliding window), L (linear attention), M
  // (Mamba-2), S (Mamba-1's selective scan); - (MLP), E (MoE).
  std::string hybrid_pattern, mixer_pattern, ffn_pattern;

  // Built from the fields above by build_stack() once they are read.
  LayerStack stack;
};

// Fills m.stack from the model's fields: each layer a mixer (attention, or
// MLA when m.mla is given; windowed per sliding_window and global_every) and
// a feed-forward part (MoE from moe.dense_layers on, else MLP).
void build_stack(ModelSpec& m);

// Weight matrices of one FFN: gate, up and down with SwiGLU; up and down
// with GELU. All but the down projection read the FFN's input (fc1).
double ffn_matrices(const ModelSpec& m);
inline double ffn_input_matrices(const ModelSpec& m) { return ffn_matrices(m) - 1.0; }

// Parameters of one part of a layer, whole model (no split).
struct PartParams {
  double total = 0;   // every weight
  double active = 0;  // touched by one token (MoE: its top_k and shared experts)
  double routed = 0;  // routed experts, sharded by expert parallelism
  double norms = 0;   // norms inside the part (MLA's latent norms), beside the layer's pre-norms
  // Of total: parameters no GEMM multiplies (conv filters, per-head decay
  // scalars, attention sinks). They count as parameters but not as weight
  // FLOPs; any work they do is in the part's core FLOPs.
  double vectors = 0;
};

// One layer type's parameters, whole model: the sums over its parts, the
// pre-norms (one of `hidden` per part) and the norms inside the parts.
struct TypeParams {
  PartList<PartParams> parts;
  double norms = 0;
  double total() const;
  double active() const;
  double routed() const;
};

// Parameter counts, in parameters. Biases are left out (modern LLMs have none;
// for GPT-3 they are <0.01% of the total).
struct ParamCounts {
  std::vector<TypeParams> types;  // one layer of each type of the stack
  double embedding = 0;           // input embedding (+ learned positions)
  double output = 0;              // output projection (0 when tied)
  double final_norm = 0;
  double mtp = 0;  // multi-token prediction modules (not in total or active)

  double total = 0;         // all parameters
  double active = 0;        // touched by one token (top_k + shared experts)
  double expert_total = 0;  // routed experts over all layers (sharded by EP)
};

ParamCounts count_params(const ModelSpec& m);

// Model FLOPs per token by the report convention (Narayanan et al. 2021's
// count): the matrix products of one forward and backward (3x the forward) of
// every layer and of the output layer, full attention, active experts only; no
// recomputation, no MTP modules, and the input embedding (a lookup) counts 0.
// For a dense model this is 6 x non-embedding parameters plus the attention
// term 12 x layers x heads x head_dim x seq_len. The engines' executed count is
// built from the same per-layer figures, so HFU >= MFU holds by construction.
double model_flops_per_token(const ModelSpec& m);

// Forward FLOPs of one layer for `tokens` tokens (sequences of seq_len each),
// before any parallel split, by the report convention. Backward is twice.
struct LayerFlops {
  double weights = 0;  // products with weights: projections, MLP, experts, router
  double core = 0;     // the token mixing without weights (attention's scores and values)
  double total() const { return weights + core; }
};
LayerFlops layer_forward_flops(const ModelSpec& m, int layer, double tokens);
double logits_forward_flops(const ModelSpec& m, double tokens);

}  // namespace danlu
