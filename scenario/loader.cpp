#include "scenario/loader.hpp"

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

namespace danlu {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- input tree

namespace {

void clear_positions(Node& n, const Location& where) {
  n.loc = where;
  for (auto& l : n.key_locs) l = where;
  for (auto& item : n.items) clear_positions(item, where);
  for (auto& [k, v] : n.map) clear_positions(v, where);
}

Node resolve_extends(Node tree, const fs::path& file, std::vector<std::string>& chain);

Node load_chain(const fs::path& file, std::vector<std::string>& chain) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  chain.push_back(ec ? file.string() : canonical.string());
  return resolve_extends(load_yaml_file(file.string()), file, chain);
}

// `tree` read from `file` (the last entry of `chain`), with its extends chain
// merged under it.
Node resolve_extends(Node tree, const fs::path& file, std::vector<std::string>& chain) {
  if (tree.is_null()) throw InputError(Location{file.string(), 0, 0}, "", "the file is empty");
  if (!tree.is_map())
    // Never quote it: a top-level text is usually some other file entirely.
    throw InputError(
        tree.loc, "",
        fmt::format("expected a mapping of sections, found {}", tree.is_scalar() ? "a text" : tree.describe()));
  if (const Node* ext = tree.find("extends")) {
    if (!ext->is_scalar() || ext->scalar.empty())
      throw InputError(
          ext->loc, "extends",
          fmt::format("expected a file path, found {}", ext->is_scalar() ? "an empty text" : ext->describe()));
    fs::path base_path = file.parent_path() / ext->scalar;
    std::error_code ec;
    const fs::file_status st = fs::status(base_path, ec);
    if (ec || !fs::exists(st))
      throw InputError(ext->loc, "extends",
                       fmt::format("no such file {} (paths are relative to this file's folder)", ext->describe()));
    if (!fs::is_regular_file(st))
      throw InputError(ext->loc, "extends",
                       fmt::format("{} is {}; expected a scenario file", ext->describe(),
                                   fs::is_directory(st) ? "a directory" : "not a regular file (a pipe or device)"));
    const fs::path base_canonical = fs::weakly_canonical(base_path, ec);
    std::string canonical = ec ? base_path.string() : base_canonical.string();
    if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
      std::string cycle;
      for (const auto& c : chain) cycle += fs::path(c).filename().string() + " -> ";
      throw InputError(ext->loc, "extends", fmt::format("extends cycle: {}{}", cycle, base_path.filename().string()));
    }
    Node base = load_chain(base_path, chain);
    Node overlay = tree;
    overlay.erase("extends");
    deep_merge(base, overlay);
    chain.pop_back();
    return base;
  }
  chain.pop_back();
  return tree;
}

}  // namespace

void apply_set(Node& tree, const std::string& assignment) {
  Location where{"--set " + assignment, 0, 0};
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(where, "", "expected PATH=VALUE, e.g. training.precision=fp8");
  std::string path = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  if (path == "extends" || path.rfind("extends.", 0) == 0)
    throw InputError(where, "extends",
                     "extends is resolved when the file is read and cannot be set; write a file that extends "
                     "this one, or give the fields themselves with --set");
  Node value = parse_yaml(text, where.file);
  clear_positions(value, where);
  // "x=" sets an empty string; "x=null" removes an inherited value, as in a file.
  if (value.is_null() && text.find_first_not_of(" \t") == std::string::npos) value.kind = Node::Kind::Scalar;
  set_path(tree, path, value);
}

Node load_tree(const std::string& file, const std::vector<std::string>& sets) {
  std::vector<std::string> chain;
  Node tree = load_chain(fs::path(file), chain);
  for (const auto& s : sets) apply_set(tree, s);
  return tree;
}

Node load_tree_text(const std::string& text, const std::string& name, const std::vector<std::string>& sets) {
  std::vector<std::string> chain{name};
  Node tree = resolve_extends(parse_yaml(text, name), fs::path(name), chain);
  for (const auto& s : sets) apply_set(tree, s);
  return tree;
}

// ------------------------------------------------------------- typed reading

namespace {

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
  m.activation = f.choice("activation") == "swiglu" ? Activation::swiglu : Activation::gelu;
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
  f.finish();
  build_stack(m);
  return m;
}

