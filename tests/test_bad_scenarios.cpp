// Every file in tests/bad/ holds one mistake and, on its first line, the exact
// message danlu must print for it. The real binary is run: exit status 2, one
// line, no crash.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "tests/util.hpp"

using namespace danlu;

TEST_CASE("every bad scenario is refused with its exact message and exit status 2") {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(test::source("tests/bad")))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 200);
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string first;
    std::getline(in, first);
    CAPTURE(f);
    REQUIRE(first.rfind("# expect: ", 0) == 0);
    std::string rel = "tests/bad/" + f.filename().string();
    std::string expected = first.substr(10);
    if (auto at = expected.find("{file}"); at != std::string::npos) expected.replace(at, 6, rel);
    auto r = test::run_danlu("check " + rel);
    CAPTURE(rel);
    CHECK(r.status == 2);
    CHECK(r.output == "error: " + expected + "\n");
  }
}

TEST_CASE("no prefix of a valid scenario crashes the loader") {
  // Cutting a file anywhere must give a clean InputError (or a valid scenario),
  // never another exception.
  std::ifstream in(test::source("scenarios/llama3-405b-h100.yaml"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int refused = 0;
  for (size_t cut = 0; cut < text.size(); cut += 7) {
    try {
      test::scenario(text.substr(0, cut));
    } catch (const InputError&) {
      ++refused;
    }
  }
  CHECK(refused > 50);
}

TEST_CASE("bad command lines exit with status 2, an unwritable output 1") {
  CHECK(test::run_danlu("check").status == 2);
  CHECK(test::run_danlu("frobnicate").status == 2);
  CHECK(test::run_danlu("catalog gpus").status == 2);
  auto r = test::run_danlu("check scenarios/llama3-405b-h100.yaml --set training.precision=fp5");
  CHECK(r.status == 2);
  CHECK(r.output.find("error: --set training.precision=fp5: training.precision: expected one of") == 0);
  r = test::run_danlu(
      "check scenarios/llama3-405b-h100.yaml --set cluster.gpus=null");  // removed, nothing in its place
  CHECK(r.status == 2);
  CHECK(r.output ==
        "error: scenarios/llama3-405b-h100.yaml:12:3: cluster: expected exactly one of gpus, nodes or racks, "
        "found 0\n");
  // Found by the fuzzer: yaml-cpp's LoadAll never ends on ",=" (memory grew
  // until the process was killed); it is malformed YAML at its place.
  r = test::run_shell("timeout 20 {danlu} check scenarios/llama3-405b-h100.yaml --set 'sweep.pout=,='");
  CHECK(r.status == 2);
  CHECK(r.output == "error: --set sweep.pout=,=:1:1: malformed YAML: nothing could be read from this line\n");
  r = test::run_danlu("check no-such-file.yaml");
  CHECK(r.status == 2);
  CHECK(r.output == "error: no-such-file.yaml: cannot open the file (does it exist?)\n");
  // An output that cannot be written is not bad input: exit 1 (the contract).
  r = test::run_danlu("report scenarios/llama3-405b-h100.yaml -o /nonexistent-danlu-dir/x.html");
  CHECK(r.status == 1);
  CHECK(r.output ==
        "error: /nonexistent-danlu-dir/x.html: cannot open the file for writing: No such file or directory\n");
  r = test::run_danlu("validate scenarios/talk");
  CHECK(r.status == 2);
  CHECK(r.output == "error: validate: no scenario with a measured step_s or tokens_per_s_per_gpu was found\n");
  r = test::run_danlu("search scenarios/llama3-405b-h100.yaml --objective speed");
  CHECK(r.status == 2);
  r = test::run_danlu("catalog systems gb200-nvl7");
  CHECK(r.status == 2);
  CHECK(r.output.find("did you mean \"gb200-nvl72\"?") != std::string::npos);
}

TEST_CASE("special files and file contents: refused without hanging or echoing the file") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("danlu-special-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A FIFO as the scenario, and as an extends target: refused at once.
  const fs::path fifo = dir / "pipe.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto r = test::run_shell("timeout 10 {danlu} check " + fifo.string());
  CHECK(r.status == 2);
  CHECK(r.output.find("is not a regular file") != std::string::npos);
  std::ofstream(dir / "a.yaml") << "name: a\nextends: pipe.yaml\n";
  r = test::run_shell("timeout 10 {danlu} check " + (dir / "a.yaml").string());
  CHECK(r.status == 2);
  CHECK(r.output.find("a.yaml:2:10: extends: \"pipe.yaml\" is not a regular file") != std::string::npos);
  // Any readable file as extends: its content is never echoed.
  std::ofstream(dir / "secret.txt") << "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin\n";
  std::ofstream(dir / "b.yaml") << "name: b\nextends: secret.txt\n";
  r = test::run_danlu("check " + (dir / "b.yaml").string());
  CHECK(r.status == 2);
  CHECK(r.output.find("root:x") == std::string::npos);
  CHECK(r.output.find("expected a mapping of sections, found a text") != std::string::npos);
  // A recursive alias given with --set: an error, not a stack overflow.
  r = test::run_danlu("check scenarios/llama3-405b-h100.yaml --set 'model=&a [*a]'");
  CHECK(r.status == 2);
  CHECK(r.output.find("refers to itself") != std::string::npos);
  // extends is resolved when a file is read: --set cannot change it.
  r = test::run_danlu("check scenarios/llama3-405b-h100.yaml --set extends=other.yaml");
  CHECK(r.status == 2);
  CHECK(r.output.find("error: --set extends=other.yaml: extends: extends is resolved when the file is read") == 0);
  // 90,000 keys in one mapping: duplicate keys are found in linear time
  // (0.3 s here; the quadratic check took 15 s for 100,000). The timeout
  // only tells a hang from an answer.
  {
    std::ofstream big(dir / "keys.yaml");
    big << "name: keys\n";
    for (int i = 0; i < 90000; ++i) big << "k" << i << ": 1\n";
  }
  r = test::run_shell("timeout 30 {danlu} check " + (dir / "keys.yaml").string());
  CHECK(r.status == 2);
  CHECK(r.output.find("keys.yaml:1:1: model.layers: required field missing") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("--resume touches only a file a sweep wrote") {
  namespace fs = std::filesystem;
  const fs::path file = fs::temp_directory_path() / ("danlu-resume-" + std::to_string(::getpid()) + ".csv");
  std::ofstream(file) << "hello\nworld";  // a last line without a newline
  auto r = test::run_danlu("sweep scenarios/sweeps/llama3-70b-systems.yaml --format csv --resume -o " + file.string());
  CHECK(r.status == 2);
  CHECK(r.output.find(file.string() + ":1:1: --resume: the file does not hold danlu sweep rows in csv") !=
        std::string::npos);
  std::ifstream in(file);
  CHECK(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) == "hello\nworld");
  fs::remove(file);
}

TEST_CASE("no command exits 0 after failing to write") {
  // A full disk: every output path fails the command, with a message.
  auto r = test::run_danlu("report scenarios/llama3-405b-h100.yaml -o /dev/full");
  CHECK(r.status != 0);
  CHECK(r.output.find("could not write the whole file") != std::string::npos);
  CHECK(r.output.find("wrote") == std::string::npos);
  r = test::run_danlu("sweep scenarios/sweeps/llama3-70b-systems.yaml -o /dev/full");
  CHECK(r.status != 0);
  CHECK(r.output.find("could not write a row") != std::string::npos);
  r = test::run_shell("( {danlu} run scenarios/llama3-405b-h100.yaml > /dev/full )");
  CHECK(r.status == 1);
  CHECK(r.output.find("could not write the output") != std::string::npos);
  // A DES trace: a full disk or a missing folder is output not written, exit 1.
  r = test::run_danlu("run scenarios/llama3-405b-h100.yaml --engine des --trace /dev/full");
  CHECK(r.status == 1);
  CHECK(r.output == "error: /dev/full: could not write the whole file (disk full?): No space left on device\n");
  r = test::run_danlu("run scenarios/llama3-405b-h100.yaml --engine des --trace /nonexistent-danlu-dir/t.json");
  CHECK(r.status == 1);
  CHECK(r.output.find("error: /nonexistent-danlu-dir/t.json: cannot open the file for writing") == 0);
  // A report that fails leaves no half-written file behind.
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("danlu-out-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  r = test::run_danlu("report scenarios/llama3-405b-h100.yaml -o " + (dir / "r.html").string());
  CHECK(r.status == 0);
  CHECK(fs::file_size(dir / "r.html") > 1000);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temporary left
  // Two writers of one sweep file: the second is refused while the first holds it.
  const std::string csv = (dir / "rows.csv").string();
  r = test::run_shell("( flock " + csv +
                      " sleep 3 & sleep 0.5; {danlu} sweep scenarios/sweeps/llama3-70b-systems.yaml -o " + csv +
                      "; echo status=$?; wait )");
  CHECK(r.output.find("another danlu sweep is writing this file") != std::string::npos);
  CHECK(r.output.find("status=1") != std::string::npos);
  fs::remove_all(dir);
}
