// libFuzzer target: each line of the input is one `--set PATH=VALUE`, applied
// in turn to the flagship scenario, which is then loaded and evaluated.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace danlu;
  static const Node base = load_tree(DANLU_SOURCE_DIR "/scenarios/llama3-405b-h100.yaml");
  const std::string text(reinterpret_cast<const char*>(data), size);
  Node tree = base;
  try {
    for (const std::string& line : split(text, '\n'))
      if (!line.empty()) apply_set(tree, line);
  } catch (const InputError&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::finding(std::string("apply_set threw something other than InputError: ") + e.what());
  }
  fuzz::check_tree(tree);
  return 0;
}
