// Hugging Face config.json files as models: the files in tests/data/hf are
// written from the published configs; the totals are the published ones.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "sim/evaluate.hpp"
#include "tests/util.hpp"
#include "workload/hf_config.hpp"

using namespace danlu;
using doctest::Approx;

namespace {
ModelSpec hf(const std::string& file, const std::string& extra = "") {
  return test::scenario("name: m\nmodel: {hf_config: " + test::source("tests/data/hf/" + file) + extra +
                        "}\ncluster: {system: dgx-h100, gpus: 8}\n")
      .model;
}
}  // namespace

TEST_CASE("Hugging Face configs: parameter counts match the published totals") {
  struct Case {
    const char* file;
    double total, active;  // published, in billions
  };
  // Meta, Mistral AI, Qwen, DeepSeek, OpenAI and Google model cards.
  for (const Case& c : {Case{"llama-3.1-405b.json", 405.9, 405.9}, Case{"mistral-7b-v0.1.json", 7.24, 7.24},
                        Case{"mixtral-8x7b.json", 46.7, 12.9}, Case{"qwen2.5-72b.json", 72.7, 72.7},
                        Case{"qwen3-8b.json", 8.2, 8.2}, Case{"qwen3-30b-a3b.json", 30.5, 3.3},
                        Case{"deepseek-v3.json", 671, 37}, Case{"gemma-2-27b.json", 27.2, 27.2}}) {
    const ParamCounts p = count_params(hf(c.file));
    CAPTURE(c.file);
    CHECK(p.total / 1e9 == Approx(c.total).epsilon(0.015));
    CHECK(p.active / 1e9 == Approx(c.active).epsilon(0.03));
  }
  // gpt-oss-120b: OpenAI counts 116.8B and 5.13B active without the input embedding.
  const ModelSpec oss = hf("gpt-oss-120b.json");
  const ParamCounts p = count_params(oss);
  CHECK(p.total / 1e9 == Approx(116.8).epsilon(0.01));
  CHECK((p.active - p.embedding) / 1e9 == Approx(5.13).epsilon(0.02));
  CHECK(oss.sliding_window == 128);
  CHECK(oss.global_every == 2);
}

TEST_CASE("Hugging Face configs: the same model as the catalog's presets, field by field") {
  auto same = [](const ModelSpec& a, const ModelSpec& b) {
    CHECK(a.layers == b.layers);
    CHECK(a.hidden == b.hidden);
    CHECK(a.ffn_hidden == b.ffn_hidden);
    CHECK(a.heads == b.heads);
    CHECK(a.kv_heads == b.kv_heads);
    CHECK(a.head_dim == b.head_dim);
    CHECK(a.vocab == b.vocab);
    CHECK(a.seq_len == b.seq_len);
    CHECK(a.tied_embeddings == b.tied_embeddings);
    CHECK(a.mtp_layers == b.mtp_layers);
    CHECK(a.sliding_window == b.sliding_window);
    CHECK(a.global_every == b.global_every);
    REQUIRE(a.moe.has_value() == b.moe.has_value());
    if (a.moe) {
      CHECK(a.moe->experts == b.moe->experts);
      CHECK(a.moe->top_k == b.moe->top_k);
      CHECK(a.moe->shared_experts == b.moe->shared_experts);
      CHECK(a.moe->expert_ffn_hidden == b.moe->expert_ffn_hidden);
      CHECK(a.moe->dense_layers == b.moe->dense_layers);
    }
    REQUIRE(a.mla.has_value() == b.mla.has_value());
    if (a.mla) {
      CHECK(a.mla->q_lora_rank == b.mla->q_lora_rank);
      CHECK(a.mla->kv_lora_rank == b.mla->kv_lora_rank);
      CHECK(a.mla->v_head_dim == b.mla->v_head_dim);
    }
  };
  auto preset = [](const std::string& name) {
    return test::scenario("name: m\nmodel: {preset: " + name + "}\ncluster: {system: dgx-h100, gpus: 8}\n").model;
  };
  same(hf("llama-3.1-405b.json"), preset("llama3-405b"));
  same(hf("deepseek-v3.json"), preset("deepseek-v3"));
  same(hf("gpt-oss-120b.json", ", seq_len: 4096"), preset("gpt-oss-120b"));
  same(hf("qwen3-30b-a3b.json", ", seq_len: 4096"), preset("qwen3-30b-a3b"));
  same(hf("mixtral-8x7b.json", ", seq_len: 4096"), preset("mixtral-8x7b"));
  // The flagship's step from the config is the preset's, to the bit.
  const Scenario a =
      load_scenario(test::source("scenarios/llama3-405b-h100.yaml"), test::catalog(),
                    {"model.preset=null", "model.hf_config=" + test::source("tests/data/hf/llama-3.1-405b.json")});
  const Scenario b = load_scenario(test::source("scenarios/llama3-405b-h100.yaml"), test::catalog());
  CHECK(evaluate(a, "analytic").step.time_s == evaluate(b, "analytic").step.time_s);
}

