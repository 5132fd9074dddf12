// Calibration profiles and `danlu calibrate`: ranges, the fitter, and the
// accuracy the built-in profile reaches on published runs.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "drivers/calibrate.hpp"
#include "tests/util.hpp"

using namespace danlu;
using doctest::Approx;

TEST_CASE("the built-in profile's constants lie inside their documented ranges") {
  const Profile& p = test::catalog().profile();
  REQUIRE(!p.constants.empty());
  for (const auto& [key, v] : p.constants) {
    const std::string& name = key;  // a plain name: CAPTURE takes it into a lambda
    CAPTURE(name);
    const ParamInfo* info = find_constant_param(name);
    REQUIRE(info);
    CHECK(info->contains(v));
  }
  int figures = 0;
  for (const auto& [acc_key, values] : p.accelerators)
    for (const auto& [key, v] : values) {
      const std::string &acc = acc_key, &name = key;  // plain names for CAPTURE's lambda
      CAPTURE(acc);
      CAPTURE(name);
      const ParamInfo* info = find_accelerator_param(name);
      REQUIRE(info);
      CHECK(info->contains(v));
      ++figures;
    }
  // Few constants: a handful per measured accelerator, not one per run.
  CHECK(p.constants.size() + figures < 40);
  CHECK(p.uncertainty.count("nvidia") == 1);
}

TEST_CASE("a profile round-trips through its YAML, and bad values are refused with their location") {
  Profile p;
  p.constants["overlap_slowdown"] = 0.2;
  p.accelerators["h100-sxm"]["gemm.fp8"] = 0.6;
  p.accelerators["h100-sxm"]["launch"] = 6e-6;
  p.uncertainty["nvidia"] = 0.1;
  Profile q = parse_profile(render_profile(p), "p.yaml");
  CHECK(q.constants.at("overlap_slowdown") == Approx(0.2));
  CHECK(q.accelerators.at("h100-sxm").at("gemm.fp8") == Approx(0.6));
  CHECK(q.accelerators.at("h100-sxm").at("launch") == Approx(6e-6));
  CHECK(q.uncertainty.at("nvidia") == Approx(0.1));

  try {
    parse_profile("constants:\n  overlap_slowdown: 0.9\n", "p.yaml");
    FAIL("accepted a value out of its range");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("p.yaml:2:21: constants.overlap_slowdown: expected a value from 0 to 0.5") == 0);
  }
  CHECK_THROWS_AS(parse_profile("constants:\n  overlap_slowdwn: 0.1\n", "p.yaml"), InputError);
  Catalog c = Catalog::builtin(false);
  Profile bad;
  bad.accelerators["h100-sxn"]["hbm"] = 0.8;
  CHECK_THROWS_AS(c.apply_profile(bad, "p.yaml"), InputError);
  Profile no_fp4;
  no_fp4.accelerators["h100-sxm"]["gemm.fp4"] = 0.5;
  CHECK_THROWS_AS(c.apply_profile(no_fp4, "p.yaml"), InputError);
}

TEST_CASE("the fitter recovers constants that generated the measurements") {
  // Measurements made by a known profile from three scenarios on two chips;
  // fitting from the microbenchmark figures must find that profile's values
  // again (the pull toward the microbenchmarks off).
  const Catalog base = Catalog::builtin(false);
  Profile truth;
  truth.constants["overlap_slowdown"] = 0.25;
  truth.accelerators["h100-sxm"]["gemm.fp8"] = 0.55;
  truth.accelerators["b200"]["gemm.fp8"] = 0.5;
  std::vector<ValidationCase> cases;
  const char* layouts[] = {"{tp: 8}", "{tp: 4, pp: 2}", "{tp: 2, pp: 4}"};
  for (const char* system : {"dgx-h100", "dgx-b200"})
    for (const char* par : layouts) {
      ValidationCase c;
      auto s = std::make_shared<Scenario>(build_scenario(
          parse_yaml(fmt::format("name: t\nmodel: {{preset: llama3-70b}}\ncluster: {{system: {}, gpus: 64}}\n"
                                 "training: {{precision: fp8, global_batch: 128, parallelism: {}, recompute: none,"
                                 " overlap: {{tp_comm: true}}}}\n",
                                 system, par),
                     "t.yaml"),
          base));
      c.name = fmt::format("{}-{}", system, par);
      c.system = system;
      c.accelerator = s->cluster.accelerator.name;
      c.vendor = "nvidia";
      c.throughput = true;
      c.gpus = 64;
      c.scenario = s;
      cases.push_back(c);
    }
  std::vector<ValidationRow> truth_rows = predict_cases(cases, base, truth);
  for (size_t i = 0; i < cases.size(); ++i) cases[i].measured = truth_rows[i].predicted;
  FitOptions o;
  o.prior = 0;
  FitResult fit = fit_profile(cases, base, o);
  CHECK(fit.rms_log_error < 0.005);
  for (const auto& r : predict_cases(cases, base, fit.profile)) CHECK(std::fabs(r.error) < 0.01);
  // Three layouts per chip cannot tell the global factors from the chips'
  // own figures, but they pin the chips against each other: the ratio of
  // their fp8 GEMM efficiencies is the one that made the data.
  const double h100 = fit.profile.accelerators.at("h100-sxm").at("gemm.fp8");
  const double b200 = fit.profile.accelerators.at("b200").at("gemm.fp8");
  CHECK(h100 / b200 == Approx(0.55 / 0.5).epsilon(0.02));
}

namespace {
std::vector<ValidationCase> published() {
  return load_validation_cases({test::source("scenarios/calibration"), test::source("scenarios/validation/modern")},
                               test::catalog());
}
}  // namespace

