// `danlu validate DIR|FILE…`: every scenario that declares a measured figure,
// predicted and compared; the mean absolute percentage error at the end.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "cli/output.hpp"
#include "sim/loader.hpp"
#include "sim/evaluate.hpp"

namespace danlu {

namespace {
std::vector<std::string> scenario_files(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      std::vector<std::string> here;
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.path().extension() == ".yaml") here.push_back(e.path().string());
      std::sort(here.begin(), here.end());
      files.insert(files.end(), here.begin(), here.end());
    } else {
      files.push_back(p);
    }
  }
  return files;
}
}  // namespace

void add_validate_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("validate", "Compare predictions with the measured figures scenarios declare");
  cmd->footer(
      "Examples:\n"
      "  danlu validate scenarios/calibration\n"
      "  danlu validate scenarios/calibration --engine des --format markdown\n\n"
      "A scenario takes part when it has a `measured:` block (step_s and/or mfu, and a source).");
  struct Options {
    std::vector<std::string> paths;
    std::string format = "table", engine;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("paths", opt->paths, "Directories (searched recursively) or scenario files")->required();
  cmd->add_option("--format", opt->format, "table | json | csv | markdown")->check(CLI::IsMember(kTableFormats));
  cmd->add_option("--engine", opt->engine, "analytic | des (default: each scenario's sim.engine)")
      ->check(CLI::IsMember(engine_names()));
  cmd->callback([&ctx, opt]() {
    Table t;
    t.header = {"scenario", "gpus", "measured s", "predicted s", "error", "measured MFU", "predicted MFU"};
    Json rows = Json::array();
    double sum_abs = 0, worst = 0;
    int n = 0;
    for (const auto& file : scenario_files(opt->paths)) {
      Scenario s = load_scenario(file, ctx.catalog());
      if (!s.measured || !s.measured->step_s) continue;
      Result r = evaluate(s, opt->engine);
      double measured = *s.measured->step_s;
      double err = (r.step.time_s - measured) / measured;
      sum_abs += std::fabs(err);
      worst = std::max(worst, std::fabs(err));
      ++n;
      t.rows.push_back({s.name, std::to_string(s.cluster.gpus), num(measured, 4), num(r.step.time_s, 4),
                        fmt::format("{:+.1f}%", 100 * err),
                        s.measured->mfu ? fmt::format("{:.1f}%", 100 * *s.measured->mfu) : "-",
                        fmt::format("{:.1f}%", 100 * r.mfu)});
      rows.push_back({{"scenario", s.name}, {"gpus", s.cluster.gpus}, {"measured_step_s", measured},
                      {"predicted_step_s", r.step.time_s}, {"error", err}, {"mfu", r.mfu},
                      {"source", s.measured->source}});
    }
    if (n == 0) throw InputError("validate", "no scenario with a measured step_s was found");
    double mape = sum_abs / n;
    if (opt->format == "json") {
      fmt::print("{}\n", Json({{"runs", rows}, {"mape", mape}, {"worst_abs_error", worst}}).dump(2));
      return;
    }
    fmt::print("{}", t.render(opt->format));
    fmt::print("\n{} runs: mean absolute error {:.1f}%, worst {:.1f}%\n", n, 100 * mape, 100 * worst);
  });
}

}  // namespace danlu