TEST_CASE("Hugging Face configs: what cannot be read is an error at its place in the JSON") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("danlu-hf-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto error_of = [&](const std::string& json, const std::string& model = "") {
    std::ofstream(dir / "config.json") << json;
    std::ofstream(dir / "s.yaml") << "name: m\nmodel: {hf_config: config.json" << model
                                  << "}\ncluster: {system: dgx-h100, gpus: 8}\n";
    try {
      load_scenario((dir / "s.yaml").string(), test::catalog());
    } catch (const InputError& e) {
      return std::string(e.what()).substr(dir.string().size() + 1);
    }
    return std::string("no error");
  };
  CHECK(error_of("{\"architectures\": [\"BertModel\"]}")
            .rfind("config.json:1:20: architectures: \"BertModel\" is not supported; supported: LlamaForCausalLM, ",
                   0) == 0);
  CHECK(error_of("{\"architectures\": [\"LlamaForCausalLM\"],\n \"hidden_size\": 4096}") ==
        "config.json:1:1: num_hidden_layers: required by LlamaForCausalLM, missing");
  CHECK(error_of("{\"architectures\": [\"LlamaForCausalLM\"],\n \"num_hidden_layers\": 3.5}") ==
        "config.json:2:23: num_hidden_layers: expected a whole number, found \"3.5\"");
  CHECK(error_of("{}", ", preset: llama3-8b") ==
        "s.yaml:2:20: model.hf_config: give either preset or hf_config, not both");
  CHECK(error_of("[1, 2]") == "config.json:1:1: expected a config.json mapping, found a list");
  // One JSON object, read whole: trailing text or a second object is refused
  // where it starts, never dropped.
  const std::string trailing =
      "content after the end of the first value (a closed {...}, [...] or quoted text); "
      "a file holds one mapping or JSON object: remove the rest or merge it in";
  CHECK(error_of("{\"architectures\": [\"LlamaForCausalLM\"]} {\"hidden_size\": 1}") ==
        "config.json:1:41: " + trailing);
  CHECK(error_of("{\"architectures\": [\"LlamaForCausalLM\"]}\ntrailing words") == "config.json:2:1: " + trailing);
  // A missing file is an error at the hf_config value, like extends.
  std::ofstream(dir / "t.yaml") << "name: m\nmodel: {hf_config: missing.json}\n";
  try {
    load_scenario((dir / "t.yaml").string(), test::catalog());
    FAIL("a missing hf_config loads");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).substr(dir.string().size() + 1) ==
          "t.yaml:2:20: model.hf_config: no such file \"missing.json\" (paths are relative to this file's folder)");
  }
  fs::remove_all(dir);
}

