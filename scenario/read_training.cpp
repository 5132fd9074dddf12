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
#include "workload/pattern.hpp"

namespace danlu::readers {

namespace {

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
  // A run trains at least one step: fewer tokens would make every run figure
  // (days, MWh, dollars) a fraction of one step's.
  const double step_tokens = static_cast<double>(s.training.global_batch) * s.model.seq_len;
  if (s.training.tokens < step_tokens)
    throw InputError(
        t.loc_of("tokens"), t.path_of("tokens"),
        fmt::format("expected at least one step's tokens, global_batch x seq_len = {} x {} = {}, found "
                    "{}; a run is whole steps",
                    s.training.global_batch, s.model.seq_len, format_quantity(step_tokens, Quantity::Count),
                    format_quantity(s.training.tokens, Quantity::Count)))
        .as_constraint();
  s.training.optimizer = from_name<Optimizer>(t.choice("optimizer"));
  s.training.fp8_recipe = from_name<Fp8Recipe>(t.choice("fp8_recipe"));
  s.training.fp4_recipe = from_name<Fp4Recipe>(t.choice("fp4_recipe"));
  s.training.cuda_graphs = from_name<CudaGraphs>(t.choice("cuda_graphs"));
  s.training.ep_dispatch = from_name<EpDispatch>(t.choice("ep_dispatch"));
  s.training.offload_activation_layers = static_cast<int>(t.integer("offload_activations"));
}

// Layers per pipeline stage: given, or as even as possible.
// Megatron's layout string, one chunk per virtual stage (chunk v x pp + st
// runs on stage st): danlu keeps each stage's total of decoder layers, with
// the embedding on the first chunk and MTP and the loss on the last.
std::vector<int> read_pipeline_layout(DeclaredFields& t, const Scenario& s) {
  const Parallelism& p = s.training.par;
  const std::string key = "pipeline_layout";
  auto fail = [&](const std::string& detail) {
    return InputError(t.loc_of(key), t.path_of(key), detail).as_constraint();
  };
  if (t.raw("stage_layers")) throw fail("give either pipeline_layout or stage_layers, not both");
  std::string items;
  try {
    items = expand_pattern(t.text(key), "EtmL|", 4 * static_cast<size_t>(s.model.layers) + 4096);
  } catch (const PatternError& e) {
    throw fail(fmt::format("at character {}: {}", e.at + 1, e.what()));
  }
  std::vector<std::string> chunks(1);
  for (char c : items)
    if (c == '|')
      chunks.emplace_back();
    else
      chunks.back() += c;
  const size_t want = static_cast<size_t>(p.pp) * static_cast<size_t>(p.vpp);
  if (chunks.size() != want)
    throw fail(fmt::format("expected pp x vpp = {} virtual stages between '|', found {}", want, chunks.size()));
  std::vector<int> stages(static_cast<size_t>(p.pp), 0);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const std::string& c = chunks[i];
    if (c.find('E') != std::string::npos && i != 0)
      throw fail(fmt::format("the embedding (E) is in virtual stage {}; danlu places it on the first", i));
    for (char end : {'m', 'L'})
      if (c.find(end) != std::string::npos && i + 1 != chunks.size())
        throw fail(fmt::format("'{}' is in virtual stage {}; danlu places MTP and the loss on the last", end, i));
    stages[i % static_cast<size_t>(p.pp)] += static_cast<int>(std::count(c.begin(), c.end(), 't'));
  }
  return stages;
}

void read_stage_layers(DeclaredFields& t, Scenario& s) {
  const Parallelism& p = s.training.par;
  std::optional<std::vector<int>> layout;
  if (t.has("pipeline_layout")) layout = read_pipeline_layout(t, s);
  Node from_layout;
  if (layout) {
    from_layout.kind = Node::Kind::Seq;
    from_layout.loc = t.loc_of("pipeline_layout");
    for (int n : *layout) {
      Node item;
      item.kind = Node::Kind::Scalar;
      item.scalar = std::to_string(n);
      item.loc = from_layout.loc;
      from_layout.items.push_back(item);
    }
  }
  if (layout) {
    std::string v;
    for (int l : *layout) v += (v.empty() ? "" : ", ") + std::to_string(l);
    s.explain.push_back({"training.stage_layers", "[" + v + "]", "from training.pipeline_layout"});
  }
  if (const Node* sl = layout ? &from_layout : t.raw("stage_layers")) {
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

}  // namespace

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

}  // namespace danlu::readers
