// `danlu run FILE`: evaluate one scenario.
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "core/units.hpp"
#include "scenario/loader.hpp"
#include "views/result_view.hpp"

namespace danlu {

namespace {
// "0-7,64" -> 0..7 and 64, each a rank of the cluster.
std::vector<int> parse_ranks(const std::string& text, int gpus) {
  std::vector<int> ranks;
  for (const std::string& part : split(text, ',')) {
    const size_t dash = part.find('-');
    long first = -1, last = -1;
    try {
      size_t used = 0;
      first = std::stol(part.substr(0, dash), &used);
      if (used != part.substr(0, dash).size()) first = -1;
      last = first;
      if (dash != std::string::npos) {
        last = std::stol(part.substr(dash + 1), &used);
        if (used != part.size() - dash - 1) last = -1;
      }
    } catch (const std::exception&) {
      first = -1;
    }
    if (first < 0 || last < first || last >= gpus)
      throw InputError("--trace-ranks",
                       fmt::format("expected ranks or ranges from 0 to {} like 0-7,64, found \"{}\"", gpus - 1, part));
    for (long r = first; r <= last; ++r) ranks.push_back(static_cast<int>(r));
  }
  return ranks;
}
}  // namespace

void add_run_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("run", "Simulate one training step of a scenario and report time, memory and rates");
  cmd->footer(
      "Examples:\n"
      "  danlu run scenarios/llama3-405b-h100.yaml\n"
      "  danlu run scenarios/llama3-405b-h100.yaml --set training.precision=fp8 --format json\n"
      "  danlu run my.yaml --set cluster.gpus=8192 --set training.parallelism.dp=64 --strict\n"
      "  danlu run scenarios/llama3-405b-h100.yaml --engine des --trace step.json\n"
      "  danlu run big.yaml --engine des --trace step.json.gz --trace-ranks 0-7 --trace-window 0:2\n\n"
      "A model that does not fit is a result (exit status 0) unless --strict makes it 3; `danlu --help` lists\n"
      "every exit status.");
  struct Options {
    std::string file, format = "table", engine;
    std::vector<std::string> sets;
    bool strict = false;
    std::string trace_ranks, trace_window;
    EngineOptions engine_options;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("file", opt->file, "Scenario file")->required();
  cmd->add_option("--set", opt->sets, "Override a field: PATH=VALUE (repeatable)");
  cmd->add_option("--format", opt->format, "table | json | csv | markdown")->check(CLI::IsMember(kTableFormats));
  cmd->add_option("--engine", opt->engine, "analytic | des (default: the scenario's sim.engine)")
      ->check(CLI::IsMember(engine_names()));
  cmd->add_option(
      "--trace", opt->engine_options.trace_path,
      "DES only: write the step's timeline (Chrome trace-event JSON; open in Perfetto or chrome://tracing)");
  cmd->add_option(
      "--trace-ranks", opt->trace_ranks,
      "With --trace: only these ranks, e.g. 0-7,64 (a full-fidelity trace of every rank runs to gigabytes)");
  cmd->add_option("--trace-window", opt->trace_window,
                  "With --trace: only activity overlapping FROM:TO seconds of simulated time, e.g. 0.5:1.5");
  cmd->add_flag("--strict", opt->strict, "Exit with status 3 when the model does not fit in memory");
  add_budget_options(cmd, opt->engine_options);
  cmd->callback([&ctx, opt]() {
    Scenario s = load_scenario(opt->file, ctx.catalog(), opt->sets);
    if (!opt->engine_options.trace_path.empty())
      refuse_output_over_input(opt->engine_options.trace_path, {opt->file}, "--trace");
    std::string engine = opt->engine.empty() ? s.sim.engine : opt->engine;
    if (!opt->engine_options.trace_path.empty() && engine != "des")
      throw InputError("--trace", "a timeline needs the DES engine; add --engine des");
    if ((!opt->trace_ranks.empty() || !opt->trace_window.empty()) && opt->engine_options.trace_path.empty())
      throw InputError(opt->trace_ranks.empty() ? "--trace-window" : "--trace-ranks",
                       "chooses what --trace writes; add --trace FILE");
    if (!opt->trace_ranks.empty()) opt->engine_options.trace_ranks = parse_ranks(opt->trace_ranks, s.cluster.gpus);
    if (!opt->trace_window.empty()) {
      const auto colon = opt->trace_window.find(':');
      try {
        if (colon == std::string::npos) throw UnitError("");
        opt->engine_options.trace_from_s = parse_quantity(opt->trace_window.substr(0, colon), Quantity::Time);
        opt->engine_options.trace_to_s = parse_quantity(opt->trace_window.substr(colon + 1), Quantity::Time);
      } catch (const UnitError&) {
        throw InputError("--trace-window", fmt::format("expected FROM:TO in seconds of simulated time, e.g. 0.5:1.5, "
                                                       "found \"{}\"",
                                                       opt->trace_window));
      }
      if (opt->engine_options.trace_to_s <= opt->engine_options.trace_from_s)
        throw InputError("--trace-window", fmt::format("expected FROM before TO, found \"{}\"", opt->trace_window));
    }
    // A long replay says how far it got, on a terminal only.
    const auto started = std::chrono::steady_clock::now();
    bool drew = false;
    if (isatty(2))
      opt->engine_options.progress = [&](double simulated, long activities) {
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        fmt::print(stderr, "\rDES: {:.3f} s of the step simulated, {} activities ({:.0f}/s), {:.0f} s   ", simulated,
                   activities, static_cast<double>(activities) / std::max(wall, 1e-9), wall);
        drew = true;
      };
    Result r = evaluate(s, engine, opt->engine_options);
    if (drew) fmt::print(stderr, "\r\033[K");
    if (opt->format == "table")
      fmt::print("{}", result_text(s, r));
    else
      fmt::print("{}", render_rows({result_json(s, r)}, opt->format));
    if (opt->strict && !r.memory.fits()) ctx.exit_code = 3;
  });
}

}  // namespace danlu