// Model presets and a Hugging Face config merge under `model:` before reading,
// so every field can be overridden and still reports its origin.
void merge_model_sources(Node& tree, const Catalog& catalog, Scenario& s) {
  if (Node* model = tree.find("model"); model && model->is_map()) {
    // A Hugging Face config.json: read like a preset, from a file beside the
    // scenario (a --set path is taken from the working directory).
    if (const Node* hf = model->find("hf_config")) {
      if (!hf->is_scalar() || hf->scalar.empty())
        throw InputError(hf->loc, "model.hf_config",
                         fmt::format("expected a path to a config.json, found {}",
                                     hf->is_scalar() ? "an empty text" : hf->describe()));
      if (const Node* preset = model->find("preset"); preset && !preset->is_null())
        throw InputError(hf->loc, "model.hf_config", "give either preset or hf_config, not both");
      const bool from_set = hf->loc.file.rfind("--set", 0) == 0;
      const fs::path path = from_set ? fs::path(hf->scalar) : fs::path(hf->loc.file).parent_path() / hf->scalar;
      HfModel read = load_hf_model(path.string());
      deep_merge(read.model, *model);
      read.model.loc = model->loc;
      *model = read.model;
      for (auto& note : read.notes) s.warnings.push_back(fmt::format("{}: {}", path.string(), note));
    }
    if (const Node* preset = model->find("preset"); preset && preset->is_scalar()) {
      Node merged = catalog.model_preset(preset->scalar, preset->loc, "model.preset");
      deep_merge(merged, *model);
      merged.loc = model->loc;
      *model = merged;
    }
  }
}

void read_cluster(DeclaredFields& root, Scenario& s, const Catalog& catalog) {
  DeclaredFields c = root.sub("cluster");
  std::string system = c.text("system");
  s.cluster.system = catalog.system(system, c.loc_of("system"), c.path_of("system"));
  std::string accel = c.text("accelerator", s.cluster.system.accelerator);
  s.cluster.accelerator = catalog.accelerator(accel, c.loc_of("accelerator"), c.path_of("accelerator"));
  s.uncertainty = catalog.uncertainty(s.cluster.accelerator.vendor, s.model.moe.has_value());
  const System& sys = s.cluster.system;
  int given = int(c.has("gpus")) + int(c.has("nodes")) + int(c.has("racks"));
  if (given != 1)
    throw InputError(c.loc(), c.path(), fmt::format("expected exactly one of gpus, nodes or racks, found {}", given))
        .as_constraint();
  const std::int64_t max_gpus = find_field("cluster.gpus")->max;
  const std::int64_t per_rack = static_cast<std::int64_t>(sys.accelerators_per_node) * sys.nodes_per_rack;
  if (c.has("gpus")) {
    s.cluster.gpus = static_cast<int>(c.integer("gpus"));
  } else if (c.has("nodes")) {
    s.cluster.gpus = static_cast<int>(c.integer("nodes", std::nullopt, max_gpus / sys.accelerators_per_node) *
                                      sys.accelerators_per_node);
  } else {
    s.cluster.gpus = static_cast<int>(c.integer("racks", std::nullopt, max_gpus / per_rack) * per_rack);
  }
  const int domain = s.cluster.system.scale_up_domain;
  s.cluster.system.scale_up_domain = static_cast<int>(c.integer("scale_up_domain", domain, domain));
  s.cluster.nodes = (s.cluster.gpus + sys.accelerators_per_node - 1) / sys.accelerators_per_node;
  s.cluster.racks = (s.cluster.nodes + sys.nodes_per_rack - 1) / sys.nodes_per_rack;
  // A rack-scale system (NVL72) is bought and cooled by the rack.
  if (const int in_last = s.cluster.nodes % sys.nodes_per_rack; in_last != 0 && sys.unit == SystemUnit::rack)
    s.warnings.push_back(s.cluster.racks == 1
                             ? fmt::format("{} GPUs fill {} of a rack's {} trays; the rack is bought whole",
                                           s.cluster.gpus, in_last, sys.nodes_per_rack)
                             : fmt::format("{} GPUs fill {} racks of {} trays; the last holds {}, and is bought whole",
                                           s.cluster.gpus, s.cluster.racks, sys.nodes_per_rack, in_last));
  DeclaredFields so = c.sub("scale_out");
  std::string fabric = so.text("fabric", sys.default_fabric);
  s.cluster.fabric = catalog.fabric(fabric, so.loc_of("fabric"), so.path_of("fabric"));
  s.cluster.topology =
      so.choice("topology", std::string(sys.scale_up == ScaleUpKind::Torus ? "torus-3d" : "rail-optimized"));
  s.cluster.oversubscription = so.quantity("oversubscription");
  s.cluster.nics_per_gpu = so.quantity("nics_per_gpu", sys.nics_per_accelerator);
  so.finish();
  c.finish();
  // What the catalog gives the run, each way: vendors quote NVLink with both
  // directions added.
  s.explain.push_back({"[catalog] scale-up bandwidth",
                       fmt::format("{} each way per GPU",
                                   format_quantity(s.cluster.accelerator.scale_up_bytes_per_s, Quantity::ByteRate)),
                       "catalog: accelerator " + s.cluster.accelerator.name});
  s.explain.push_back(
      {"[catalog] scale-out port rate",
       fmt::format("{} each way, {} per GPU", format_quantity(s.cluster.fabric.port_bytes_per_s, Quantity::LinkRate),
                   s.cluster.nics_per_gpu),
       "catalog: fabric " + s.cluster.fabric.name});
}

