// A Hugging Face config.json as the fields of a scenario's `model:`.
//
// Planners often have a model only as its config.json. This reads the keys
// each supported architecture uses (Llama, Mistral, Mixtral, Qwen2/Qwen3 and
// their MoE variants, DeepSeek-V2/V3 with multi-head latent attention,
// GPT-OSS, Gemma 2/3) into the mapping `model:` takes, each value keeping
// its line in the JSON file so an error or `--explain` points there.
#pragma once

#include <string>
#include <vector>

#include "core/node.hpp"

namespace danlu {

struct HfModel {
  std::string architecture;        // the config's architectures[0]
  Node model;                      // the `model:` fields
  std::vector<std::string> notes;  // what was approximated, stated for the user
};

// Reads `config` (a parsed config.json). Throws InputError for an unknown
// architecture (naming the supported ones) or a missing or invalid key.
HfModel hf_model(const Node& config);

// Loads and reads the file at `path`.
HfModel load_hf_model(const std::string& path);

// The architectures hf_model() reads.
std::vector<std::string> hf_architectures();

}  // namespace danlu
