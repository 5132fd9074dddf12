// `danlu compare A.yaml B.yaml …`: scenarios side by side, the best value of
// each comparable row marked among those that fit.
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "core/units.hpp"
#include "scenario/loader.hpp"
#include "views/result_view.hpp"

namespace danlu {

namespace {

constexpr double kNotPossible = std::numeric_limits<double>::max();

// A row of the side-by-side view: how to read it from a result and which way is better.
struct Row {
  const char* label;
  int better;  // -1 lower is better, +1 higher, 0 not comparable
  std::string (*text)(const Scenario&, const Result&);
  double (*value)(const Scenario&, const Result&);
};

const std::vector<Row>& rows() {
  static const std::vector<Row> r = {
      {"system", 0, [](const Scenario& s, const Result&) { return s.cluster.system.name; }, nullptr},
      {"gpus", 0, [](const Scenario& s, const Result&) { return std::to_string(s.cluster.gpus); }, nullptr},
      {"precision", 0, [](const Scenario& s, const Result&) { return std::string(to_string(s.training.precision)); },
       nullptr},
      {"layout", 0,
       [](const Scenario& s, const Result&) {
         const auto& p = s.training.par;
         return fmt::format("tp{} pp{} dp{}{}{}{}", p.tp, p.pp, p.dp, p.cp > 1 ? fmt::format(" cp{}", p.cp) : "",
                            p.ep > 1 ? fmt::format(" ep{}", p.ep) : "", p.vpp > 1 ? fmt::format(" v{}", p.vpp) : "");
       },
       nullptr},
      {"memory GB/GPU", 0,
       [](const Scenario&, const Result& r) {
         return fmt::format("{:.0f}/{:.0f}{}", r.memory.total() / 1e9, r.memory.capacity_bytes / 1e9,
                            r.memory.fits() ? "" : " NO FIT");
       },
       nullptr},
      {"step s", -1, [](const Scenario&, const Result& r) { return fmt::format("{:.3f}", r.step.time_s); },
       [](const Scenario&, const Result& r) { return r.step.time_s; }},
      {"exposed comm %", -1,
       [](const Scenario&, const Result& r) {
         return fmt::format("{:.1f}", 100 * r.step.exposed_comm_s / r.step.time_s);
       },
       [](const Scenario&, const Result& r) { return r.step.exposed_comm_s / r.step.time_s; }},
      {"bubble %", -1,
       [](const Scenario&, const Result& r) { return fmt::format("{:.1f}", 100 * r.step.bubble_s / r.step.time_s); },
       [](const Scenario&, const Result& r) { return r.step.bubble_s / r.step.time_s; }},
      {"tokens/s", +1,
       [](const Scenario&, const Result& r) { return format_quantity(r.tokens_per_s, Quantity::Count); },
       [](const Scenario&, const Result& r) { return r.tokens_per_s; }},
      {"TFLOP/s per GPU", +1, [](const Scenario&, const Result& r) { return fmt::format("{:.0f}", r.tflops_per_gpu); },
       [](const Scenario&, const Result& r) { return r.tflops_per_gpu; }},
      {"MFU %", +1, [](const Scenario&, const Result& r) { return fmt::format("{:.1f}", 100 * r.mfu); },
       [](const Scenario&, const Result& r) { return r.mfu; }},
      {"days", -1, [](const Scenario&, const Result& r) { return fmt::format("{:.1f}", r.days); },
       [](const Scenario&, const Result& r) { return r.days; }},
      {"GPU-hours", -1, [](const Scenario&, const Result& r) { return format_quantity(r.gpu_hours, Quantity::Count); },
       [](const Scenario&, const Result& r) { return r.gpu_hours; }},
      {"facility MW", -1,
       [](const Scenario&, const Result& r) { return fmt::format("{:.1f}", r.power.facility_w / 1e6); },
       [](const Scenario&, const Result& r) { return r.power.facility_w; }},
      {"energy MWh", -1, [](const Scenario&, const Result& r) { return fmt::format("{:.0f}", r.power.energy_mwh); },
       [](const Scenario&, const Result& r) { return r.power.energy_mwh; }},
      {"rack kW, cooling", 0,
       [](const Scenario&, const Result& r) {
         return fmt::format("{:.0f} {}{}", r.power.rack_w / 1e3, to_name(r.power.cooling),
                            r.power.coolable ? "" : " NO");
       },
       nullptr},
      {"rent USD", -1,
       [](const Scenario&, const Result& r) { return format_quantity(r.cost.rent_usd, Quantity::Count); },
       [](const Scenario&, const Result& r) { return r.cost.rent_usd; }},
      // A system that is not sold has no buy figures: n/a, never the best.
      {"buy USD", -1,
       [](const Scenario&, const Result& r) {
         return r.cost.buy_possible ? format_quantity(r.cost.buy_usd, Quantity::Count) : "n/a";
       },
       [](const Scenario&, const Result& r) { return r.cost.buy_possible ? r.cost.buy_usd : kNotPossible; }},
      {"capex USD", -1,
       [](const Scenario&, const Result& r) {
         return r.cost.buy_possible ? format_quantity(r.cost.capex_usd, Quantity::Count) : "n/a";
       },
       [](const Scenario&, const Result& r) { return r.cost.buy_possible ? r.cost.capex_usd : kNotPossible; }},
      {"USD per M tokens", -1,
       [](const Scenario&, const Result& r) { return fmt::format("{:.2f}", r.cost.usd_per_million_tokens); },
       [](const Scenario&, const Result& r) { return r.cost.usd_per_million_tokens; }},
  };
  return r;
}

}  // namespace

void add_compare_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("compare", "Evaluate several scenarios and show them side by side");
  cmd->footer(
      "Examples:\n"
      "  danlu compare scenarios/llama3-405b-h100.yaml scenarios/llama3-405b-gb200-nvl72.yaml\n"
      "  danlu compare scenarios/compare/*.yaml --format markdown\n"
      "  danlu compare a.yaml b.yaml --set training.precision=fp8 --format csv\n\n"
      "The best value of each comparable row among the scenarios that fit in memory is marked with *; a\n"
      "scenario that does not fit shows NO FIT and is never marked. json and csv give one object/row per scenario.");
  struct Options {
    std::vector<std::string> files, sets;
    EngineOptions engine_options;
    std::string format = "table", engine;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("files", opt->files, "Scenario files")->required()->expected(1, -1);
  cmd->add_option("--set", opt->sets, "Override a field in every scenario: PATH=VALUE (repeatable)");
  cmd->add_option("--format", opt->format, "table | json | csv | markdown")->check(CLI::IsMember(kTableFormats));
  cmd->add_option("--engine", opt->engine, "analytic | des (default: each scenario's sim.engine)")
      ->check(CLI::IsMember(engine_names()));
  add_budget_options(cmd, opt->engine_options);
  cmd->callback([&ctx, opt]() {
    const auto start = std::chrono::steady_clock::now();
    std::vector<Scenario> scenarios;
    std::vector<Result> results;
    for (const auto& f : opt->files) {
      scenarios.push_back(load_scenario(f, ctx.catalog(), opt->sets));
      results.push_back(evaluate(scenarios.back(), opt->engine, remaining_budget(opt->engine_options, start)));
    }
    if (opt->format == "json" || opt->format == "csv") {
      std::vector<Json> rows_json;
      for (size_t i = 0; i < scenarios.size(); ++i) rows_json.push_back(result_json(scenarios[i], results[i]));
      fmt::print("{}", opt->format == "json" ? Json(rows_json).dump(2) + "\n" : render_rows(rows_json, "csv"));
      return;
    }
    Table t;
    t.header.push_back("");
    for (const auto& s : scenarios) t.header.push_back(s.name);
    for (const Row& row : rows()) {
      std::vector<std::string> line{row.label};
      // Only a scenario that can run competes: one that does not fit in
      // memory, or a figure that is n/a (a chip not sold), is never best.
      std::optional<size_t> best;
      for (size_t i = 0; i < scenarios.size(); ++i) {
        line.push_back(row.text(scenarios[i], results[i]));
        if (!row.better || !results[i].memory.fits()) continue;
        const double v = row.value(scenarios[i], results[i]);
        if (v == kNotPossible) continue;
        if (!best || row.better * (v - row.value(scenarios[*best], results[*best])) > 0) best = i;
      }
      if (best && scenarios.size() > 1) line[*best + 1] += " *";
      t.rows.push_back(std::move(line));
    }
    fmt::print("{}", t.render(opt->format));
  });
}

}  // namespace danlu
