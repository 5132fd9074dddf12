#include "workload/hf_config.hpp"

#include <cmath>
#include <cstdint>
#include <optional>
#include <tuple>

#include <fmt/format.h>

namespace danlu {

namespace {

// The families danlu tells apart; each lists the architectures it reads.
enum class Family { dense, mixtral, qwen_moe, deepseek, gpt_oss, gemma, nemotron_h, qwen3_next, jamba, kimi_linear };

struct Arch {
  const char* name;
  Family family;
};

constexpr Arch kArchs[] = {
    {"LlamaForCausalLM", Family::dense},          {"MistralForCausalLM", Family::dense},
    {"Qwen2ForCausalLM", Family::dense},          {"Qwen3ForCausalLM", Family::dense},
    {"MixtralForCausalLM", Family::mixtral},      {"Qwen2MoeForCausalLM", Family::qwen_moe},
    {"Qwen3MoeForCausalLM", Family::qwen_moe},    {"DeepseekV2ForCausalLM", Family::deepseek},
    {"DeepseekV3ForCausalLM", Family::deepseek},  {"DeepseekV32ForCausalLM", Family::deepseek},
    {"NemotronHForCausalLM", Family::nemotron_h}, {"Qwen3NextForCausalLM", Family::qwen3_next},
    {"GptOssForCausalLM", Family::gpt_oss},       {"Gemma2ForCausalLM", Family::gemma},
    {"Gemma3ForCausalLM", Family::gemma},         {"Gemma3ForConditionalGeneration", Family::gemma},
    {"JambaForCausalLM", Family::jamba},          {"KimiLinearForCausalLM", Family::kimi_linear},
};

// Architectures known and not yet modelled, with what is missing.
struct Refusal {
  const char* name;
  const char* missing;
};
constexpr Refusal kRefused[] = {
    {"DeepseekV4ForCausalLM", "DeepSeek-V4's hyper-connections and compressed attention are not modelled"},
    {"FalconH1ForCausalLM", "Falcon-H1's parallel attention and Mamba-2 in one layer are not modelled"},
};

// Reads keys of one config mapping into the `model:` mapping being built.
class Reader {
 public:
  Reader(const Node& config, std::string arch) : config_(config), arch_(std::move(arch)) {}

  const Node* find(const char* key) const {
    const Node* n = config_.find(key);
    return n && !n->is_null() ? n : nullptr;
  }
  const Node& need(const char* key) const {
    const Node* n = find(key);
    if (!n) throw InputError(config_.loc, key, fmt::format("required by {}, missing", arch_));
    return *n;
  }
  // A whole number (JSON may write 8.0); throws at the key's place otherwise.
  std::int64_t integer(const Node& n, const char* key) const {
    double v = 0;
    if (!n.is_scalar() || !parse(n.scalar, v) || v != std::floor(v) || v < 0 || v > 2147483647.0)
      throw InputError(n.loc, key, fmt::format("expected a whole number, found {}", n.describe()));
    return static_cast<std::int64_t>(v);
  }
  std::int64_t integer(const char* key) const { return integer(need(key), key); }
  std::optional<std::int64_t> maybe(const char* key) const {
    const Node* n = find(key);
    if (!n) return std::nullopt;
    return integer(*n, key);
  }
  bool boolean(const char* key, bool def) const {
    const Node* n = find(key);
    if (!n) return def;
    if (n->is_scalar() && (n->scalar == "true" || n->scalar == "false")) return n->scalar == "true";
    throw InputError(n->loc, key, fmt::format("expected true or false, found {}", n->describe()));
  }

  // Copies config key `from` as model field `to` (keeping its place).
  void copy(Node& out, const char* to, const char* from) const {
    const Node& n = need(from);
    out.set(to, scalar_at(std::to_string(integer(n, from)), n.loc), n.loc);
  }
  static Node scalar_at(std::string text, const Location& loc) {
    Node n;
    n.kind = Node::Kind::Scalar;
    n.scalar = std::move(text);
    n.loc = loc;
    return n;
  }
  Location loc_of(const char* key) const {
    const Node* n = find(key);
    return n ? n->loc : config_.loc;
  }

