// danlu: the command line. The only place that prints errors and picks exit
// codes (kExitStatuses below, printed by --help and in the README).
#include <cstdio>
#include <exception>
#include <filesystem>
#include <new>
#include <system_error>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "cli/mpi.hpp"
#include "core/error.hpp"

#ifndef DANLU_VERSION
#define DANLU_VERSION "0.0.0"
#endif

namespace danlu {

void add_budget_options(CLI::App* cmd, EngineOptions& options) {
  cmd->add_option_function<double>(
         "--max-memory", [&options](double gb) { options.max_memory_bytes = gb * 1e9; },
         "DES: refuse, before any work, a replay estimated to need more than GB gigabytes (default: half of this "
         "machine's memory)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-seconds", options.max_seconds,
                  "Stop work still running after S seconds (exit status 4): a DES replay is stopped, a sweep keeps "
                  "every finished row and --resume goes on")
      ->check(CLI::PositiveNumber);
}

EngineOptions remaining_budget(const EngineOptions& options, std::chrono::steady_clock::time_point start) {
  EngineOptions left = options;
  if (options.max_seconds <= 0) return left;
  left.max_seconds =
      options.max_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (left.max_seconds <= 0) throw BudgetError(fmt::format("--max-seconds {:g} ran out", options.max_seconds));
  return left;
}

void refuse_output_over_input(const std::string& output, const std::vector<std::string>& inputs, const char* flag) {
  namespace fs = std::filesystem;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_regular_file(input, ec) && fs::equivalent(output, input, ec) && !ec)
      throw InputError(flag, fmt::format("{} is the input scenario {}; writing there would overwrite it: choose "
                                         "another file",
                                         output, input));
  }
}

const Catalog& Context::catalog() {
  if (!catalog_) {
    catalog_ = std::make_unique<Catalog>(Catalog::builtin(calibration.empty()));
    for (const auto& dir : catalog_dirs) catalog_->add_dir(dir);
    if (!calibration.empty() && calibration != "none") catalog_->apply_profile(load_profile(calibration), calibration);
  }
  return *catalog_;
}

}  // namespace danlu

namespace {
// The exit-status contract, one place: --help prints it, a test checks it
// against the README and runs each status.
constexpr const char* kExitStatuses =
    "Exit status:\n"
    "  0  success\n"
    "  1  output could not be written (disk full, closed pipe, missing folder), or a failure of danlu itself\n"
    "  2  bad input: a scenario, catalog, flag or value (the message says where and what was expected)\n"
    "  3  with --strict: the layout does not fit in memory\n"
    "  4  stopped at a budget: --max-seconds, --max-memory, or the machine's memory ran out";

// Errors are reported even when stderr itself cannot be written: fmt::print
// would throw there, and an exception out of main aborts.
void say_error(const std::string& text) noexcept { std::fputs(text.c_str(), stderr); }
}  // namespace

// Whatever escapes (CLI11 setup, a failed allocation) is an internal error,
// reported without a stack trace.
int main(int argc, char** argv) try {
  using namespace danlu;
  MpiSession mpi(&argc, &argv);
  Context ctx;
  CLI::App app{
      "danlu (丹炉): cluster hardware simulator and capacity planner for LLM training.\n"
      "Reads a YAML scenario (model, cluster, training layout, facility, prices) and\n"
      "answers: step time and where it goes, memory fit, MW, cooling and cost.\n\n"
      "Examples:\n"
      "  danlu catalog systems\n"
      "  danlu check scenarios/llama3-405b-h100.yaml --explain\n"
      "  danlu catalog accelerators gb200 --format json\n",
      "danlu"};
  app.set_version_flag("--version", std::string("danlu ") + DANLU_VERSION);
  app.footer(kExitStatuses);
  app.add_option("--catalog", ctx.catalog_dirs,
                 "Directory of extra catalog YAML (accelerators.yaml, systems.yaml, fabrics.yaml, "
                 "models.yaml) adding to or replacing built-in entries")
      ->check(CLI::ExistingDirectory);
  app.add_option("--calibration", ctx.calibration,
                 "Calibration profile written by `danlu calibrate` (FILE), or `none` for the microbenchmark "
                 "figures alone; default: the built-in profile fitted on scenarios/calibration and "
                 "scenarios/validation/modern");
  app.require_subcommand(1);
  app.fallthrough();
  add_catalog_command(app, ctx);
  add_check_command(app, ctx);
  add_run_command(app, ctx);
  add_validate_command(app, ctx);
  add_compare_command(app, ctx);
  add_sweep_command(app, ctx);
  add_search_command(app, ctx);
  add_report_command(app, ctx);
  add_calibrate_command(app, ctx);
  add_import_command(app, ctx);
  add_schema_command(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    // CLI11 returns 0 for --help/--version; any real parse error is bad input.
    return code == 0 ? 0 : 2;
  } catch (const InputError& e) {
    say_error(fmt::format("error: {}\n", e.what()));
    return 2;
  } catch (const OutputError& e) {
    say_error(fmt::format("error: {}\n", e.what()));
    return 1;
  } catch (const BudgetError& e) {
    say_error(fmt::format("stopped: {}\n", e.what()));
    return 4;
  } catch (const std::bad_alloc&) {
    say_error("stopped: this machine's memory ran out; make the work smaller (fewer points, GPUs or ranks traced)\n");
    return 4;
  } catch (const std::system_error& e) {
    // The environment refused something (fmt could not write to standard
    // output, a thread could not start): say what, not "internal".
    say_error(fmt::format("error: {}\n", e.what()));
    return 1;
  } catch (const std::exception& e) {
    say_error(fmt::format("internal error: {}\n", e.what()));
    return 1;
  }
  // Output lost to a full disk or a closed pipe is a failure, not success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    say_error("error: could not write the output (disk full or output closed?)\n");
    return 1;
  }
  return ctx.exit_code;
} catch (...) {
  say_error("internal error: unexpected failure outside the command\n");
  return 1;
}