TEST_CASE("danlu import hf prints a model: block that loads as the config does") {
  const auto r = test::run_danlu("import hf tests/data/hf/deepseek-v3.json");
  REQUIRE(r.status == 0);
  CHECK(r.output.rfind("# tests/data/hf/deepseek-v3.json (DeepseekV3ForCausalLM): 671.0B parameters, 37.6B active\n",
                       0) == 0);
  const std::string body = r.output.substr(r.output.find("model:"));
  const ModelSpec printed = test::scenario("name: m\n" + body + "cluster: {system: dgx-h100, gpus: 8}\n").model;
  CHECK(count_params(printed).total == count_params(hf("deepseek-v3.json")).total);
  CHECK(printed.mla->qk_rope_head_dim == 64);
  CHECK(test::run_danlu("import hf tests/data/hf/missing.json").status == 2);
  CHECK(test::run_danlu("import gguf tests/data/hf/deepseek-v3.json").status == 2);
}

TEST_CASE("Hugging Face configs: hybrid models import with their layer patterns") {
  // Nemotron 3 Nano (NVIDIA: 31.6B, 3.6B active with the input embedding),
  // the same stack as the catalog preset.
  const ModelSpec nano = hf("nemotron-3-nano-30b-a3b.json", ", seq_len: 8192");
  const ParamCounts p = count_params(nano);
  CHECK(p.total / 1e9 == Approx(31.6).epsilon(0.01));
  CHECK(p.active / 1e9 == Approx(3.6).epsilon(0.01));
  CHECK(nano.hybrid_pattern.size() == 52);
  CHECK(nano.mamba->state_size == 128);
  CHECK(nano.activation == Activation::relu2);
  // Qwen3-Next-80B-A3B (Qwen: 80B): three DeltaNet layers to one attention.
  const ModelSpec next = hf("qwen3-next-80b-a3b.json", ", seq_len: 4096");
  CHECK(count_params(next).total / 1e9 == Approx(80).epsilon(0.01));
  CHECK(next.mixer_pattern == "LLLALLLALLLALLLALLLALLLALLLALLLALLLALLLALLLALLLA");
  // Jamba 1.5 Mini (AI21: 52B, 12B active): attention at offset 4 of every
  // 8 layers, MoE at offset 1 of every 2; the catalog preset's stack.
  const ModelSpec jamba = hf("jamba-1.5-mini.json", ", seq_len: 4096");
  CHECK(count_params(jamba).total / 1e9 == Approx(52).epsilon(0.01));
  CHECK(count_params(jamba).active / 1e9 == Approx(12).epsilon(0.01));
  CHECK(jamba.mixer_pattern.substr(0, 8) == "SSSSASSS");
  CHECK(jamba.ffn_pattern.substr(0, 4) == "-E-E");
  CHECK(jamba.mamba1->inner == 8192);
  CHECK(jamba.mamba1->dt_rank == 256);
  const ModelSpec preset =
      test::scenario("name: m\nmodel: {preset: jamba-1.5-mini}\ncluster: {system: dgx-h100, gpus: 8}\n").model;
  CHECK(count_params(preset).total == count_params(jamba).total);
}

