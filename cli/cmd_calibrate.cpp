// `danlu calibrate FILES... -o profile.yaml`: fits the compute model's
// constants to scenarios that declare measured figures, prints what moved and
// the error before and after, and writes a profile that every command reads
// with --calibration FILE.

#include <fmt/format.h>

#include "cli/app.hpp"
#include "core/output_file.hpp"
#include "drivers/calibrate.hpp"
#include "views/output.hpp"

namespace danlu {

namespace {

void print_summary(const char* title, const std::vector<ValidationRow>& rows, const std::string& format) {
  fmt::print("\n{}\n{}", title, error_summary_table(rows).render(format));
}

}  // namespace

void add_calibrate_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("calibrate", "Fit the compute model's constants to measured runs");
  cmd->footer(
      "Examples:\n"
      "  danlu calibrate scenarios/calibration scenarios/validation/modern -o profile.yaml\n"
      "  danlu calibrate my-cluster-runs/ -o my-cluster.yaml --cross-validate\n"
      "  danlu run scenario.yaml --calibration my-cluster.yaml\n\n"
      "Every scenario with a `measured:` block (tokens_per_s_per_gpu or step_s) takes part. The fit\n"
      "starts from the catalog's microbenchmark figures and moves the global constants and, per\n"
      "accelerator measured, its GEMM efficiency per precision, attention and HBM efficiency, each\n"
      "inside its plausible range, to minimise the squared log error; a weak pull (--prior) keeps\n"
      "what the runs say little about near its microbenchmark value. --cross-validate refits once per\n"
      "system without it and predicts it (leave-one-system-out): the error on a chip nobody measured,\n"
      "which the profile keeps as the uncertainty `danlu run` prints.");
  struct Options {
    std::vector<std::string> paths;
    std::string out, format = "table";
    bool cross_validate = false;
    std::string kind = "all";
    double prior = FitOptions{}.prior;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("paths", opt->paths, "Directories (searched recursively) or scenario files")->required();
  cmd->add_option("-o,--output", opt->out, "Write the fitted profile here (YAML)");
  cmd->add_flag("--cross-validate", opt->cross_validate,
                "Also fit once per system without it and report the held-out error (slower)");
  cmd->add_option("--prior", opt->prior, "Weight of the pull toward the microbenchmark figures")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--kind", opt->kind, "Fit on all cases, or only the dense or the MoE ones")
      ->check(CLI::IsMember({"all", "dense", "moe"}));
  cmd->add_option("--format", opt->format, "table | csv | markdown")
      ->check(CLI::IsMember({"table", "csv", "markdown"}));
  cmd->callback([&ctx, opt]() {
    const Catalog base = [&] {
      Catalog c = Catalog::builtin(false);
      for (const auto& dir : ctx.catalog_dirs) c.add_dir(dir);
      return c;
    }();
    auto cases = load_validation_cases(opt->paths, base);
    if (!opt->out.empty()) {
      std::vector<std::string> read;
      for (const auto& c : cases) read.push_back(c.file);
      refuse_output_over_input(opt->out, read, "--output");
    }
    if (opt->kind != "all")
      std::erase_if(cases, [&](const ValidationCase& c) { return c.moe != (opt->kind == "moe"); });
    if (cases.empty())
      throw InputError("calibrate", "no scenario with a measured step_s or tokens_per_s_per_gpu was found");
    FitOptions fo;
    fo.prior = opt->prior;
    fmt::print(stderr, "fitting on {} scenarios...\n", cases.size());
    FitResult fit = fit_profile(cases, base, fo);
    fit.profile.description =
        fmt::format("fitted by danlu calibrate on {} measured runs{} from {}", fit.cases,
                    opt->kind == "all" ? "" : fmt::format(", {} only,", opt->kind), fmt::join(opt->paths, ", "));

    Table params;
    params.header = {"parameter", "accelerator", "microbenchmark", "fitted", "range", "meaning"};
    for (const auto& info : constant_params()) {
      auto it = fit.profile.constants.find(info.name);
      if (it == fit.profile.constants.end()) continue;
      params.rows.push_back({info.name, "-", fmt::format("{:.4g}", get_param(base.constants(), info.name)),
                             fmt::format("{:.4g}", it->second), fmt::format("{:.3g}-{:.3g}", info.lo, info.hi),
                             info.meaning});
    }
    for (const auto& [acc, values] : fit.profile.accelerators)
      for (const auto& [name, v] : values) {
        const ParamInfo& info = *find_accelerator_param(name);
        params.rows.push_back({name, acc, fmt::format("{:.4g}", get_param(base.accelerator(acc).kernels, name)),
                               fmt::format("{:.4g}", v), fmt::format("{:.3g}-{:.3g}", info.lo, info.hi), info.meaning});
      }
    fmt::print("{} parameters fitted on {} runs in {} iterations: RMS log error {:.3f}\n\n{}", fit.parameters,
               fit.cases, fit.iterations, fit.rms_log_error, params.render(opt->format));
    print_summary("Before (microbenchmark figures):", predict_cases(cases, base, Profile{}), opt->format);
    print_summary("After (fitted, in-sample):", predict_cases(cases, base, fit.profile), opt->format);

    if (opt->cross_validate) {
      fmt::print(stderr, "cross-validating: one fit per system...\n");
      CrossValidation cv = leave_one_system_out(cases, base, fo);
      print_summary("Leave-one-system-out (each system predicted by a fit without it):", cv.rows, opt->format);
      fit.profile.uncertainty.insert(cv.error_by_class.begin(), cv.error_by_class.end());
    }
    if (!opt->out.empty()) {
      write_output_file(opt->out, render_profile(fit.profile));
      fmt::print("\nwrote {}\n", opt->out);
    }
  });
}

}  // namespace danlu
