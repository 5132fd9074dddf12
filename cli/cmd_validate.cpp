// `danlu validate DIR|FILE…`: every scenario that declares a measured figure,
// predicted and compared; the mean absolute percentage error overall and by
// system, precision and dense/MoE at the end.
#include <fmt/format.h>

#include "cli/app.hpp"
#include "drivers/validation.hpp"
#include "sim/engine.hpp"
#include "views/output.hpp"

namespace danlu {

namespace {

Json summary_json(const ErrorSummary& s) {
  return {{"n", s.n},
          {"mape", s.mape},
          {"mean_signed_error", s.signed_mean},
          {"worst_abs_error", s.worst},
          {"refused", s.refused}};
}

}  // namespace

Table error_summary_table(const std::vector<ValidationRow>& rows) {
  Table t;
  t.header = {"group", "value", "runs", "MAPE", "mean error", "worst", "refused"};
  auto add = [&](const std::string& group, const std::map<std::string, ErrorSummary>& by) {
    for (const auto& [k, s] : by)
      t.rows.push_back({group, k, std::to_string(s.n), fmt::format("{:.1f}%", 100 * s.mape),
                        fmt::format("{:+.1f}%", 100 * s.signed_mean), fmt::format("{:.1f}%", 100 * s.worst),
                        std::to_string(s.refused)});
  };
  add("all", {{"all", summarize(rows)}});
  add("kind", summarize_by(rows, "kind"));
  add("layers", summarize_by(rows, "layers"));
  add("system", summarize_by(rows, "system"));
  add("precision", summarize_by(rows, "precision"));
  return t;
}

void add_validate_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("validate", "Compare predictions with the measured figures scenarios declare");
  cmd->footer(
      "Examples:\n"
      "  danlu validate scenarios/calibration\n"
      "  danlu validate scenarios/validation/modern --summary\n"
      "  danlu validate scenarios/calibration --engine des --format markdown\n\n"
      "A scenario takes part when it has a `measured:` block: tokens_per_s_per_gpu (compared as\n"
      "throughput) or step_s (compared as step time), and a source. Errors are predicted/measured - 1;\n"
      "MAPE caps each row at 100%, and a scenario danlu refuses counts as 100%.");
  struct Options {
    std::vector<std::string> paths;
    std::string format = "table", engine;
    bool summary = false;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("paths", opt->paths, "Directories (searched recursively) or scenario files")->required();
  cmd->add_option("--format", opt->format, "table | json | csv | markdown")->check(CLI::IsMember(kTableFormats));
  cmd->add_option("--engine", opt->engine, "analytic | des (default: each scenario's sim.engine)")
      ->check(CLI::IsMember(engine_names()));
  cmd->add_flag("--summary", opt->summary, "Print only the error tables, not each scenario");
  cmd->callback([&ctx, opt]() {
    const auto cases = load_validation_cases(opt->paths, ctx.catalog());
    if (cases.empty())
      throw InputError("validate", "no scenario with a measured step_s or tokens_per_s_per_gpu was found");
    const auto rows = validate_cases(cases, opt->engine);

    Table t;
    t.header = {"scenario", "system", "precision", "gpus", "measure", "measured", "predicted", "error", "note"};
    Json runs = Json::array();
    for (const auto& r : rows) {
      const ValidationCase& c = *r.c;
      const char* measure = c.throughput ? "tokens/s/GPU" : "step s";
      std::string note = !c.refusal.empty() ? "refused" : r.fits ? "" : "does not fit";
      t.rows.push_back({c.name, c.system, c.precision, std::to_string(c.gpus), measure, num(c.measured, 4),
                        c.refusal.empty() ? num(r.predicted, 4) : "-",
                        c.refusal.empty() ? fmt::format("{:+.1f}%", 100 * r.error) : "100%", note});
      Json j = {{"scenario", c.name},
                {"file", c.file},
                {"system", c.system},
                {"precision", c.precision},
                {"moe", c.moe},
                {"gpus", c.gpus},
                {"measure", c.throughput ? "tokens_per_s_per_gpu" : "step_s"},
                {"measured", c.measured},
                {"abs_error", r.abs_error}};
      if (c.refusal.empty()) {
        j["predicted"] = r.predicted;
        j["error"] = r.error;
        j["fits"] = r.fits;
      } else {
        j["refused"] = c.refusal;
      }
      runs.push_back(j);
    }
    const ErrorSummary all = summarize(rows);
    const auto by_system = summarize_by(rows, "system"), by_precision = summarize_by(rows, "precision"),
               by_kind = summarize_by(rows, "kind"), by_layers = summarize_by(rows, "layers");
    if (opt->format == "json") {
      Json groups;
      for (const auto& [name, by] :
           {std::pair{"system", &by_system}, {"precision", &by_precision}, {"kind", &by_kind}, {"layers", &by_layers}})
        for (const auto& [k, s] : *by) groups[name][k] = summary_json(s);
      Json out = {{"runs", runs},
                  {"mape", all.mape},
                  {"worst_abs_error", all.worst},
                  {"summary", summary_json(all)},
                  {"groups", groups}};
      fmt::print("{}\n", out.dump(2));
      return;
    }
    if (!opt->summary) fmt::print("{}\n", t.render(opt->format));
    fmt::print("{}", error_summary_table(rows).render(opt->format));
    fmt::print("\n{} runs: mean absolute error {:.1f}%, worst {:.1f}%{}\n", all.n, 100 * all.mape, 100 * all.worst,
               all.refused ? fmt::format(", {} refused", all.refused) : "");
  });
}

}  // namespace danlu
