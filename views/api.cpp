#include "views/api.hpp"

#include <fmt/format.h>

#include "scenario/loader.hpp"
#include "sim/evaluate.hpp"
#include "views/result_view.hpp"
#include "workload/model.hpp"

namespace danlu {

std::string point_key(const SweepPoint& point) {
  std::string key;
  for (const auto& [path, value] : point) key += (key.empty() ? "" : ", ") + path + "=" + to_yaml(value);
  return key;
}

SweepPlan plan_sweep(Node tree, const Catalog& cat, const Location& where) {
  const Scenario base = build_scenario(tree, cat);
  if (base.sweep.empty()) throw InputError(where, "sweep", "the scenario has no sweep: block to expand");
  tree.erase("sweep");
  return {std::move(tree), base.sweep};
}

Json sweep_row(const Node& tree, const SweepPoint& point, const Catalog& cat, const std::string& engine,
               const EngineOptions& options) {
  Json row;
  try {
    Node t = tree;
    for (const auto& [path, value] : point) set_path(t, path, value);
    Scenario s = build_scenario(t, cat);
    row = result_json(s, evaluate(s, engine, options));
    row["layout"] = layout_json(s.training);
    row["status"] = row["fits"].get<bool>() ? "ok" : "does-not-fit";
  } catch (const BudgetError& e) {
    if (!e.one_evaluation()) throw;
    row = Json{{"status", "over-budget"}, {"error", e.what()}};
  } catch (const InputError& e) {
    row = Json{{"status", "invalid"}, {"error", e.detail()}};
  } catch (const std::exception& e) {
    row = Json{{"status", "failed"}, {"error", e.what()}};
  }
  Json ordered = Json{{"point", point_key(point)}};
  ordered.update(row);
  return ordered;
}

void fix_overridden_layout(Scenario& s, const std::vector<std::string>& sets) {
  for (const auto& set : sets) {
    const std::string path = set.substr(0, set.find('='));
    if (path == kSearchRecomputePath) s.search.recompute = {s.training.recompute};
    for (const SearchDim& d : search_dims())
      if (path == d.path) s.search.*d.values = {d.given(s.training)};
  }
}

Scenario search_base(const Node& tree, const std::vector<std::string>& sets, const Catalog& cat) {
  const auto load = [&](Node t) {
    for (const auto& set : sets) apply_set(t, set);
    Scenario s = build_scenario(t, cat);
    fix_overridden_layout(s, sets);
    return s;
  };
  try {
    return load(tree);
  } catch (const InputError& e) {
    if (!e.constraint()) throw;
    for (int pp : {1, 2, 4, 8, 16, 32, 64, 128})
      for (int tp : {1, 2, 4, 8, 16, 32, 64}) {
        Node t = tree;
        if (Node* training = t.find("training"))
          for (const char* key : {"parallelism", "micro_batch", "pipeline_schedule", "stage_layers", "pipeline_layout"})
            training->erase(key);
        for (const std::string& set :
             {fmt::format("training.parallelism={{tp: {}, pp: {}}}", tp, pp), std::string("training.micro_batch=1"),
              std::string("training.pipeline_schedule=1f1b")})
          apply_set(t, set);
        try {
          Scenario s = load(t);
          s.warnings.push_back(
              fmt::format("the scenario's own layout does not load ({}); the search starts from "
                          "tp {} pp {} dp {} instead",
                          e.detail(), s.training.par.tp, s.training.par.pp, s.training.par.dp));
          return s;
        } catch (const InputError& other) {
          if (!other.constraint()) throw;
        }
      }
    throw;
  }
}

Json search_rows(const std::vector<Candidate>& best) {
  Json rows = Json::array();
  for (const auto& c : best) {
    Json j = result_json(c.scenario, c.result);
    j["layout"] = layout_json(c.scenario.training);
    rows.push_back(std::move(j));
  }
  return rows;
}

namespace {

Json to_json(const Accelerator& a) {
  Json peak = Json::object();
  for (const auto& p : precision_names())
    if (a.peak(precision_from(p)) > 0) peak[p + "_flops"] = a.peak(precision_from(p));
  return {{"name", a.name},
          {"vendor", a.vendor},
          {"description", a.description},
          {"peak", peak},
          {"hbm_bytes", a.hbm_bytes},
          {"hbm_usable_bytes", a.hbm_usable_bytes},
          {"hbm_bytes_per_s", a.hbm_bytes_per_s},
          {"scale_up_bytes_per_s", a.scale_up_bytes_per_s},
          {"scale_up_links", a.scale_up_links},
          {"idle_w", a.idle_w},
          {"max_w", a.max_w},
          {"launch_year", a.launch_year},
          {"rent_usd_per_hour", a.rent_usd_per_hour},
          {"rent_list_usd_per_hour", a.rent_list_usd_per_hour},
          {"rent_basis", kRentBasis}};
}

Json to_json(const System& s) {
  const char* kind = s.scale_up == ScaleUpKind::Switched         ? "switched"
                     : s.scale_up == ScaleUpKind::FullyConnected ? "fully-connected"
                                                                 : "torus";
  return {{"name", s.name},
          {"description", s.description},
          {"accelerator", s.accelerator},
          {"unit", to_name(s.unit)},
          {"accelerators_per_node", s.accelerators_per_node},
          {"nodes_per_rack", s.nodes_per_rack},
          {"scale_up",
           {{"kind", kind},
            {"domain", s.scale_up_domain},
            {"torus_dims", s.torus_dims},
            {"latency_s", s.scale_up_latency_s}}},
          {"node_max_w", s.node_max_w},
          {"rack_overhead_w", s.rack_overhead_w},
          {"cooling", to_name(s.default_cooling)},
          {"fabric", s.default_fabric},
          {"nics_per_accelerator", s.nics_per_accelerator},
          {"for_sale", s.for_sale},
          {"list_price_usd", s.for_sale ? Json(s.list_price_usd) : Json(nullptr)}};
}

Json to_json(const Fabric& f) {
  return {{"name", f.name},
          {"description", f.description},
          {"kind", to_name(f.kind)},
          {"port_bytes_per_s", f.port_bytes_per_s},
          {"switch_radix", f.switch_radix},
          {"switch_latency_s", f.switch_latency_s},
          {"nic_latency_s", f.nic_latency_s},
          {"switch_w", f.switch_w},
          {"optics_w_per_port", f.optics_w_per_port},
          {"nic_w", f.nic_w},
          {"usd_per_port", f.usd_per_port}};
}

}  // namespace

// A preset is shown as the model it defines, with its parameter counts.
Json catalog_model_json(const Catalog& cat, const std::string& name) {
  Node tree = parse_yaml("name: preset-view\ncluster: {system: dgx-h100, gpus: 8}\n", "catalog");
  Node model;
  model.kind = Node::Kind::Map;
  Node preset;
  preset.kind = Node::Kind::Scalar;
  preset.scalar = name;
  model.set("preset", preset);
  tree.set("model", model);
  Scenario s = build_scenario(tree, cat);
  const ModelSpec& m = s.model;
  ParamCounts p = count_params(m);
  Json j = {{"name", name},
            {"layers", m.layers},
            {"hidden", m.hidden},
            {"ffn_hidden", m.ffn_hidden},
            {"heads", m.heads},
            {"kv_heads", m.kv_heads},
            {"head_dim", m.head_dim},
            {"vocab", m.vocab},
            {"seq_len", m.seq_len},
            {"activation", std::string(to_string(m.activation))},
            {"tied_embeddings", m.tied_embeddings},
            {"params", p.total},
            {"active_params", p.active}};
  if (m.moe)
    j["moe"] = {{"experts", m.moe->experts},
                {"top_k", m.moe->top_k},
                {"shared_experts", m.moe->shared_experts},
                {"expert_ffn_hidden", m.moe->expert_ffn_hidden},
                {"dense_layers", m.moe->dense_layers}};
  return j;
}

std::vector<std::string> catalog_names(const std::string& kind, const Catalog& cat) {
  if (kind == "accelerators") return cat.accelerator_names();
  if (kind == "systems") return cat.system_names();
  if (kind == "fabrics") return cat.fabric_names();
  if (kind == "models") return cat.model_names();
  throw InputError("catalog", fmt::format("unknown kind \"{}\"{}", kind,
                                          suggestion(kind, {"accelerators", "systems", "fabrics", "models"})));
}

Json catalog_entry(const std::string& kind, const std::string& name, const Catalog& cat) {
  Location where{"command line", 0, 0};
  if (kind == "accelerators") return to_json(cat.accelerator(name, where, "catalog accelerators"));
  if (kind == "systems") return to_json(cat.system(name, where, "catalog systems"));
  if (kind == "fabrics") return to_json(cat.fabric(name, where, "catalog fabrics"));
  catalog_names(kind, cat);  // an unknown kind is an error
  cat.model_preset(name, where, "catalog models");
  return catalog_model_json(cat, name);
}

}  // namespace danlu