TEST_CASE("accuracy on published runs with the built-in profile") {
  const auto cases = published();
  const auto rows = validate_cases(cases, "analytic");
  std::vector<ValidationRow> selene, modern, modern_dense, modern_moe;
  for (const auto& r : rows) {
    if (r.c->file.find("/calibration/") != std::string::npos) {
      selene.push_back(r);
      continue;
    }
    modern.push_back(r);
    (r.c->moe ? modern_moe : modern_dense).push_back(r);
  }
  const ErrorSummary s = summarize(selene), d = summarize(modern_dense), m = summarize(modern_moe),
                     all = summarize(modern);
  MESSAGE("Selene: " << s.n << " runs, MAPE " << 100 * s.mape << "%; modern: " << all.n << " rows, MAPE "
                     << 100 * all.mape << "% (dense " << 100 * d.mape << "%, MoE " << 100 * m.mape << "%)");
  CHECK(s.n == 19);
  CHECK(s.mape <= 0.05);
  CHECK(d.n == 80);
  CHECK(m.n == 45);
  CHECK(all.refused == 0);  // every public row loads and runs
  // The hybrid Mamba-2 rows (Nemotron 3 Nano on GB200 and H100): each within 15%.
  int hybrid = 0;
  for (const auto& r : modern) {
    if (!r.c->hybrid) continue;
    ++hybrid;
    const std::string& name = r.c->name;
    CAPTURE(name);
    CHECK(r.abs_error <= 0.15);
  }
  CHECK(hybrid == 2);
  CHECK(d.mape <= 0.08);
  for (const auto& [key, g] : summarize_by(modern_dense, "system")) {
    const std::string& system = key;  // a plain name for CAPTURE's lambda
    CAPTURE(system);
    CHECK(g.mape <= 0.15);
  }
  for (const auto& [key, g] : summarize_by(modern, "system")) {
    const std::string& system = key;
    CAPTURE(system);
    CHECK(g.mape <= 0.15);
  }
  CHECK(all.mape <= 0.10);
  CHECK(m.mape <= 0.15);
}

TEST_CASE("leave-one-system-out stays within 15%") {
  const auto cases = published();
  const CrossValidation cv = leave_one_system_out(cases, Catalog::builtin(false), FitOptions{});
  const ErrorSummary all = summarize(cv.rows);
  std::vector<ValidationRow> dense;
  for (const auto& r : cv.rows)
    if (!r.c->moe) dense.push_back(r);
  MESSAGE("leave-one-system-out: MAPE " << 100 * all.mape << "%, dense " << 100 * summarize(dense).mape << "%");
  CHECK(all.mape <= 0.15);
  CHECK(summarize(dense).mape <= 0.10);
  CHECK(cv.error_by_class.count("nvidia") == 1);
  CHECK(cv.error_by_class.count("nvidia-moe") == 1);
  CHECK(cv.error_by_class.count("google") == 1);
}

TEST_CASE("run states its uncertainty from the leave-one-system-out errors of its class") {
  const Profile& p = test::catalog().profile();
  Scenario dense = load_scenario(test::source("scenarios/llama3-405b-h100.yaml"), test::catalog());
  CHECK(dense.uncertainty == Approx(p.uncertainty.at("nvidia")));
  Scenario moe =
      load_scenario(test::source("scenarios/validation/modern/mb-26.02-deepseek-v3-gb200-mxfp8.yaml"), test::catalog());
  CHECK(moe.uncertainty == Approx(p.uncertainty.at("nvidia-moe")));
  // AMD has no measured system: the error of all dense rows held out.
  Scenario amd = load_scenario(test::source("scenarios/compare/mi355x.yaml"), test::catalog());
  CHECK(amd.uncertainty == Approx(p.uncertainty.at("unmeasured")));
  auto r = test::run_danlu("run scenarios/llama3-405b-h100.yaml");
  CHECK(r.output.find(fmt::format(" s ± {:.0f}%", 100 * p.uncertainty.at("nvidia"))) != std::string::npos);
  r = test::run_danlu("run scenarios/llama3-405b-h100.yaml --format json");
  CHECK(r.output.find("\"uncertainty\":") != std::string::npos);
  r = test::run_danlu("run scenarios/llama3-405b-h100.yaml --calibration none");
  CHECK(r.output.find("±") == std::string::npos);
}

TEST_CASE("calibrate and --calibration from the command line") {
  namespace fs = std::filesystem;
  const fs::path out = fs::temp_directory_path() / ("danlu-profile-" + std::to_string(::getpid()) + ".yaml");
  auto r = test::run_danlu("calibrate scenarios/calibration -o " + out.string());
  CHECK(r.status == 0);
  CHECK(r.output.find("After (fitted, in-sample):") != std::string::npos);
  REQUIRE(fs::exists(out));
  Profile p = load_profile(out.string());
  CHECK(p.accelerators.count("a100-sxm-80gb") == 1);
  // The written profile is read back by every command.
  r = test::run_danlu("--calibration " + out.string() + " run scenarios/calibration/k22-175b.yaml --format json");
  CHECK(r.status == 0);
  r = test::run_danlu("run scenarios/calibration/k22-175b.yaml --calibration none");
  CHECK(r.status == 0);
  fs::remove(out);

  std::ofstream(out) << "constants:\n  kernel_gap_s: 1s\n";
  r = test::run_danlu("run scenarios/calibration/k22-175b.yaml --calibration " + out.string());
  CHECK(r.status == 2);
  CHECK(r.output.find(out.string() + ":2:17: constants.kernel_gap_s: expected a value from") != std::string::npos);
  fs::remove(out);
  r = test::run_danlu("calibrate tests/bad");
  CHECK(r.status == 2);
}
