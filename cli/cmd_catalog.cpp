// `danlu catalog [KIND] [NAME]`: what the built-in (and --catalog) entries hold.
#include <fmt/format.h>

#include "cli/app.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "scenario/loader.hpp"
#include "views/api.hpp"
#include "views/output.hpp"
#include "workload/model.hpp"

namespace danlu {

namespace {

Table summary(const std::string& kind, const Catalog& cat) {
  Table t;
  auto gb = [](double b) { return num(b / 1e9, 3); };
  auto tf = [](const Accelerator& a, Precision p) { return a.peak(p) > 0 ? num(a.peak(p) / 1e12, 4) : "-"; };
  if (kind == "accelerators") {
    t.header = {"name",         "vendor",       "fp4",      "fp8",
                "bf16 TFLOP/s", "HBM GB",       "HBM TB/s", "scale-up GB/s each way",
                "max W",        "$/h reserved", "$/h list"};
    for (const auto& n : cat.accelerator_names()) {
      const auto& a = cat.accelerator(n);
      t.rows.push_back({n, a.vendor, tf(a, Precision::fp4), tf(a, Precision::fp8), tf(a, Precision::bf16),
                        gb(a.hbm_bytes), num(a.hbm_bytes_per_s / 1e12, 3), num(a.scale_up_bytes_per_s / 1e9, 3),
                        num(a.max_w, 4), num(a.rent_usd_per_hour, 3), num(a.rent_list_usd_per_hour, 4)});
    }
  } else if (kind == "systems") {
    t.header = {"name",   "accelerator", "per node", "scale-up domain", "node kW", "cooling",
                "fabric", "price USD",   "per"};
    for (const auto& n : cat.system_names()) {
      const auto& s = cat.system(n);
      t.rows.push_back({n, s.accelerator, std::to_string(s.accelerators_per_node), std::to_string(s.scale_up_domain),
                        num(s.node_max_w / 1e3, 3), std::string(to_name(s.default_cooling)), s.default_fabric,
                        s.for_sale ? num(s.list_price_usd, 7) : "not sold", std::string(to_name(s.unit))});
    }
  } else if (kind == "fabrics") {
    t.header = {"name", "kind", "port Gb/s each way", "radix", "hop ns", "switch W", "optics W/port", "USD/port"};
    for (const auto& n : cat.fabric_names()) {
      const auto& f = cat.fabric(n);
      t.rows.push_back({n, std::string(to_name(f.kind)), num(f.port_bytes_per_s * 8 / 1e9, 4),
                        std::to_string(f.switch_radix), num(f.switch_latency_s * 1e9, 4), num(f.switch_w, 4),
                        num(f.optics_w_per_port, 3), num(f.usd_per_port, 5)});
    }
  } else {
    t.header = {"name", "layers", "hidden", "heads", "kv", "seq", "params", "active", "moe"};
    for (const auto& n : cat.model_names()) {
      Json j = catalog_model_json(cat, n);
      std::string moe = j.contains("moe")
                            ? fmt::format("{}x top{}", j["moe"]["experts"].get<int>(), j["moe"]["top_k"].get<int>())
                            : "-";
      t.rows.push_back({n, j["layers"].dump(), j["hidden"].dump(), j["heads"].dump(), j["kv_heads"].dump(),
                        j["seq_len"].dump(), format_quantity(j["params"].get<double>(), Quantity::Count),
                        format_quantity(j["active_params"].get<double>(), Quantity::Count), moe});
    }
  }
  return t;
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
        for (const char* k : {"accelerators", "systems", "fabrics", "models"}) j[k] = catalog_names(k, cat);
        fmt::print("{}\n", j.dump(2));
        return;
      }
      for (const char* k : {"accelerators", "systems", "fabrics", "models"}) {
        auto list = catalog_names(k, cat);
        std::string joined;
        for (const auto& n : list) joined += (joined.empty() ? "" : ", ") + n;
        fmt::print("{} ({}): {}\n", k, list.size(), joined);
      }
      return;
    }
    if (!name.empty()) {
      Json j = catalog_entry(kind, name, cat);
      if (format == "json")
        fmt::print("{}\n", j.dump(2));
      else
        fmt::print("{}", key_value_table(j).render(format));
      return;
    }
    if (format == "json") {
      Json arr = Json::array();
      for (const auto& n : catalog_names(kind, cat)) arr.push_back(catalog_entry(kind, n, cat));
      fmt::print("{}\n", arr.dump(2));
      return;
    }
    fmt::print("{}", summary(kind, cat).render(format));
  });
}

}  // namespace danlu
