// Helpers shared by the tests.
#pragma once

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <string>

#include "models/catalog.hpp"
#include "scenario/loader.hpp"

namespace danlu::test {

inline std::string source(const std::string& rel) { return std::string(DANLU_SOURCE_DIR) + "/" + rel; }

inline const Catalog& catalog() {
  static const Catalog c = Catalog::builtin();
  return c;
}

// A scenario from YAML text (file name "test.yaml" in messages).
inline Scenario scenario(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  Node tree = parse_yaml(yaml, "test.yaml");
  for (const auto& s : sets) apply_set(tree, s);
  return build_scenario(tree, catalog());
}

struct RunResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command from the source directory; `{danlu}` in it stands for
// the binary.
inline RunResult run_shell(std::string command) {
  // Built with append: GCC 12 warns falsely (-Wrestrict) on "'" + string.
  const std::string binary = std::string(1, '\'').append(DANLU_BINARY).append(1, '\'');
  for (size_t at; (at = command.find("{danlu}")) != std::string::npos;) command.replace(at, 7, binary);
  const std::string cmd = std::string("cd '").append(DANLU_SOURCE_DIR).append("' && ").append(command).append(" 2>&1");
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return r;
}

// Runs the danlu binary with `args` from the source directory.
inline RunResult run_danlu(const std::string& args) { return run_shell("{danlu} " + args); }

// The small valid scenario most tests start from.
inline const char* kBase = R"(name: base
model: {preset: llama3-8b}
cluster: {system: dgx-h100, gpus: 64}
training:
  global_batch: 512
  parallelism: {tp: 8, pp: 2, dp: 4}
  tokens: 1T
)";

}  // namespace danlu::test
