// `danlu report FILE… -o report.html`: one self-contained page with charts.
#include <fstream>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "core/output_file.hpp"
#include "scenario/loader.hpp"
#include "views/report_html.hpp"
#include "views/result_view.hpp"

namespace danlu {

void add_report_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("report", "Write a self-contained HTML report with charts for one or more scenarios");
  cmd->footer(
      "Examples:\n"
      "  danlu report scenarios/llama3-405b-h100.yaml -o report.html\n"
      "  danlu report scenarios/compare/*.yaml --engine des -o compare.html\n\n"
      "The page embeds its data and drawing code: it opens offline in any browser.");
  struct Options {
    std::vector<std::string> files, sets;
    EngineOptions engine_options;
    std::string output = "report.html", engine, title = "danlu report";
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("files", opt->files, "Scenario files")->required()->expected(1, -1);
  cmd->add_option("-o,--output", opt->output, "HTML file to write (default report.html)");
  cmd->add_option("--set", opt->sets, "Override a field in every scenario: PATH=VALUE (repeatable)");
  cmd->add_option("--engine", opt->engine,
                  "analytic | des (default: each scenario's sim.engine); des draws power from the timeline")
      ->check(CLI::IsMember(engine_names()));
  cmd->add_option("--title", opt->title, "Page title");
  add_budget_options(cmd, opt->engine_options);
  cmd->callback([&ctx, opt]() {
    refuse_output_over_input(opt->output, opt->files, "--output");
    const auto start = std::chrono::steady_clock::now();
    std::vector<Json> results;
    for (const auto& f : opt->files) {
      Scenario s = load_scenario(f, ctx.catalog(), opt->sets);
      results.push_back(result_json(s, evaluate(s, opt->engine, remaining_budget(opt->engine_options, start))));
    }
    write_output_file(opt->output, report_html(results, opt->title));
    fmt::print("wrote {} ({} scenario{})\n", opt->output, results.size(), results.size() == 1 ? "" : "s");
  });
}

}  // namespace danlu
