#include "scenario/loader.hpp"

#include "scenario/readers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <optional>

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
    const fs::path base_path = referenced_file(*ext, "extends", file.parent_path().string(), "a scenario file");
    std::error_code ec;
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

namespace {
// The product of a sweep's list lengths, UINT64_MAX when it would overflow.
std::uint64_t saturating_product(const std::vector<std::uint64_t>& lengths) {
  std::uint64_t n = 1;
  for (const std::uint64_t k : lengths) {
    if (k != 0 && n > std::numeric_limits<std::uint64_t>::max() / k) return std::numeric_limits<std::uint64_t>::max();
    n *= k;
  }
  return n;
}

// The value of an override that needs no YAML parser: a plain word or number
// ("fp8", "8192", "1.5e6", "a/b.json") or a JSON string without escapes (what
// the Python module writes). yaml-cpp costs tens of microseconds a value;
// 100,000 overrides stay well under a second this way.
std::optional<Node> simple_value(const std::string& text, const Location& where) {
  const auto plain = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._+-/", c); };
  Node n;
  n.loc = where;
  if (!text.empty() && text != "-" && std::all_of(text.begin(), text.end(), plain) && text.rfind("---", 0) != 0 &&
      text.rfind("...", 0) != 0) {
    if (text == "null" || text == "Null" || text == "NULL") return n;
    n.kind = Node::Kind::Scalar;
    n.scalar = text;
    return n;
  }
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"' &&
      text.find_first_of("\\\"", 1) == text.size() - 1 &&
      std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20; })) {
    n.kind = Node::Kind::Scalar;
    n.scalar = text.substr(1, text.size() - 2);
    n.quoted = true;
    return n;
  }
  return std::nullopt;
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
  Node value;
  if (auto simple = simple_value(text, where)) {
    value = std::move(*simple);
  } else {
    value = parse_yaml(text, where.file);
    clear_positions(value, where);
  }
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
    // Counted before any point is checked or made.
    std::vector<std::uint64_t> lengths;
    for (const auto& [path, values] : sw->map) {
      if (!values.is_seq() || values.items.empty())
        throw InputError(values.loc, "sweep." + path,
                         fmt::format("expected a non-empty list of values, found {}", values.describe()));
      lengths.push_back(values.items.size());
    }
    if (const std::uint64_t n = saturating_product(lengths); n > kMaxSweepPoints)
      throw InputError(sw->loc, "sweep",
                       fmt::format("{} axes make {} = {} points; a sweep has at most {}: sweep fewer values per axis, "
                                   "split it over several files, or let `danlu search` find the layout",
                                   lengths.size(), fmt::join(lengths, " x "),
                                   n == std::numeric_limits<std::uint64_t>::max() ? std::string("over 1.8e19")
                                                                                  : fmt::format("{}", n),
                                   kMaxSweepPoints));
    for (size_t i = 0; i < sw->map.size(); ++i) {
      const auto& [path, values] = sw->map[i];
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

namespace {
// Each field of a model's shape has its own ceiling, but together they can
// still describe a model past any physical range. 10^15 parameters is 500x
// the largest trained (about 2T) and a petabyte of weights in FP8.
constexpr double kMaxParams = 1e15;

void check_model_size(const ModelSpec& m, const ParamCounts& params, const Location& at) {
  if (params.total + params.mtp <= kMaxParams) return;
  std::string shape = fmt::format("layers {}, hidden {}, vocab {}", m.layers, m.hidden, m.vocab);
  if (m.moe)
    shape += fmt::format(", moe.experts {}, moe.shared_experts {}, moe.expert_ffn_hidden {}", m.moe->experts,
                         m.moe->shared_experts, m.moe->expert_ffn_hidden);
  else
    shape += fmt::format(", ffn_hidden {}", m.ffn_hidden);
  throw InputError(at, "model",
                   fmt::format("{} parameters, past the {} any model can have (500x the largest trained); from {}",
                               format_quantity(params.total + params.mtp, Quantity::Count),
                               format_quantity(kMaxParams, Quantity::Count), shape));
}
}  // namespace

using readers::merge_model_sources;
using readers::read_model;
using readers::read_training;

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
  check_model_size(s.model, params, root.loc_of("model"));
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

// A million points is a week of full-fidelity DES points or about an hour
// of analytic ones on two cores; past that a sweep is a typo (an axis pasted
// twice) or wants `danlu search`, and would never finish.
const std::uint64_t kMaxSweepPoints = 1'000'000;

std::uint64_t sweep_size(const std::vector<SweepAxis>& axes) {
  if (axes.empty()) return 0;
  std::vector<std::uint64_t> lengths;
  for (const auto& axis : axes) lengths.push_back(axis.values.size());
  return saturating_product(lengths);
}

SweepPoint sweep_point(const std::vector<SweepAxis>& axes, std::uint64_t index) {
  SweepPoint point(axes.size());
  for (size_t a = axes.size(); a-- > 0;) {
    const std::uint64_t k = axes[a].values.size();
    point[a] = {axes[a].path, axes[a].values[index % k]};
    index /= k;
  }
  return point;
}

}  // namespace danlu