// The layout: tp, pp, cp, dp, ep, etp and vpp, the rank order, and the rules
// between them and the model (heads, experts, sequence, layers).
void read_parallelism(DeclaredFields& t, Scenario& s) {
  DeclaredFields par = t.sub("parallelism");
  Parallelism& p = s.training.par;
  p.tp = static_cast<int>(par.integer("tp"));
  p.pp = static_cast<int>(par.integer("pp"));
  p.cp = static_cast<int>(par.integer("cp"));
  std::int64_t rest = static_cast<std::int64_t>(p.tp) * p.pp * p.cp;
  if (!par.has("dp") && s.cluster.gpus % rest != 0)
    throw InputError(par.loc(), par.path(),
                     fmt::format("tp*pp*cp = {} does not divide cluster.gpus = {}; set dp or change the layout", rest,
                                 s.cluster.gpus))
        .as_constraint();
  p.dp = static_cast<int>(par.integer("dp", s.cluster.gpus / rest));
  p.ep = static_cast<int>(par.integer("ep"));
  p.etp = static_cast<int>(par.integer("etp", p.tp));
  p.vpp = static_cast<int>(par.integer("vpp"));
  p.rank_order = par.text("rank_order");
  {
    std::vector<std::string> sorted = split(p.rank_order, '-');
    std::sort(sorted.begin(), sorted.end());
    if (sorted != std::vector<std::string>{"cp", "dp", "pp", "tp"})
      throw InputError(
          par.loc_of("rank_order"), par.path_of("rank_order"),
          fmt::format("expected an order of tp, cp, dp and pp like \"tp-cp-dp-pp\", found \"{}\"", p.rank_order));
  }
  par.finish();
  {
    DeclaredFields split = t.sub("pipeline_split");
    s.training.split_embedding = split.flag("embedding");
    s.training.split_loss = split.flag("loss");
    split.finish();
  }
  if (const auto problem = layout_problem(s.model, s.training, s.cluster.gpus)) {
    const bool whole = *problem->field == '\0';
    throw InputError(whole ? par.loc() : par.loc_of(problem->field), whole ? par.path() : par.path_of(problem->field),
                     problem->message)
        .as_constraint();
  }
  // TP's all-reduces sit on every layer's critical path: past one scale-up
  // domain they go over the scale-out fabric.
  if (const int domain = s.cluster.system.scale_up_domain; p.tp > domain && s.cluster.gpus > domain)
    s.warnings.push_back(
        fmt::format("tp {} spans {} scale-up domains of {}: its collectives cross the scale-out "
                    "fabric on every layer",
                    p.tp, (p.tp + domain - 1) / domain, domain));
  if (s.model.kv_heads < p.tp)
    s.warnings.push_back(fmt::format("kv_heads {} < tp {}: each KV head is replicated on {} GPUs", s.model.kv_heads,
                                     p.tp, p.tp / s.model.kv_heads));
}