 private:
  static bool parse(const std::string& text, double& v) {
    try {
      size_t used = 0;
      v = std::stod(text, &used);
      return used == text.size() && std::isfinite(v);
    } catch (const std::exception&) {
      return false;
    }
  }
  const Node& config_;
  std::string arch_;
};

// Which layers attend in a window, from `layer_types` ("sliding_attention",
// "full_attention"): danlu takes every k-th layer (k = global_every) as the
// global one, so the list must follow that period.
std::optional<std::int64_t> global_period(const Node& types) {
  if (!types.is_seq() || types.items.empty()) return std::nullopt;
  const size_t n = types.items.size();
  size_t first_full = n;
  for (size_t i = 0; i < n; ++i)
    if (types.items[i].scalar == "full_attention") {
      first_full = i;
      break;
    }
  if (first_full == n) return std::nullopt;  // no global layer at all
  const size_t k = first_full + 1;
  for (size_t i = 0; i < n; ++i) {
    const bool full = types.items[i].scalar == "full_attention";
    if (full != ((i + 1) % k == 0))
      throw InputError(
          types.items[i].loc, "layer_types",
          fmt::format("expected a global layer every {} layers (as layer {} is), found \"{}\" at layer {}; "
                      "danlu models a periodic pattern only",
                      k, first_full, types.items[i].scalar, i));
  }
  return static_cast<std::int64_t>(k);
}

// DeepSeek's multi-head latent attention (also Kimi Linear's full-attention
// layers), into `m`.
void read_mla(const Reader& r, Node& m) {
  Node mla;
  mla.kind = Node::Kind::Map;
  for (const char* key : {"q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"}) {
    // q_lora_rank null: queries projected in full (DeepSeek-V2-Lite, Kimi Linear).
    const std::int64_t v = std::string(key) == "q_lora_rank" ? r.maybe(key).value_or(0) : r.integer(key);
    mla.set(key, Reader::scalar_at(std::to_string(v), r.loc_of(key)), r.loc_of(key));
  }
  m.set("mla", mla, r.loc_of("kv_lora_rank"));
}

// The experts of an MoE config (and DeepSeek's latent attention and
// multi-token prediction), into `m`.
void read_moe(const Reader& r, Family family, Node& m) {
  Node moe;
  moe.kind = Node::Kind::Map;
  auto put = [&](const char* field, std::int64_t value, const char* key) {
    moe.set(field, Reader::scalar_at(std::to_string(value), r.loc_of(key)), r.loc_of(key));
  };
  // A shared expert given as one wide FFN (`key`): as shared experts of the
  // routed width, which cost the same.
  auto shared_as_experts = [&](const char* key, std::int64_t width) {
    const std::int64_t shared = r.maybe(key).value_or(0);
    if (shared % width != 0)
      throw InputError(r.loc_of(key), key,
                       fmt::format("expected a multiple of moe_intermediate_size ({}), found {}", width, shared));
    put("shared_experts", shared / width, key);
  };
  switch (family) {
    case Family::dense:
    case Family::gemma: break;
    case Family::mixtral:
    case Family::gpt_oss:
      put("experts", r.integer("num_local_experts"), "num_local_experts");
      put("top_k", r.integer("num_experts_per_tok"), "num_experts_per_tok");
      put("shared_experts", 0, "num_local_experts");
      put("expert_ffn_hidden", r.integer("intermediate_size"), "intermediate_size");
      put("dense_layers", 0, "num_local_experts");
      break;
    case Family::kimi_linear:
      put("experts", r.integer("num_experts"), "num_experts");
      put("top_k", r.integer("num_experts_per_token"), "num_experts_per_token");
      put("shared_experts", r.maybe("num_shared_experts").value_or(0), "num_shared_experts");
      put("expert_ffn_hidden", r.integer("moe_intermediate_size"), "moe_intermediate_size");
      put("dense_layers", r.maybe("first_k_dense_replace").value_or(0), "first_k_dense_replace");
      read_mla(r, m);
      break;
    case Family::jamba:
      // Which layers are MoE is the ffn_pattern's (read_hybrid).
      put("experts", r.integer("num_experts"), "num_experts");
      put("top_k", r.integer("num_experts_per_tok"), "num_experts_per_tok");
      put("shared_experts", 0, "num_experts");
      put("expert_ffn_hidden", r.integer("intermediate_size"), "intermediate_size");
      break;
    case Family::nemotron_h: {
      if (!r.find("n_routed_experts")) break;  // a dense Nemotron-H
      const std::int64_t width = r.integer("moe_intermediate_size");
      put("experts", r.integer("n_routed_experts"), "n_routed_experts");
      put("top_k", r.integer("num_experts_per_tok"), "num_experts_per_tok");
      shared_as_experts("moe_shared_expert_intermediate_size", width);
      put("expert_ffn_hidden", width, "moe_intermediate_size");
      put("dense_layers", 0, "n_routed_experts");
      break;
    }
    case Family::qwen3_next:
    case Family::qwen_moe: {
      const std::int64_t width = r.integer("moe_intermediate_size");
      put("experts", r.integer("num_experts"), "num_experts");
      put("top_k", r.integer("num_experts_per_tok"), "num_experts_per_tok");
      shared_as_experts("shared_expert_intermediate_size", width);
      put("expert_ffn_hidden", width, "moe_intermediate_size");
      if (r.maybe("decoder_sparse_step").value_or(1) != 1)
        throw InputError(r.loc_of("decoder_sparse_step"), "decoder_sparse_step",
                         "MoE in every k-th layer is not modelled; expected 1");
      std::int64_t dense = 0;
      if (const Node* only = r.find("mlp_only_layers"); only && only->is_seq()) {
        for (size_t i = 0; i < only->items.size(); ++i)
          if (r.integer(only->items[i], "mlp_only_layers") != static_cast<std::int64_t>(i))
            throw InputError(only->items[i].loc, "mlp_only_layers",
                             "dense layers must come first (0, 1, 2, ...) for danlu to model them");
        dense = static_cast<std::int64_t>(only->items.size());
      }
      put("dense_layers", dense, "mlp_only_layers");
      break;
    }
    case Family::deepseek: {
      put("experts", r.integer("n_routed_experts"), "n_routed_experts");
      put("top_k", r.integer("num_experts_per_tok"), "num_experts_per_tok");
      put("shared_experts", r.maybe("n_shared_experts").value_or(0), "n_shared_experts");
      put("expert_ffn_hidden", r.integer("moe_intermediate_size"), "moe_intermediate_size");
      put("dense_layers", r.maybe("first_k_dense_replace").value_or(0), "first_k_dense_replace");
      if (r.maybe("moe_layer_freq").value_or(1) != 1)
        throw InputError(r.loc_of("moe_layer_freq"), "moe_layer_freq",
                         "MoE in every k-th layer is not modelled; expected 1");
      read_mla(r, m);
      if (r.find("index_topk")) {
        Node dsa;
        dsa.kind = Node::Kind::Map;
        for (auto [field, key] : {std::pair{"top_k", "index_topk"}, std::pair{"indexer_heads", "index_n_heads"},
                                  std::pair{"indexer_head_dim", "index_head_dim"}})
          dsa.set(field, Reader::scalar_at(std::to_string(r.integer(key)), r.loc_of(key)), r.loc_of(key));
        m.set("sparse_attention", dsa, r.loc_of("index_topk"));
      }
      if (const auto mtp = r.maybe("num_nextn_predict_layers"); mtp && *mtp > 0)
        m.set("mtp_layers", Reader::scalar_at(std::to_string(*mtp), r.loc_of("num_nextn_predict_layers")),
              r.loc_of("num_nextn_predict_layers"));
      break;
    }
  }
  if (!moe.map.empty()) m.set("moe", moe, moe.map.front().second.loc);
}

// Jamba's periodic placement: in every `period_key` layers, the one at
// `offset_key` is `one`, the others `rest`; as a pattern "(...)*N".
std::string periodic_pattern(const Reader& r, const char* period_key, const char* offset_key, char rest, char one) {
  const std::int64_t layers = r.integer("num_hidden_layers");
  const std::int64_t period = r.integer(period_key), offset = r.integer(offset_key);
  if (period < 1 || layers % period != 0)
    throw InputError(r.loc_of(period_key), period_key,
                     fmt::format("expected a divisor of num_hidden_layers ({}), found {}", layers, period));
  if (offset >= period)
    throw InputError(r.loc_of(offset_key), offset_key,
                     fmt::format("expected below {} ({}), found {}", period_key, period, offset));
  std::string group(static_cast<size_t>(period), rest);
  group[static_cast<size_t>(offset)] = one;
  return fmt::format("({})*{}", group, layers / period);
}

// The layer patterns and shapes of hybrid models: Nemotron-H's Mamba-2
// layers and hybrid_override_pattern; Qwen3-Next's gated DeltaNet layers,
// one full-attention layer in every full_attention_interval; Jamba's Mamba-1
// layers with attention and MoE at fixed periods.
void read_hybrid(const Reader& r, Family family, Node& m, std::vector<std::string>& notes) {
  auto set = [&](Node& into, const char* field, std::int64_t v, const char* key) {
    into.set(field, Reader::scalar_at(std::to_string(v), r.loc_of(key)), r.loc_of(key));
  };
  if (family == Family::kimi_linear) {
    // linear_attn_config: KDA heads and the 1-based full-attention layers.
    const Node& config = r.need("linear_attn_config");
    if (!config.is_map())
      throw InputError(config.loc, "linear_attn_config",
                       fmt::format("expected a mapping, found {}", config.describe()));
    const Reader kda(config, "linear_attn_config");
    const std::int64_t layers = r.integer("num_hidden_layers");
    std::string pattern(static_cast<size_t>(layers), 'L');
    const Node& full = kda.need("full_attn_layers");
    if (!full.is_seq())
      throw InputError(full.loc, "full_attn_layers", fmt::format("expected a list, found {}", full.describe()));
    for (const Node& item : full.items) {
      const std::int64_t l = kda.integer(item, "full_attn_layers");
      if (l < 1 || l > layers)
        throw InputError(item.loc, "full_attn_layers",
                         fmt::format("expected a layer from 1 to num_hidden_layers ({}), found {}", layers, l));
      pattern[static_cast<size_t>(l - 1)] = 'A';
    }
    m.set("mixer_pattern", Reader::scalar_at(pattern, full.loc), full.loc);
    Node la;
    la.kind = Node::Kind::Map;
    const std::int64_t heads = kda.integer("num_heads"), head_dim = kda.integer("head_dim");
    for (auto [field, v] :
         {std::pair{"heads", heads}, std::pair{"key_heads", heads}, std::pair{"key_head_dim", head_dim},
          std::pair{"value_head_dim", head_dim}, std::pair{"gate_rank", head_dim}})
      la.set(field, Reader::scalar_at(std::to_string(v), config.loc), config.loc);
    la.set("conv_kernel",
           Reader::scalar_at(std::to_string(kda.maybe("short_conv_kernel_size").value_or(4)), config.loc), config.loc);
    m.set("linear_attention", la, config.loc);
    return;
  }
  if (family == Family::jamba) {
    for (auto [field, period, offset, rest, one] :
         {std::tuple{"mixer_pattern", "attn_layer_period", "attn_layer_offset", 'S', 'A'},
          std::tuple{"ffn_pattern", "expert_layer_period", "expert_layer_offset", '-', 'E'}})
      m.set(field, Reader::scalar_at(periodic_pattern(r, period, offset, rest, one), r.loc_of(period)),
            r.loc_of(period));
    const std::int64_t hidden = r.integer("hidden_size");
    Node mamba;
    mamba.kind = Node::Kind::Map;
    set(mamba, "inner", r.maybe("mamba_expand").value_or(2) * hidden, "mamba_expand");
    set(mamba, "state_size", r.maybe("mamba_d_state").value_or(16), "mamba_d_state");
    set(mamba, "conv_kernel", r.maybe("mamba_d_conv").value_or(4), "mamba_d_conv");
    // "auto" (or absent): the Mamba paper's ceil(hidden / 16).
    const Node* dt = r.find("mamba_dt_rank");
    const bool given = dt && !(dt->is_scalar() && dt->scalar == "auto");
    set(mamba, "dt_rank", given ? r.integer(*dt, "mamba_dt_rank") : (hidden + 15) / 16, "mamba_dt_rank");
    m.set("mamba1", mamba, r.loc_of("mamba_d_state"));
    return;
  }
  if (family == Family::nemotron_h) {
    const Node& pattern = r.need("hybrid_override_pattern");
    m.set("hybrid_pattern", Reader::scalar_at(pattern.scalar, pattern.loc), pattern.loc);
    m.set("activation", Reader::scalar_at("relu2", r.loc_of("mlp_hidden_act")), r.loc_of("mlp_hidden_act"));
    if (const auto hd = r.maybe("attention_head_dim")) set(m, "head_dim", *hd, "attention_head_dim");
    Node mamba;
    mamba.kind = Node::Kind::Map;
    set(mamba, "heads", r.integer("mamba_num_heads"), "mamba_num_heads");
    set(mamba, "head_dim", r.integer("mamba_head_dim"), "mamba_head_dim");
    set(mamba, "state_size", r.integer("ssm_state_size"), "ssm_state_size");
    set(mamba, "groups", r.integer("n_groups"), "n_groups");
    set(mamba, "conv_kernel", r.maybe("conv_kernel").value_or(4), "conv_kernel");
    set(mamba, "chunk", r.maybe("chunk_size").value_or(128), "chunk_size");
    m.set("mamba", mamba, r.loc_of("mamba_num_heads"));
  } else if (family == Family::qwen3_next) {
    const std::int64_t every = r.maybe("full_attention_interval").value_or(4);
    const std::int64_t layers = r.integer("num_hidden_layers");
    if (every < 1 || layers % every != 0)
      throw InputError(r.loc_of("full_attention_interval"), "full_attention_interval",
                       fmt::format("expected a divisor of num_hidden_layers ({}), found {}", layers, every));
    const std::string group = std::string(static_cast<size_t>(every - 1), 'L') + "A";
    m.set("mixer_pattern",
          Reader::scalar_at(fmt::format("({})*{}", group, layers / every), r.loc_of("full_attention_interval")),
          r.loc_of("full_attention_interval"));
    Node la;
    la.kind = Node::Kind::Map;
    set(la, "heads", r.integer("linear_num_value_heads"), "linear_num_value_heads");
    set(la, "key_heads", r.integer("linear_num_key_heads"), "linear_num_key_heads");
    set(la, "key_head_dim", r.integer("linear_key_head_dim"), "linear_key_head_dim");
    set(la, "value_head_dim", r.integer("linear_value_head_dim"), "linear_value_head_dim");
    set(la, "conv_kernel", r.maybe("linear_conv_kernel_dim").value_or(4), "linear_conv_kernel_dim");
    m.set("linear_attention", la, r.loc_of("linear_num_value_heads"));
    notes.push_back("Qwen3-Next's gated attention (an output gate on the query projection) is left out");
  }
}

}  // namespace

std::vector<std::string> hf_architectures() {
  std::vector<std::string> names;
  for (const Arch& a : kArchs) names.emplace_back(a.name);
  return names;
}

HfModel hf_model(const Node& file) {
  if (!file.is_map())
    throw InputError(file.loc, "", fmt::format("expected a config.json mapping, found {}", file.describe()));
  HfModel out;
  const Node* archs = file.find("architectures");
  if (!archs || !archs->is_seq() || archs->items.empty() || !archs->items[0].is_scalar())
    throw InputError(archs ? archs->loc : file.loc, "architectures",
                     fmt::format("expected a list naming the model class, e.g. [\"LlamaForCausalLM\"]; supported: {}",
                                 fmt::join(hf_architectures(), ", ")));
  out.architecture = archs->items[0].scalar;
  const Arch* arch = nullptr;
  for (const Arch& a : kArchs)
    if (out.architecture == a.name) arch = &a;
  for (const Refusal& no : kRefused)
    if (!arch && out.architecture == no.name)
      throw InputError(archs->items[0].loc, "architectures",
                       fmt::format("\"{}\" is not supported: {}", out.architecture, no.missing));
  if (!arch)
    throw InputError(
        archs->items[0].loc, "architectures",
        fmt::format("\"{}\" is not supported; supported: {}", out.architecture, fmt::join(hf_architectures(), ", ")));
  // Multimodal configs (Gemma 3) keep the language model under text_config.
  const Node* text = file.find("text_config");
  const Node& config = text && text->is_map() ? *text : file;
  const Reader r(config, out.architecture);
  Node& m = out.model;
  m.kind = Node::Kind::Map;
  m.loc = config.loc;

  r.copy(m, "layers", "num_hidden_layers");
  r.copy(m, "hidden", "hidden_size");
  r.copy(m, "heads", "num_attention_heads");
  if (r.find("num_key_value_heads")) r.copy(m, "kv_heads", "num_key_value_heads");
  if (r.find("head_dim")) r.copy(m, "head_dim", "head_dim");
  r.copy(m, "vocab", "vocab_size");

  // The sequence: the context the model was pre-trained at when the config
  // keeps it (rope_scaling's original length), else its whole context.
  const Node* rope = r.find("rope_scaling");
  const Node* original = rope && rope->is_map() ? rope->find("original_max_position_embeddings") : nullptr;
  if (original && !original->is_null()) {
    m.set("seq_len",
          Reader::scalar_at(std::to_string(r.integer(*original, "original_max_position_embeddings")), original->loc),
          original->loc);
  } else {
    r.copy(m, "seq_len", "max_position_embeddings");
    out.notes.push_back(fmt::format(
        "model.seq_len {} is the config's whole context (max_position_embeddings); pre-training usually runs "
        "shorter: set model.seq_len",
        r.integer("max_position_embeddings")));
  }

  // Every supported architecture gates its FFN (gate, up and down); Gemma's
  // GeLU gate costs what SwiGLU's does.
  m.set("activation", Reader::scalar_at("swiglu", r.loc_of("hidden_act")));
  if (arch->family == Family::gemma)
    out.notes.push_back("Gemma's GeGLU FFN is counted as SwiGLU: the same three matrices");
  const bool tied = r.boolean("tie_word_embeddings", arch->family == Family::gemma);
  m.set("tied_embeddings", Reader::scalar_at(tied ? "true" : "false", r.loc_of("tie_word_embeddings")));

  // Dense FFN width: the dense model's, the dense layers' of an MoE model,
  // and for an MoE model without dense layers its expert width (unused).
  const char* dense_ffn =
      arch->family == Family::qwen_moe && !r.find("intermediate_size") ? "moe_intermediate_size" : "intermediate_size";
  r.copy(m, "ffn_hidden", dense_ffn);

  // Sliding windows: a periodic pattern of local and global layers.
  const Node* window = r.find("sliding_window");
  const bool window_on = window && r.boolean("use_sliding_window", true) && r.integer(*window, "sliding_window") > 0;
  if (window_on) {
    std::optional<std::int64_t> period;
    if (const Node* types = r.find("layer_types"))
      period = global_period(*types);
    else if (r.find("sliding_window_pattern"))
      period = r.integer("sliding_window_pattern");
    else if (arch->family == Family::gemma || arch->family == Family::gpt_oss)
      period = 2;  // alternating
    if (period && *period > 1) {
      m.set("sliding_window", Reader::scalar_at(window->scalar, window->loc), window->loc);
      m.set("global_every", Reader::scalar_at(std::to_string(*period), window->loc), window->loc);
    } else {
      out.notes.push_back(
          fmt::format("a {}-token sliding window in every layer is not modelled: attention is counted "
                      "over the whole sequence",
                      window->scalar));
    }
  }

  read_moe(r, arch->family, m);
  read_hybrid(r, arch->family, m, out.notes);
  if (arch->family == Family::gpt_oss) {
    m.set("attention_sinks", Reader::scalar_at("true", config.loc));
    out.notes.push_back("GPT-OSS's QKV biases and clamped SwiGLU are left out");
  }
  return out;
}

HfModel load_hf_model(const std::string& path) { return hf_model(load_yaml_file(path)); }

}  // namespace danlu
