// What the subcommands share, and how each one is added to the command line.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "models/catalog.hpp"
#include "sim/engine.hpp"

namespace danlu {

struct Context {
  std::vector<std::string> catalog_dirs;  // --catalog, in order
  std::string calibration;                // --calibration FILE | none ("" = built-in)
  int exit_code = 0;                      // set by a subcommand (0, 2, 3, 4)

  // The built-in catalog with any --catalog directories applied.
  const Catalog& catalog();

 private:
  std::unique_ptr<Catalog> catalog_;
};

// Each subcommand lives in its own cli/cmd_*.cpp and adds itself here.
void add_catalog_command(CLI::App& app, Context& ctx);
void add_check_command(CLI::App& app, Context& ctx);
void add_run_command(CLI::App& app, Context& ctx);
void add_validate_command(CLI::App& app, Context& ctx);
void add_compare_command(CLI::App& app, Context& ctx);
void add_sweep_command(CLI::App& app, Context& ctx);
void add_search_command(CLI::App& app, Context& ctx);
void add_report_command(CLI::App& app, Context& ctx);
void add_calibrate_command(CLI::App& app, Context& ctx);
void add_import_command(CLI::App& app, Context& ctx);
void add_schema_command(CLI::App& app, Context& ctx);

struct ValidationRow;
struct Table;
// Errors against measured runs by group (all, dense/MoE, system, precision):
// what validate and calibrate print.
Table error_summary_table(const std::vector<ValidationRow>& rows);
// The scenario fields at `prefix` and under it (all for ""): what `danlu
// schema` prints and docs/scenario.md's field reference holds (markdown: names
// as code, danlu's additions marked +).
Table schema_table(const std::string& prefix, bool for_markdown);

// --max-memory GB and --max-seconds S, for the commands that may run the DES.
// --max-seconds is the whole command's: each evaluation gets what is left.
void add_budget_options(CLI::App* cmd, EngineOptions& options);
// `options` for the next evaluation of a command started at `start`, with
// what is left of --max-seconds; BudgetError when nothing is.
EngineOptions remaining_budget(const EngineOptions& options, std::chrono::steady_clock::time_point start);

// InputError (at `flag`) when `output` is one of the `inputs` (the same
// file, by any path or link): writing it would destroy the scenario read.
void refuse_output_over_input(const std::string& output, const std::vector<std::string>& inputs, const char* flag);

// Output formats accepted by --format, checked by CLI11.
inline const std::vector<std::string> kTableFormats = {"table", "json", "csv", "markdown"};

}  // namespace danlu