// Micro-batch and global batch (in sequences or tokens).
void read_batch(DeclaredFields& t, Scenario& s) {
  const Parallelism& p = s.training.par;
  s.training.micro_batch = static_cast<int>(t.integer("micro_batch"));
  if (t.has("global_batch") && t.has("global_batch_tokens"))
    throw InputError(t.loc_of("global_batch_tokens"), t.path(),
                     "give global_batch (sequences) or global_batch_tokens, not both")
        .as_constraint();
  if (t.has("global_batch_tokens")) {
    double tokens = t.quantity("global_batch_tokens");
    const double sequences = tokens / static_cast<double>(s.model.seq_len);
    s.training.global_batch = std::llround(sequences);
    if (s.training.global_batch < 1)
      throw InputError(t.loc_of("global_batch_tokens"), t.path_of("global_batch_tokens"), "is less than one sequence")
          .as_constraint();
    // "16M" is 1953.1 sequences of 8192: say what the step holds.
    if (std::fabs(sequences - static_cast<double>(s.training.global_batch)) > 1e-9)
      s.warnings.push_back(
          fmt::format("training.global_batch_tokens {} is {:.1f} sequences of {}: taken as {} ({} tokens a step); give "
                      "global_batch (sequences) to choose",
                      format_quantity(tokens, Quantity::Count), sequences, s.model.seq_len, s.training.global_batch,
                      s.training.global_batch * s.model.seq_len));
  } else {
    std::int64_t def = static_cast<std::int64_t>(s.training.micro_batch) * p.dp * p.pp;
    try {
      s.training.global_batch = t.integer("global_batch", def);
    } catch (const InputError& e) {
      // "16M tokens": a batch in tokens has its own field.
      const Node* written = t.raw("global_batch");
      if (!written || !written->is_scalar() || written->scalar.find("token") == std::string::npos) throw;
      throw InputError(e.location(), e.path(), e.detail() + "; a batch in tokens is global_batch_tokens: 16M");
    }
  }
  std::int64_t per_step = static_cast<std::int64_t>(s.training.micro_batch) * p.dp;
  if (s.training.global_batch % per_step != 0)
    throw InputError(
        t.loc_of(t.has("global_batch") ? "global_batch" : "global_batch_tokens"), t.path_of("global_batch"),
        fmt::format("{} sequences{} do not split into microbatches of micro_batch*dp = {}*{} = {}",
                    s.training.global_batch, t.has("global_batch") ? "" : " (global_batch_tokens / seq_len, rounded)",
                    s.training.micro_batch, p.dp, per_step))
        .as_constraint();
}

// Megatron's recompute_modules: a list of module names, with selective
// recomputation only.
void read_recompute_modules(DeclaredFields& t, Scenario& s) {
  const Node* list = t.raw("recompute_modules");
  if (!list) {
    if (s.training.recompute == Recompute::selective)
      s.explain.push_back({"training.recompute_modules", "[core_attn]",
                           "default: " + std::string(find_field("training.recompute_modules")->note)});
    return;
  }
  if (s.training.recompute != Recompute::selective)
    throw InputError(t.loc_of("recompute_modules"), t.path_of("recompute_modules"),
                     "names what selective recomputation repeats; set recompute: selective")
        .as_constraint();
  if (!list->is_seq())
    throw InputError(
        list->loc, t.path_of("recompute_modules"),
        fmt::format("expected a list of module names, e.g. [core_attn, moe_act], found {}", list->describe()));
  const std::vector<std::string> known = names_of<RecomputeModule>();
  unsigned modules = 0;
  std::string written;
  for (const Node& item : list->items) {
    if (!item.is_scalar() || std::find(known.begin(), known.end(), item.scalar) == known.end())
      throw InputError(
          item.loc, t.path_of("recompute_modules"),
          fmt::format("expected a module danlu models, found {}", item.describe()) +
              (item.is_scalar() ? suggestion(item.scalar, known) : fmt::format("; valid: {}", fmt::join(known, ", "))));
    modules |= 1U << static_cast<unsigned>(from_name<RecomputeModule>(item.scalar));
    written += (written.empty() ? "" : ", ") + item.scalar;
  }
  s.training.recompute_modules = modules;
  s.explain.push_back({"training.recompute_modules", "[" + written + "]", list->loc.str()});
}