TEST_CASE("Hugging Face configs: Kimi Linear's linear_attn_config becomes KDA and MLA layers") {
  // The keys of Moonshot's KimiLinearForCausalLM config, on a small shape:
  // layers 4 and 8 (1-based) are full MLA attention, the rest KDA.
  const std::string file = (std::filesystem::temp_directory_path() / "danlu-kimi-linear.json").string();
  std::ofstream(file) << R"({"architectures": ["KimiLinearForCausalLM"], "hidden_size": 1024,
    "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 8, "intermediate_size": 4096,
    "vocab_size": 32000, "max_position_embeddings": 4096, "tie_word_embeddings": false,
    "q_lora_rank": null, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "num_experts": 64, "num_experts_per_token": 8, "num_shared_experts": 1, "moe_intermediate_size": 512,
    "first_k_dense_replace": 1, "moe_layer_freq": 1,
    "linear_attn_config": {"full_attn_layers": [4, 8], "kda_layers": [1, 2, 3, 5, 6, 7], "num_heads": 8,
                           "head_dim": 128, "short_conv_kernel_size": 4}})";
  const ModelSpec m =
      test::scenario("name: m\nmodel: {hf_config: " + file + "}\ncluster: {system: dgx-h100, gpus: 8}\n").model;
  CHECK(m.mixer_pattern == "LLLALLLA");
  CHECK(m.linear_attention->heads == 8);
  CHECK(m.linear_attention->key_heads == 8);
  CHECK(m.linear_attention->gate_rank == 128);  // KDA's channel-wise gates, low rank head_dim
  CHECK(m.mla->q_lora_rank == 0);
  CHECK(m.mla->kv_lora_rank == 512);
  CHECK(m.moe->top_k == 8);
  CHECK(m.moe->shared_experts == 1);
  CHECK(m.moe->dense_layers == 1);
  int kda = 0, mla = 0;
  for (int l = 0; l < m.layers; ++l) {
    kda += m.stack.of(l).parts[0].kind->name() == "linear_attention";
    mla += m.stack.of(l).parts[0].kind->name() == "mla";
  }
  CHECK(kda == 6);
  CHECK(mla == 2);
}

TEST_CASE("Hugging Face configs: Jamba periods and Kimi Linear layer lists that cannot be placed exit 2") {
  struct Case {
    const char* name;
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {"jamba-period", R"({"architectures": ["JambaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32,
        "num_attention_heads": 32, "intermediate_size": 14336, "vocab_size": 65536, "max_position_embeddings": 4096,
        "num_experts": 16, "num_experts_per_tok": 2, "attn_layer_period": 6, "attn_layer_offset": 4,
        "expert_layer_period": 2, "expert_layer_offset": 1})",
       ":3:75: attn_layer_period: expected a divisor of num_hidden_layers (32), found 6"},
      {"jamba-offset", R"({"architectures": ["JambaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32,
        "num_attention_heads": 32, "intermediate_size": 14336, "vocab_size": 65536, "max_position_embeddings": 4096,
        "num_experts": 16, "num_experts_per_tok": 2, "attn_layer_period": 8, "attn_layer_offset": 8,
        "expert_layer_period": 2, "expert_layer_offset": 1})",
       ":3:99: attn_layer_offset: expected below attn_layer_period (8), found 8"},
      {"kimi-layer", R"({"architectures": ["KimiLinearForCausalLM"], "hidden_size": 1024, "num_hidden_layers": 8,
        "num_attention_heads": 8, "intermediate_size": 4096, "vocab_size": 32000, "max_position_embeddings": 4096,
        "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "num_experts": 64,
        "num_experts_per_token": 8, "moe_intermediate_size": 512,
        "linear_attn_config": {"full_attn_layers": [4, 9], "num_heads": 8, "head_dim": 128}})",
       ":5:56: full_attn_layers: expected a layer from 1 to num_hidden_layers (8), found 9"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const std::string file =
        (std::filesystem::temp_directory_path() / (std::string("danlu-") + c.name + ".json")).string();
    std::ofstream(file) << c.json;
    const auto r = test::run_danlu("import hf " + file);
    CHECK(r.status == 2);
    CHECK(r.output == "error: " + file + c.message + "\n");
  }
}

TEST_CASE("Hugging Face configs: a known architecture not modelled names what is missing") {
  const std::string file = (std::filesystem::temp_directory_path() / "danlu-falcon-h1.json").string();
  std::ofstream(file) << R"({"architectures": ["FalconH1ForCausalLM"], "hidden_size": 4096})";
  try {
    load_hf_model(file);
    FAIL("Falcon-H1 was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("parallel attention and Mamba-2") != std::string::npos);
  }
}
