// libFuzzer target: a Hugging Face config.json and --set lines together.
// The input is the --set lines (PATH=VALUE, one per line), an empty line,
// then the config's text; the config becomes the model of a small scenario
// (as model.hf_config does), each --set applies in turn, and the result is
// loaded and evaluated. Seeds: tests/data/hf/*.json (scripts/fuzz.sh).
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_common.hpp"
#include "workload/hf_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace danlu;
  static const Node base = parse_yaml(
      "name: fuzz\ncluster: {system: dgx-h100, gpus: 64}\n"
      "training: {global_batch: 512, parallelism: {tp: 8, pp: 2, dp: 4}}\n",
      "fuzz.yaml");
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t blank = text.find("\n\n");
  const std::string sets = blank == std::string::npos ? std::string() : text.substr(0, blank);
  const std::string config = blank == std::string::npos ? text : text.substr(blank + 2);
  Node tree = base;
  try {
    tree.set("model", hf_model(parse_yaml(config, "config.json")).model);
    for (const std::string& line : split(sets, '\n'))
      if (!line.empty()) apply_set(tree, line);
  } catch (const InputError&) {
    return 0;
  } catch (const std::exception& e) {
    fuzz::finding(std::string("reading a config.json or --set threw something other than InputError: ") + e.what());
  }
  fuzz::check_tree(tree);
  return 0;
}