// Memory and speed knobs: recomputation, ZeRO, the schedule, overlap,
// precision recipes, CUDA graphs, offload; and the run's tokens.
void read_training_knobs(DeclaredFields& t, Scenario& s, const ParamCounts& params) {
  const Parallelism& p = s.training.par;
  s.training.sequence_parallel = t.flag("sequence_parallel", p.tp > 1);
  s.training.zero = static_cast<int>(t.integer("zero"));
  s.training.recompute = from_name<Recompute>(t.choice("recompute"));
  s.training.flash_attention = t.flag("flash_attention");
  if (t.has("recompute_layers") && s.training.recompute != Recompute::full)
    throw InputError(t.loc_of("recompute_layers"), t.path_of("recompute_layers"),
                     "limits full recomputation; set recompute: full")
        .as_constraint();
  s.training.recompute_layers = static_cast<int>(t.integer("recompute_layers", -1));
  read_recompute_modules(t, s);
  std::string sched = t.choice("pipeline_schedule", std::string(p.vpp > 1 ? "interleaved" : "1f1b"));
  s.training.schedule = &pipeline_schedule(sched);
  if (p.vpp > 1 && !s.training.schedule->runs_virtual_stages())
    throw InputError(t.loc_of("pipeline_schedule"), t.path_of("pipeline_schedule"),
                     fmt::format("vpp = {} needs pipeline_schedule: interleaved, found \"{}\"", p.vpp, sched))
        .as_constraint();
  if (std::string why = s.training.schedule->layout_problem(p.pp, s.training.microbatches()); !why.empty())
    throw InputError(t.loc_of("pipeline_schedule"), t.path_of("pipeline_schedule"), why).as_constraint();
  DeclaredFields ov = t.sub("overlap");
  s.training.overlap.dp_comm = ov.flag("dp_comm");
  s.training.overlap.tp_comm = ov.flag("tp_comm");
  s.training.overlap.pp_comm = ov.flag("pp_comm");
  s.training.overlap.ep_comm = ov.flag("ep_comm");
  ov.finish();
  s.training.tokens = t.quantity("tokens", std::round(20.0 * params.total));
  s.training.optimizer = from_name<Optimizer>(t.choice("optimizer"));
  s.training.fp8_recipe = from_name<Fp8Recipe>(t.choice("fp8_recipe"));
  s.training.fp4_recipe = from_name<Fp4Recipe>(t.choice("fp4_recipe"));
  s.training.cuda_graphs = from_name<CudaGraphs>(t.choice("cuda_graphs"));
  s.training.ep_dispatch = from_name<EpDispatch>(t.choice("ep_dispatch"));
  s.training.offload_activation_layers = static_cast<int>(t.integer("offload_activations"));
}

// Layers per pipeline stage: given, or as even as possible.
void read_stage_layers(DeclaredFields& t, Scenario& s) {
  const Parallelism& p = s.training.par;
  if (const Node* sl = t.raw("stage_layers")) {
    if (!sl->is_seq() || static_cast<int>(sl->items.size()) != p.pp)
      throw InputError(
          sl->loc, t.path_of("stage_layers"),
          fmt::format("expected a list of {} layer counts (one per pipeline stage), found {}", p.pp,
                      sl->is_seq() ? fmt::format("{} {}", sl->items.size(), sl->items.size() == 1 ? "entry" : "entries")
                                   : sl->describe()))
          .as_constraint();
    int sum = 0;
    for (const auto& item : sl->items) {
      double v = 0;
      try {
        v = item.is_scalar() ? parse_quantity(item.scalar, Quantity::Count) : -1;
      } catch (const UnitError&) {
        v = -1;
      }
      // No stage holds more layers than the model (and the int below stays exact).
      if (v < 1 || v != std::floor(v) || v > s.model.layers)
        throw InputError(item.loc, t.path_of("stage_layers"),
                         fmt::format("expected a positive integer up to model.layers ({}), found {}", s.model.layers,
                                     item.describe()));
      s.training.stage_layers.push_back(static_cast<int>(v));
      sum += static_cast<int>(v);
    }
    if (sum != s.model.layers)
      throw InputError(sl->loc, t.path_of("stage_layers"),
                       fmt::format("layers add up to {}, but model.layers = {}", sum, s.model.layers))
          .as_constraint();
    for (int st = 0; st < p.pp; ++st)
      if (s.training.stage_layers[static_cast<size_t>(st)] + stage_split_units(s.training, st) < p.vpp)
        throw InputError(sl->loc, t.path_of("stage_layers"),
                         fmt::format("stage {} holds {} layers, fewer than vpp = {}", st,
                                     s.training.stage_layers[static_cast<size_t>(st)], p.vpp))
            .as_constraint();
  } else {
    // Even over the layers and the places the embedding and loss take;
    // those places then come off the first and last stage.
    s.training.stage_layers = default_stage_layers(s.model.layers, s.training);
    std::string v;
    for (int l : s.training.stage_layers) v += (v.empty() ? "" : ", ") + std::to_string(l);
    s.explain.push_back(
        {"training.stage_layers", "[" + v + "]", "default: " + std::string(find_field("training.stage_layers")->note)});
  }
}

