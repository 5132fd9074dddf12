// `danlu catalog [KIND] [NAME]`: what the built-in (and --catalog) entries hold.
#include <fmt/format.h>

#include "cli/app.hpp"
#include "cli/output.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "models/transformer.hpp"
#include "sim/loader.hpp"

namespace danlu {

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
          {"rent_usd_per_hour", a.rent_usd_per_hour}};
}

Json to_json(const System& s) {
  const char* kind = s.scale_up == ScaleUpKind::Switched ? "switched"
                     : s.scale_up == ScaleUpKind::FullyConnected ? "fully-connected" : "torus";
  return {{"name", s.name},
          {"description", s.description},
          {"accelerator", s.accelerator},
          {"unit", s.unit},
          {"accelerators_per_node", s.accelerators_per_node},
          {"nodes_per_rack", s.nodes_per_rack},
          {"scale_up", {{"kind", kind}, {"domain", s.scale_up_domain}, {"torus_dims", s.torus_dims},
                        {"latency_s", s.scale_up_latency_s}}},
          {"node_max_w", s.node_max_w},
          {"rack_overhead_w", s.rack_overhead_w},
          {"cooling", s.default_cooling},
          {"fabric", s.default_fabric},
          {"nics_per_accelerator", s.nics_per_accelerator},
          {"list_price_usd", s.list_price_usd}};
}

Json to_json(const Fabric& f) {
  return {{"name", f.name},
          {"description", f.description},
          {"kind", f.kind},
          {"port_bytes_per_s", f.port_bytes_per_s},
          {"switch_radix", f.switch_radix},
          {"switch_latency_s", f.switch_latency_s},
          {"nic_latency_s", f.nic_latency_s},
          {"switch_w", f.switch_w},
          {"optics_w_per_port", f.optics_w_per_port},
          {"nic_w", f.nic_w},
          {"usd_per_port", f.usd_per_port}};
}

// A preset is shown as the model it defines, with its parameter counts.
Json model_json(const Catalog& cat, const std::string& name) {
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
  Json j = {{"name", name},          {"layers", m.layers},     {"hidden", m.hidden},
            {"ffn_hidden", m.ffn_hidden}, {"heads", m.heads}, {"kv_heads", m.kv_heads},
            {"head_dim", m.head_dim}, {"vocab", m.vocab},     {"seq_len", m.seq_len},
            {"activation", std::string(to_string(m.activation))},
            {"tied_embeddings", m.tied_embeddings},
            {"params", p.total},     {"active_params", p.active}};
  if (m.moe)
    j["moe"] = {{"experts", m.moe->experts}, {"top_k", m.moe->top_k},
                {"shared_experts", m.moe->shared_experts},
                {"expert_ffn_hidden", m.moe->expert_ffn_hidden}, {"dense_layers", m.moe->dense_layers}};
  return j;
}

