// Golden tests: every scenario under scenarios/ (but validation/) is evaluated and its key
// figures compared with tests/golden.json (2% tolerance). After a deliberate
// model change, regenerate with
//   DANLU_UPDATE_GOLDEN=1 build/tests/danlu_tests -tc="golden*"
// and review the diff of tests/golden.json like any other change.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sim/evaluate.hpp"
#include "tests/util.hpp"

using namespace danlu;

TEST_CASE("golden: every scenario's key figures match the stored expectation") {
  namespace fs = std::filesystem;
  const std::string golden_path = test::source("tests/golden.json");
  const bool update = std::getenv("DANLU_UPDATE_GOLDEN") != nullptr;
  nlohmann::ordered_json golden = nlohmann::ordered_json::object();
  if (!update) {
    std::ifstream in(golden_path);
    REQUIRE(in.good());
    in >> golden;
  }
  std::vector<std::string> files;
  // scenarios/validation/ is held against published measurements instead
  // (tests/test_calibration.cpp), some of it refused on purpose.
  for (const auto& e : fs::recursive_directory_iterator(test::source("scenarios")))
    if (e.path().extension() == ".yaml" && e.path().string().find("/scenarios/validation/") == std::string::npos)
      files.push_back(fs::relative(e.path(), test::source("")).string());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 22);
  nlohmann::ordered_json fresh = nlohmann::ordered_json::object();
  for (const auto& file : files) {
    CAPTURE(file);
    Scenario s = load_scenario(test::source(file), test::catalog());
    Result r = evaluate(s, "analytic");
    fresh[file] = {
        {"step_s", r.step.time_s}, {"mfu", r.mfu}, {"per_gpu_bytes", r.memory.total()}, {"fits", r.memory.fits()}};
    if (update) continue;
    REQUIRE_MESSAGE(golden.contains(file), "no golden entry; regenerate tests/golden.json");
    const auto& g = golden[file];
    CHECK(r.step.time_s == doctest::Approx(g["step_s"].get<double>()).epsilon(0.02));
    CHECK(r.mfu == doctest::Approx(g["mfu"].get<double>()).epsilon(0.02));
    CHECK(r.memory.total() == doctest::Approx(g["per_gpu_bytes"].get<double>()).epsilon(0.02));
    CHECK(r.memory.fits() == g["fits"].get<bool>());
  }
  if (update) {
    std::ofstream(golden_path) << fresh.dump(2) << "\n";
    MESSAGE("wrote " << golden_path);
  } else {
    CHECK(golden.size() == fresh.size());  // a removed scenario must leave the file too
  }
}