void read_training(DeclaredFields& root, Scenario& s, const ParamCounts& params) {
  DeclaredFields t = root.sub("training");
  std::string prec = t.choice("precision");
  s.training.precision = precision_from(prec);
  const Accelerator& acc = s.cluster.accelerator;
  if (acc.peak(s.training.precision) <= 0) {
    std::string have;
    for (const auto& p : precision_names())
      if (acc.peak(precision_from(p)) > 0) have += (have.empty() ? "" : ", ") + p;
    throw InputError(t.loc_of("precision"), t.path_of("precision"),
                     fmt::format("{} has no {} matrix path; it supports {}", acc.name, prec, have))
        .as_constraint();
  }
  read_parallelism(t, s);
  read_batch(t, s);
  read_training_knobs(t, s, params);
  read_stage_layers(t, s);
  t.finish();
}

void read_facility(DeclaredFields& root, Scenario& s) {
  DeclaredFields f = root.sub("facility");
  s.facility.cooling = from_name<Cooling>(f.choice("cooling", std::string(to_name(s.cluster.system.default_cooling))));
  CoolingDefaults cd = cooling_defaults(s.facility.cooling);
  s.facility.pue = f.quantity("pue", cd.pue);
  s.facility.electricity_usd_per_kwh = f.quantity("electricity");
  double rack_kw = f.quantity("max_rack_kw", cd.max_rack_w / 1e3);
  s.facility.max_rack_w = rack_kw * 1e3;
  f.finish();
}

void read_cost(DeclaredFields& root, Scenario& s) {
  DeclaredFields c = root.sub("cost");
  DeclaredFields rent = c.sub("rent");
  s.cost.rent_usd_per_gpu_hour = rent.quantity("gpu_hour", s.cluster.accelerator.rent_usd_per_hour);
  s.cost.rent_basis = rent.has("gpu_hour") ? "given in the scenario" : kRentBasis;
  s.cost.reserved_discount = rent.quantity("reserved_discount");
  rent.finish();
  DeclaredFields buy = c.sub("buy");
  BuySpec& b = s.cost.buy;
  // A system that is not sold has no price to default to: owning it is
  // n/a unless the scenario says what a unit would cost.
  b.possible = s.cluster.system.for_sale || buy.has("gpu_server");
  if (b.possible) {
    b.server_usd = buy.quantity("gpu_server", s.cluster.system.list_price_usd);
  } else {
    s.explain.push_back(
        {"cost.buy.gpu_server", "n/a", fmt::format("default: {} is not sold; owning is n/a", s.cluster.system.name)});
  }
  b.network_usd_per_gpu = buy.quantity("network_per_gpu", s.cluster.fabric.usd_per_port * s.cluster.nics_per_gpu);
  b.facility_usd_per_mw = buy.quantity("facility_per_mw");
  b.depreciation_s = buy.quantity("depreciation");
  b.maintenance_per_year = buy.quantity("maintenance");
  b.cost_of_capital_per_year = buy.quantity("cost_of_capital");
  buy.finish();
  s.cost.utilization = c.quantity("utilization");
  if (s.cost.utilization <= 0)
    throw InputError(c.loc_of("utilization"), c.path_of("utilization"), "must be greater than 0");
  s.cost.horizon_s = c.quantity("horizon", b.depreciation_s);
  c.finish();
}