Table summary(const std::string& kind, const Catalog& cat) {
  Table t;
  auto gb = [](double b) { return num(b / 1e9, 3); };
  auto tf = [](const Accelerator& a, Precision p) { return a.peak(p) > 0 ? num(a.peak(p) / 1e12, 4) : "-"; };
  if (kind == "accelerators") {
    t.header = {"name", "vendor", "fp4", "fp8", "bf16 TFLOP/s", "HBM GB", "HBM TB/s", "scale-up GB/s each way", "max W", "$/h"};
    for (const auto& n : cat.accelerator_names()) {
      const auto& a = cat.accelerator(n);
      t.rows.push_back({n, a.vendor, tf(a, Precision::fp4), tf(a, Precision::fp8), tf(a, Precision::bf16),
                        gb(a.hbm_bytes), num(a.hbm_bytes_per_s / 1e12, 3), num(a.scale_up_bytes_per_s / 1e9, 3),
                        num(a.max_w, 4), num(a.rent_usd_per_hour, 3)});
    }
  } else if (kind == "systems") {
    t.header = {"name", "accelerator", "per node", "scale-up domain", "node kW", "cooling", "fabric", "price USD", "per"};
    for (const auto& n : cat.system_names()) {
      const auto& s = cat.system(n);
      t.rows.push_back({n, s.accelerator, std::to_string(s.accelerators_per_node), std::to_string(s.scale_up_domain),
                        num(s.node_max_w / 1e3, 3), s.default_cooling, s.default_fabric, num(s.list_price_usd, 7),
                        s.unit});
    }
  } else if (kind == "fabrics") {
    t.header = {"name", "kind", "port Gb/s each way", "radix", "hop ns", "switch W", "optics W/port", "USD/port"};
    for (const auto& n : cat.fabric_names()) {
      const auto& f = cat.fabric(n);
      t.rows.push_back({n, f.kind, num(f.port_bytes_per_s * 8 / 1e9, 4), std::to_string(f.switch_radix),
                        num(f.switch_latency_s * 1e9, 4), num(f.switch_w, 4), num(f.optics_w_per_port, 3),
                        num(f.usd_per_port, 5)});
    }
  } else {
    t.header = {"name", "layers", "hidden", "heads", "kv", "seq", "params", "active", "moe"};
    for (const auto& n : cat.model_names()) {
      Json j = model_json(cat, n);
      std::string moe = j.contains("moe") ? fmt::format("{}x top{}", j["moe"]["experts"].get<int>(),
                                                       j["moe"]["top_k"].get<int>())
                                          : "-";
      t.rows.push_back({n, j["layers"].dump(), j["hidden"].dump(), j["heads"].dump(), j["kv_heads"].dump(),
                        j["seq_len"].dump(), format_quantity(j["params"].get<double>(), Quantity::Count),
                        format_quantity(j["active_params"].get<double>(), Quantity::Count), moe});
    }
  }
  return t;
}

Json entry(const std::string& kind, const std::string& name, const Catalog& cat) {
  Location where{"command line", 0, 0};
  if (kind == "accelerators") return to_json(cat.accelerator(name, where, "catalog accelerators"));
  if (kind == "systems") return to_json(cat.system(name, where, "catalog systems"));
  if (kind == "fabrics") return to_json(cat.fabric(name, where, "catalog fabrics"));
  cat.model_preset(name, where, "catalog models");
  return model_json(cat, name);
}

std::vector<std::string> names(const std::string& kind, const Catalog& cat) {
  if (kind == "accelerators") return cat.accelerator_names();
  if (kind == "systems") return cat.system_names();
  if (kind == "fabrics") return cat.fabric_names();
  return cat.model_names();
}

}  // namespace

void add_catalog_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("catalog", "List the built-in accelerators, systems, fabrics and model presets");
  cmd->footer(
      "Examples:\n"
      "  danlu catalog                       # every kind, names only\n"
      "  danlu catalog accelerators          # a table of all accelerators\n"
      "  danlu catalog systems gb200-nvl72   # one entry, every field\n"
      "  danlu catalog models --format json");
  struct Options {
    std::string kind, name, format = "table";
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("kind", opt->kind, "accelerators | systems | fabrics | models")
      ->check(CLI::IsMember({"accelerators", "systems", "fabrics", "models"}));
  cmd->add_option("name", opt->name, "One entry to show in full");
  cmd->add_option("--format", opt->format, "table | json | csv | markdown")->check(CLI::IsMember(kTableFormats));
  cmd->callback([&ctx, opt]() {
    const auto& [kind, name, format] = *opt;
    const Catalog& cat = ctx.catalog();
    if (kind.empty()) {
      if (format == "json") {
        Json j;
        for (const char* k : {"accelerators", "systems", "fabrics", "models"}) j[k] = names(k, cat);
        fmt::print("{}\n", j.dump(2));
        return;
      }
      for (const char* k : {"accelerators", "systems", "fabrics", "models"}) {
        auto list = names(k, cat);
        std::string joined;
        for (const auto& n : list) joined += (joined.empty() ? "" : ", ") + n;
        fmt::print("{} ({}): {}\n", k, list.size(), joined);
      }
      return;
    }
    if (!name.empty()) {
      Json j = entry(kind, name, cat);
      if (format == "json") fmt::print("{}\n", j.dump(2));
      else fmt::print("{}", key_value_table(j).render(format));
      return;
    }
    if (format == "json") {
      Json arr = Json::array();
      for (const auto& n : names(kind, cat)) arr.push_back(entry(kind, n, cat));
      fmt::print("{}\n", arr.dump(2));
      return;
    }
    fmt::print("{}", summary(kind, cat).render(format));
  });
}

}  // namespace danlu
