// libFuzzer target: any bytes as a scenario file, loaded and evaluated.
// Run by `scripts/dev.sh fuzz SECONDS`; seeds come from scenarios/ and tests/bad/.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace danlu;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    // extends: is resolved from files by load_tree; here it is an unknown key,
    // which keeps the target away from the file system.
    fuzz::check_tree(parse_yaml(text, "fuzz.yaml"));
  } catch (const InputError&) {
  } catch (const std::exception& e) {
    fuzz::finding(std::string("parse_yaml threw something other than InputError: ") + e.what());
  }
  return 0;
}