void read_reliability(DeclaredFields& root, Scenario& s) {
  s.reliability.given = root.has("reliability");
  DeclaredFields r = root.sub("reliability");
  s.reliability.gpu_mtbf_s = r.quantity("gpu_mtbf");
  s.reliability.checkpoint_interval_s = r.quantity("checkpoint_interval");
  s.reliability.checkpoint_write_s = r.quantity("checkpoint_write");
  s.reliability.restart_s = r.quantity("restart");
  r.finish();
}

void read_sim(DeclaredFields& root, Scenario& s) {
  DeclaredFields m = root.sub("sim");
  s.sim.engine = m.choice("engine");
  s.sim.fidelity = from_name<Fidelity>(m.choice("fidelity"));
  s.sim.steps = static_cast<int>(m.integer("steps"));
  s.sim.seed = m.integer("seed");
  if (m.has("seed"))
    s.warnings.push_back("sim.seed changes nothing: no model in danlu draws random numbers (docs/scenario.md)");
  m.finish();
}

// What a published run measured (for `danlu validate`).
void read_measured(DeclaredFields& root, Scenario& s) {
  if (root.has("measured")) {
    DeclaredFields m = root.sub("measured");
    Measured meas;
    if (m.has("step_s")) meas.step_s = m.quantity("step_s");
    if (m.has("mfu")) meas.mfu = m.quantity("mfu");
    if (m.has("tokens_per_s_per_gpu")) meas.tokens_per_s_per_gpu = m.quantity("tokens_per_s_per_gpu");
    meas.source = m.text("source");
    m.finish();
    if (!meas.step_s && !meas.mfu && !meas.tokens_per_s_per_gpu)
      throw InputError(m.loc(), "measured", "expected step_s, mfu or tokens_per_s_per_gpu");
    s.measured = meas;
  } else {
    root.raw("measured");
  }
}

// Each sweep axis must name a real field, and every value must be valid on
// its own (checked by re-building with that one value applied).
void read_sweep(DeclaredFields& root, const Node& tree, const Catalog& catalog, Scenario& s) {
  if (const Node* sw = root.raw("sweep")) {
    if (!sw->is_map())
      throw InputError(sw->loc, "sweep",
                       fmt::format("expected a mapping of dotted path: [values], found {}", sw->describe()));
    Node base = tree;
    base.erase("sweep");
    for (size_t i = 0; i < sw->map.size(); ++i) {
      const auto& [path, values] = sw->map[i];
      if (!values.is_seq() || values.items.empty())
        throw InputError(values.loc, "sweep." + path,
                         fmt::format("expected a non-empty list of values, found {}", values.describe()));
      if (path.rfind("sweep", 0) == 0 || path == "name")
        throw InputError(sw->key_locs[i], "sweep." + path, "this field cannot be swept");
      if (path == "extends" || path.rfind("extends.", 0) == 0)
        throw InputError(sw->key_locs[i], "sweep." + path,
                         "extends is resolved when the file is read and cannot be swept; sweep the fields it sets, "
                         "or sweep over several files with `danlu compare`");
      // Each value must be valid in form (type, unit, range, known names);
      // constraints between fields are judged per point when the sweep runs.
      for (const auto& v : values.items) {
        Node point = base;
        set_path(point, path, v);
        try {
          build_scenario(point, catalog);
        } catch (const InputError& e) {
          if (!e.constraint()) throw;
        }
      }
      s.sweep.push_back({path, values.items});
    }
  }
}

}  // namespace

