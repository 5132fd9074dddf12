#include "scenario/readers.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/reader.hpp"
#include "scenario/engine_names.hpp"
#include "scenario/schema.hpp"
#include "topologies/registry.hpp"
#include "workload/hf_config.hpp"
#include "workload/layout.hpp"

namespace danlu::readers {

namespace fs = std::filesystem;

ModelSpec read_model(DeclaredFields f) {
  ModelSpec m;
  if (f.has("preset")) m.preset = f.text("preset");
  if (f.has("hf_config")) f.text("hf_config");  // read into the fields below by build_scenario
  m.layers = static_cast<int>(f.integer("layers"));
  m.hidden = f.integer("hidden");
  m.heads = static_cast<int>(f.integer("heads"));
  m.kv_heads = static_cast<int>(f.integer("kv_heads", m.heads));
  if (m.kv_heads > m.heads || m.heads % m.kv_heads != 0)
    throw InputError(f.loc_of("kv_heads"), f.path_of("kv_heads"),
                     fmt::format("expected a divisor of heads ({}), found {}", m.heads, m.kv_heads))
        .as_constraint();
  if (!f.has("head_dim") && m.hidden % m.heads != 0)
    throw InputError(f.loc_of("heads"), f.path_of("heads"),
                     fmt::format("hidden {} is not divisible by heads {}; give head_dim", m.hidden, m.heads))
        .as_constraint();
  m.head_dim = static_cast<int>(f.integer("head_dim", m.hidden / m.heads));
  m.ffn_hidden = f.integer("ffn_hidden");
  m.vocab = f.integer("vocab");
  m.seq_len = f.integer("seq_len");
  const std::string act = f.choice("activation");
  m.activation = act == "swiglu" ? Activation::swiglu : act == "gelu" ? Activation::gelu : Activation::relu2;
  m.tied_embeddings = f.flag("tied_embeddings");
  m.learned_positions = f.choice("position_embeddings") == "learned";
  m.dropout = f.flag("dropout");
  if (f.has("moe")) {
    DeclaredFields e = f.sub("moe");
    MoeSpec moe;
    moe.experts = static_cast<int>(e.integer("experts"));
    moe.top_k = static_cast<int>(e.integer("top_k", std::nullopt, moe.experts));
    moe.shared_experts = static_cast<int>(e.integer("shared_experts"));
    moe.expert_ffn_hidden = e.integer("expert_ffn_hidden", m.ffn_hidden);
    moe.dense_layers = static_cast<int>(e.integer("dense_layers", std::nullopt, m.layers - 1));
    moe.capacity_factor = e.quantity("capacity_factor");
    moe.token_drop = e.flag("token_drop");
    moe.router_groups = static_cast<int>(e.integer("router_groups", std::nullopt, moe.experts));
    if (moe.experts % moe.router_groups != 0)
      throw InputError(e.loc_of("router_groups"), e.path_of("router_groups"),
                       fmt::format("expected a divisor of experts ({}), found {}", moe.experts, moe.router_groups))
          .as_constraint();
    moe.router_group_top_k = static_cast<int>(e.integer("router_group_top_k", moe.router_groups, moe.router_groups));
    const int per_group = moe.experts / moe.router_groups;
    if (moe.router_group_top_k * per_group < moe.top_k)
      throw InputError(e.loc_of("router_group_top_k"), e.path_of("router_group_top_k"),
                       fmt::format("expected at least {}: {} of the {} groups hold {} experts, fewer than top_k ({})",
                                   (moe.top_k + per_group - 1) / per_group, moe.router_group_top_k, moe.router_groups,
                                   moe.router_group_top_k * per_group, moe.top_k))
          .as_constraint();
    moe.load_imbalance = e.quantity("load_imbalance", std::nullopt, static_cast<double>(moe.experts) / moe.top_k);
    moe.latent_hidden = e.integer("latent_hidden");
    e.finish();
    m.moe = moe;
  } else {
    f.raw("moe");
  }
  if (f.has("mla")) {
    DeclaredFields a = f.sub("mla");
    MlaSpec mla;
    mla.q_lora_rank = static_cast<int>(a.integer("q_lora_rank"));
    mla.kv_lora_rank = static_cast<int>(a.integer("kv_lora_rank"));
    mla.qk_nope_head_dim = static_cast<int>(a.integer("qk_nope_head_dim"));
    mla.qk_rope_head_dim = static_cast<int>(a.integer("qk_rope_head_dim"));
    mla.v_head_dim = static_cast<int>(a.integer("v_head_dim"));
    a.finish();
    m.mla = mla;
  } else {
    f.raw("mla");
  }
  m.mtp_layers = static_cast<int>(f.integer("mtp_layers"));
  m.sliding_window = f.integer("sliding_window");
  m.global_every = static_cast<int>(f.integer("global_every", m.sliding_window > 0 ? 2 : 1, m.layers));
  read_layer_kinds(f, m);
  f.finish();
  build_stack(m);
  return m;
}

// Presets built on presets, at most this deep (a cycle stops here too).
constexpr int kMaxPresetDepth = 4;

void merge_model_sources(Node& tree, const Catalog& catalog, Scenario& s) {
  if (Node* model = tree.find("model"); model && model->is_map()) {
    // A Hugging Face config.json: read like a preset, from a file beside the
    // scenario (a --set path is taken from the working directory).
    if (const Node* hf = model->find("hf_config")) {
      if (const Node* preset = model->find("preset"); preset && !preset->is_null())
        throw InputError(hf->loc, "model.hf_config", "give either preset or hf_config, not both");
      const bool from_set = hf->loc.file.rfind("--set", 0) == 0;
      const fs::path path = referenced_file(
          *hf, "model.hf_config", from_set ? "" : fs::path(hf->loc.file).parent_path().string(), "a config.json");
      HfModel read = load_hf_model(path.string());
      deep_merge(read.model, *model);
      read.model.loc = model->loc;
      *model = read.model;
      for (auto& note : read.notes) s.warnings.push_back(fmt::format("{}: {}", path.string(), note));
    }
    if (const Node* preset = model->find("preset"); preset && preset->is_scalar()) {
      // A preset may name the preset it varies (DeepSeek-V3.2 is DeepSeek-V3
      // with sparse attention); each level overrides the one it names.
      Node merged = *model;
      std::string name = preset->scalar;
      Location at = preset->loc;
      for (int depth = 0;; ++depth) {
        if (depth == kMaxPresetDepth)
          throw InputError(at, "model.preset", fmt::format("presets name presets more than {} deep", kMaxPresetDepth));
        Node base = catalog.model_preset(name, at, "model.preset");
        const Node* next = base.find("preset");
        const bool more = next && next->is_scalar();
        if (more) name = next->scalar, at = next->loc;
        deep_merge(base, merged);
        merged = std::move(base);
        if (!more) break;
      }
      merged.loc = model->loc;
      *model = std::move(merged);
    }
  }
}

}  // namespace danlu::readers
