// `danlu check FILE…`: validate scenarios without simulating; --explain prints
// every effective value with where it came from.
#include <algorithm>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "scenario/loader.hpp"
#include "views/output.hpp"

namespace danlu {

void add_check_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("check", "Validate scenario files (no simulation); --explain shows every default");
  cmd->footer(
      "Examples:\n"
      "  danlu check scenarios/*.yaml\n"
      "  danlu check scenarios/llama3-405b-h100.yaml --explain\n"
      "  danlu check my.yaml --set training.parallelism.tp=4 --set cluster.gpus=8192\n\n"
      "Exit status: 0 all valid, 2 any invalid (each error is printed as file:line:col: path: message).");
  struct Options {
    std::vector<std::string> files, sets;
    bool explain = false;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("files", opt->files, "Scenario files")->required();
  cmd->add_option("--set", opt->sets, "Override a field: PATH=VALUE (repeatable), e.g. training.precision=fp8");
  cmd->add_flag("--explain", opt->explain, "Print the effective scenario: every value, default or not, and its origin");
  cmd->callback([&ctx, opt]() {
    const Catalog& cat = ctx.catalog();
    for (const auto& file : opt->files) {
      try {
        Scenario s = load_scenario(file, cat, opt->sets);
        const auto& p = s.training.par;
        fmt::print("ok  {}: {} — {} on {} x {} ({}), tp {} pp {} dp {} cp {} ep {}{}\n", file, s.name,
                   s.model.preset.empty() ? "custom model" : s.model.preset, s.cluster.gpus, s.cluster.accelerator.name,
                   s.cluster.system.name, p.tp, p.pp, p.dp, p.cp, p.ep,
                   s.sweep.empty() ? "" : fmt::format(", sweep of {} points", sweep_size(s.sweep)));
        for (const auto& w : s.warnings) fmt::print("    note: {}\n", w);
        if (opt->explain) {
          size_t wp = 0, wv = 0;
          for (const auto& e : s.explain) wp = std::max(wp, e.path.size()), wv = std::max(wv, e.value.size());
          for (const auto& e : s.explain) fmt::print("  {:<{}}  {:<{}}  # {}\n", e.path, wp, e.value, wv, e.source);
        }
      } catch (const InputError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        ctx.exit_code = 2;
      }
    }
  });
}

}  // namespace danlu