Scenario build_scenario(const Node& input, const Catalog& catalog) {
  Scenario s;
  s.file = input.loc.file;
  s.constants = catalog.constants();
  Node tree = input;
  merge_model_sources(tree, catalog, s);

  DeclaredFields root(Fields(&tree, "", &s.explain));
  s.name = root.text("name");
  if (s.name.empty() || s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
    throw InputError(root.loc_of("name"), "name",
                     fmt::format("expected lower-case letters, digits, '.', '_' or '-', found \"{}\"", s.name));
  s.description = root.text("description");
  root.raw("extends");

  s.model = read_model(root.sub("model"));
  const ParamCounts params = count_params(s.model);
  read_cluster(root, s, catalog);
  read_training(root, s, params);
  read_facility(root, s);
  read_cost(root, s);
  read_reliability(root, s);
  read_sim(root, s);
  read_measured(root, s);
  read_sweep(root, tree, catalog, s);
  s.search = read_search_limits(root.raw("search"));
  root.finish();
  return s;
}

const std::vector<SearchDim>& search_dims() {
  static const std::vector<SearchDim> dims = {
      {"training.parallelism.tp", &SearchLimits::tp, 1, [](const TrainingSpec& t) { return t.par.tp; }},
      {"training.parallelism.pp", &SearchLimits::pp, 1, [](const TrainingSpec& t) { return t.par.pp; }},
      {"training.parallelism.dp", &SearchLimits::dp, 1, [](const TrainingSpec& t) { return t.par.dp; }},
      {"training.parallelism.cp", &SearchLimits::cp, 1, [](const TrainingSpec& t) { return t.par.cp; }},
      {"training.parallelism.ep", &SearchLimits::ep, 1, [](const TrainingSpec& t) { return t.par.ep; }},
      {"training.parallelism.vpp", &SearchLimits::vpp, 1, [](const TrainingSpec& t) { return t.par.vpp; }},
      {"training.micro_batch", &SearchLimits::micro_batch, 1, [](const TrainingSpec& t) { return t.micro_batch; }},
      {"training.zero", &SearchLimits::zero, 0, [](const TrainingSpec& t) { return t.zero; }},
  };
  return dims;
}

SearchLimits read_search_limits(const Node* block) {
  SearchLimits out;
  if (!block || block->is_null()) return out;
  if (!block->is_map())
    throw InputError(block->loc, "search",
                     fmt::format("expected a mapping of layout path: [values], found {}", block->describe()));
  std::vector<std::string> valid;
  for (const SearchDim& d : search_dims()) valid.emplace_back(d.path);
  valid.emplace_back(kSearchRecomputePath);
  for (size_t i = 0; i < block->map.size(); ++i) {
    const auto& [path, value] = block->map[i];
    // One value fixes the dimension; a list limits it.
    std::vector<const Node*> items;
    if (value.is_seq())
      for (const Node& v : value.items) items.push_back(&v);
    else
      items.push_back(&value);
    if (items.empty() || !std::all_of(items.begin(), items.end(), [](const Node* n) { return n->is_scalar(); }))
      throw InputError(value.loc, "search." + path,
                       fmt::format("expected a value or a non-empty list of values, found {}", value.describe()));
    if (path == kSearchRecomputePath) {
      for (const Node* n : items) {
        const auto known = names_of<Recompute>();
        if (std::find(known.begin(), known.end(), n->scalar) == known.end())
          throw InputError(n->loc, "search." + path,
                           fmt::format("expected none, selective or full, found {}", n->describe()));
        out.recompute.push_back(from_name<Recompute>(n->scalar));
      }
      continue;
    }
    const SearchDim* dim = nullptr;
    for (const SearchDim& d : search_dims())
      if (path == d.path) dim = &d;
    if (!dim)
      throw InputError(block->key_locs[i], "search." + path,
                       "not a layout dimension the search varies" + suggestion(path, valid));
    for (const Node* n : items) {
      double v = 0;
      try {
        v = parse_quantity(n->scalar, Quantity::Count);
      } catch (const UnitError&) {
        v = -1;
      }
      if (v != std::floor(v) || v < dim->min || v > 1e7)
        throw InputError(n->loc, "search." + path,
                         fmt::format("expected {}, found {}",
                                     dim->min == 0 ? "an integer 0 or more" : "a positive integer", n->describe()));
      (out.*dim->values).push_back(static_cast<int>(v));
    }
  }
  return out;
}

std::vector<std::vector<std::pair<std::string, Node>>> sweep_points(const Scenario& s) {
  std::vector<std::vector<std::pair<std::string, Node>>> points(1);
  for (const auto& axis : s.sweep) {
    std::vector<std::vector<std::pair<std::string, Node>>> next;
    for (const auto& p : points)
      for (const auto& v : axis.values) {
        auto q = p;
        q.emplace_back(axis.path, v);
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return s.sweep.empty() ? decltype(points){} : points;
}

}  // namespace danlu
