// The exit-status contract (cli/main.cpp, `danlu --help`, the README): each
// status from the real binary, and every subcommand's failure to write its
// output is status 1 with a message, never "internal error" or 2.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/util.hpp"

using namespace danlu;

namespace {
const std::string kFlagship = "scenarios/llama3-405b-h100.yaml";

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("danlu-exit-" + std::to_string(::getpid()) + "-" + name)).string();
}
}  // namespace

TEST_CASE("exit status: the README's table is what --help prints") {
  std::ifstream in(test::source("README.md"));
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string command = "$ danlu --help | tail -6\n";
  const size_t at = readme.find(command);
  REQUIRE(at != std::string::npos);
  const size_t body = at + command.size();
  const std::string shown = readme.substr(body, readme.find("```", body) - body);
  const auto r = test::run_shell("{danlu} --help | tail -6");
  CHECK(r.status == 0);
  CHECK(shown == r.output);
  CHECK(shown.find("  3  with --strict") != std::string::npos);
}

TEST_CASE("exit status: 0, 2, 3 and 4 from the binary") {
  CHECK(test::run_danlu("run " + kFlagship).status == 0);
  // A layout that does not fit is a result, and with --strict status 3.
  const std::string small = " --set cluster.gpus=1024 --set training.parallelism.dp=8 --set training.global_batch=256";
  auto r = test::run_danlu("run " + kFlagship + small);
  CHECK(r.status == 0);
  CHECK(r.output.find("DOES NOT FIT") != std::string::npos);
  r = test::run_danlu("run " + kFlagship + small + " --strict");
  CHECK(r.status == 3);
  r = test::run_danlu("run " + kFlagship + " --set training.tokens=1");
  CHECK(r.status == 2);
  CHECK(r.output.rfind("error: --set training.tokens=1: training.tokens: expected at least one step's tokens", 0) == 0);
  r = test::run_danlu("run " + kFlagship + " --engine des --set sim.fidelity=full --max-seconds 0.5");
  CHECK(r.status == 4);
  CHECK(r.output.rfind("stopped: ", 0) == 0);
}

TEST_CASE("exit status 1: every subcommand whose output cannot be written says so") {
  // /dev/full takes no byte: standard output, -o files and traces alike.
  const char* commands[] = {
      "catalog systems",
      "check scenarios/llama3-405b-h100.yaml --explain",
      "run scenarios/llama3-405b-h100.yaml --format json",
      "validate scenarios/calibration",
      "compare scenarios/llama3-405b-h100.yaml scenarios/llama3-405b-gb200-nvl72.yaml",
      "sweep scenarios/sweeps/llama3-70b-systems.yaml",
      "search scenarios/llama3-405b-gb200-nvl72.yaml",
      "import hf tests/data/hf/mixtral-8x7b.json",
      "schema",
      "calibrate scenarios/calibration",
  };
  for (const char* c : commands) {
    CAPTURE(c);
    const auto r = test::run_shell(std::string("( {danlu} ") + c + " > /dev/full )");
    CHECK(r.status == 1);
    CHECK(r.output.find("error: ") != std::string::npos);
    CHECK(r.output.find("internal error") == std::string::npos);
  }
  for (const std::string& c : std::vector<std::string>{
           "report " + kFlagship + " -o /dev/full", "sweep scenarios/sweeps/llama3-70b-systems.yaml -o /dev/full",
           "calibrate scenarios/calibration -o /dev/full", "run " + kFlagship + " --engine des --trace /dev/full",
           "report " + kFlagship + " -o /nonexistent-danlu-dir/x.html"}) {
    CAPTURE(c);
    const auto r = test::run_danlu(c);
    CHECK(r.status == 1);
    CHECK(r.output.find("error: ") != std::string::npos);
    CHECK(r.output.find("internal error") == std::string::npos);
  }
}

TEST_CASE("exit status 2: an output path that is the input scenario is refused, the scenario untouched") {
  const std::string file = temp("in.yaml");
  std::ofstream(file) << "name: s\nmodel: {preset: llama3-8b}\ncluster: {system: dgx-h100, gpus: 8}\n"
                         "training: {global_batch: 8, parallelism: {tp: 8}}\n"
                         "sweep: {training.zero: [0, 1]}\nmeasured: {step_s: 1.0, source: a test}\n";
  const auto before = std::filesystem::file_size(file);
  const std::string link = temp("link.yaml");
  std::filesystem::create_symlink(file, link);
  for (const std::string& c :
       std::vector<std::string>{"report " + file + " -o " + link, "sweep " + file + " -o " + file,
                                "run " + file + " --engine des --trace " + link, "calibrate " + file + " -o " + link}) {
    CAPTURE(c);
    const auto r = test::run_danlu(c);
    CHECK(r.status == 2);
    CHECK(r.output.find("is the input scenario") != std::string::npos);
    CHECK(std::filesystem::file_size(file) == before);
  }
  std::filesystem::remove(link);
  std::filesystem::remove(file);
}
