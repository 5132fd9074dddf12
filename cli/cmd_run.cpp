// `danlu run FILE`: evaluate one scenario.
#include <fmt/format.h>

#include "cli/app.hpp"
#include "cli/result_view.hpp"
#include "sim/loader.hpp"

namespace danlu {

void add_run_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("run", "Simulate one training step of a scenario and report time, memory and rates");
  cmd->footer(
      "Examples:\n"
      "  danlu run scenarios/llama3-405b-h100.yaml\n"
      "  danlu run scenarios/llama3-405b-h100.yaml --set training.precision=fp8 --format json\n"
      "  danlu run my.yaml --set cluster.gpus=8192 --set training.parallelism.dp=64 --strict\n"
      "  danlu run scenarios/llama3-405b-h100.yaml --engine des --trace step.json\n\n"
      "Exit status: 0 done (also when the model does not fit), 2 bad scenario, 3 with --strict when it does not fit,\n"
      "4 stopped at --max-seconds.");
  struct Options {
    std::string file, format = "table", engine;
    std::vector<std::string> sets;
    bool strict = false;
    EngineOptions engine_options;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("file", opt->file, "Scenario file")->required();
  cmd->add_option("--set", opt->sets, "Override a field: PATH=VALUE (repeatable)");
  cmd->add_option("--format", opt->format, "table | json | csv | markdown")->check(CLI::IsMember(kTableFormats));
  cmd->add_option("--engine", opt->engine, "analytic | des (default: the scenario's sim.engine)")
      ->check(CLI::IsMember(engine_names()));
  cmd->add_option("--trace", opt->engine_options.trace_path,
                  "DES only: write the step's timeline (Chrome trace-event JSON; open in Perfetto or chrome://tracing)");
  cmd->add_flag("--strict", opt->strict, "Exit with status 3 when the model does not fit in memory");
  add_budget_options(cmd, opt->engine_options);
  cmd->callback([&ctx, opt]() {
    Scenario s = load_scenario(opt->file, ctx.catalog(), opt->sets);
    std::string engine = opt->engine.empty() ? s.sim.engine : opt->engine;
    if (!opt->engine_options.trace_path.empty() && engine != "des")
      throw InputError("--trace", "a timeline needs the DES engine; add --engine des");
    Result r = evaluate(s, engine, opt->engine_options);
    if (opt->format == "table") fmt::print("{}", result_text(s, r));
    else fmt::print("{}", render_rows({result_json(s, r)}, opt->format));
    if (opt->strict && !r.memory.fits()) ctx.exit_code = 3;
  });
}

}  // namespace danlu
