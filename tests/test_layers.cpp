// The layer kinds of hybrid, linear-attention and sparse-attention models,
// against hand calculations from their papers' FLOP counts and the
// published parameter counts.
#include <doctest/doctest.h>

#include <algorithm>

#include <fmt/format.h>

#include "scenario/loader.hpp"
#include "tests/util.hpp"
#include "workload/layer.hpp"
#include "workload/pattern.hpp"
#include "workload/schedule.hpp"

using namespace danlu;
using doctest::Approx;

namespace {
Scenario load(const std::string& yaml) { return test::scenario(yaml); }
constexpr const char* kCluster = "cluster: {system: dgx-h100, gpus: 8}\n";

// The layer of the stack whose first part is of kind `name`.
int layer_of(const ModelSpec& m, std::string_view name) {
  for (int l = 0; l < m.layers; ++l)
    if (m.stack.of(l).parts[0].kind->name() == name) return l;
  return -1;
}
}  // namespace

TEST_CASE("Nemotron 3 Nano: NVIDIA's 31.6B parameters, 3.6B active with the embedding") {
  const ModelSpec m = load(std::string("name: m\nmodel: {preset: nemotron-3-nano}\n") + kCluster).model;
  const ParamCounts p = count_params(m);
  CHECK(p.total == Approx(31.6e9).epsilon(0.01));
  CHECK(p.active == Approx(3.6e9).epsilon(0.01));
  // 23 Mamba-2, 23 MoE and 6 attention layers, one part each.
  int mamba = 0, moe = 0, attention = 0;
  for (int l = 0; l < m.layers; ++l) {
    const std::string_view k = m.stack.of(l).parts[0].kind->name();
    mamba += k == "mamba2";
    moe += k == "moe";
    attention += k == "attention";
    CHECK(m.stack.of(l).parts.size() == 1);
  }
  CHECK(mamba == 23);
  CHECK(moe == 23);
  CHECK(attention == 6);
}

TEST_CASE("Mamba-2: the SSD chunked scan's FLOPs by hand (Dao and Gu 2024, section 6)") {
  const ModelSpec m = load(std::string("name: m\nmodel: {preset: nemotron-3-nano}\n") + kCluster).model;
  const LayerFlops f = layer_forward_flops(m, layer_of(m, "mamba2"), 1);
  // Per token, multiply-adds: C B^T per group, 8 x 128 x 128 = 131,072;
  // per head (64) scores x X (128 x 64) and two state products (2 x 128 x
  // 64), 64 x 24,576 = 1,572,864; conv1d 4 x (4096 + 2 x 8 x 128) = 24,576.
  CHECK(f.core == Approx(2.0 * (131072 + 1572864 + 24576)));
  // Weight GEMMs: in_proj 2688 x (2 x 4096 + 2 x 1024 + 64), out_proj
  // 4096 x 2688. The conv filter (6144 x 5 and its bias) and A, D and dt's
  // bias are parameters but no GEMM's: the conv's work is in the core above.
  const double weights = 2688.0 * 10304 + 4096.0 * 2688;
  CHECK(f.weights == Approx(2.0 * weights));
}

TEST_CASE("DeepSeek Sparse Attention: core work grows with L x top_k, the indexer's with L^2") {
  const std::string base = "name: m\nmodel: {preset: deepseek-v3, seq_len: 131072";
  const ModelSpec dense = load(base + "}\n" + kCluster).model;
  const ModelSpec dsa = load(base + ", sparse_attention: {top_k: 2048}}\n" + kCluster).model;
  const int l = layer_of(dsa, "dsa");
  REQUIRE(l >= 0);
  // MLA over 2,048 keys: 2 x 2048 x 128 heads x (192 + 128); the indexer's
  // scores over all 131,072 keys: 2 x 131072 x 64 x 128.
  CHECK(layer_forward_flops(dsa, l, 1).core == Approx(2.0 * 2048 * 128 * 320 + 2.0 * 131072 * 64 * 128));
  CHECK(layer_forward_flops(dense, l, 1).core == Approx(2.0 * 131072 * 128 * 320));
  // The indexer: 1536 x 64 x 128 + 7168 x 128 + 7168 x 64 = 13.96M a layer.
  CHECK(count_params(dsa).total - count_params(dense).total ==
        Approx(61 * (1536.0 * 8192 + 7168.0 * 128 + 7168.0 * 64 + 256)));
}

TEST_CASE("patterns: Megatron's repetition syntax, as recipes paste it") {
  CHECK(expand_pattern("(LLLA)*12", "AWLM", 100).size() == 48);
  CHECK(expand_pattern("(LLLA)*2", "AWLM", 100) == "LLLALLLA");
  // Megatron-Bridge's DeepSeek-V3 pipeline layout: 61 decoder layers.
  const std::string layout = expand_pattern("Et*4|(t*4|)*14tmL", "EtmL|", 1000);
  CHECK(std::count(layout.begin(), layout.end(), 't') == 61);
  CHECK(std::count(layout.begin(), layout.end(), '|') == 15);
  CHECK_THROWS_AS(expand_pattern("(LA", "AL", 100), PatternError);
  CHECK_THROWS_AS(expand_pattern("A*0", "A", 100), PatternError);
  CHECK_THROWS_AS(expand_pattern("A*99999999999", "A", 100), PatternError);
  CHECK_THROWS_AS(expand_pattern("X", "A", 100), PatternError);
}

TEST_CASE("Qwen3-Next's shape: 3 gated DeltaNet layers to 1 of attention, within 1% of 80B") {
  const Scenario s = load_scenario(test::source("scenarios/hybrid/qwen3-next-80b-h100.yaml"), test::catalog());
  const ModelSpec& m = s.model;
  CHECK(count_params(m).total == Approx(80e9).epsilon(0.01));
  int linear = 0;
  for (int l = 0; l < m.layers; ++l) linear += m.stack.of(l).parts[0].kind->name() == "linear_attention";
  CHECK(linear == 36);
  // Gated DeltaNet per token and value head (C 64, dk = dv = 128):
  // 64 x (3 x 128 + 2 x 128) + 3 x 128 x 128 = 90,112 multiply-adds; 32
  // heads; conv1d 4 x (2 x 2048 + 4096).
  const LayerFlops f = layer_forward_flops(m, layer_of(m, "linear_attention"), 1);
  CHECK(f.core == Approx(2.0 * (32 * 90112.0 + 4 * 8192.0)));
}

TEST_CASE("Presets of the hybrid, sparse and windowed models: their published parameter counts") {
  struct Case {
    const char* preset;
    double total_b;    // published, billions
    double tolerance;  // relative: 1%, or the rounding of a figure published to whole billions
    double active_b;   // published active without the input embedding; 0 where only total is given
  };
  // Nemotron-H paper (arXiv 2504.03624): "8B", 47B and 56B; Qwen: 80B;
  // DeepSeek: 671B without the MTP module (0.8B of indexers on top);
  // Google: 27B text model; OpenAI gpt-oss model card: 20.91B, 3.61B active.
  for (const Case& c :
       {Case{"nemotron-h-8b", 8.0, 0.015, 0}, Case{"nemotron-h-47b", 47, 0.01, 0}, Case{"nemotron-h-56b", 56, 0.01, 0},
        Case{"qwen3-next-80b-a3b", 80, 0.01, 0}, Case{"deepseek-v3.2-exp", 671, 0.01, 0},
        Case{"gemma-3-27b", 27, 0.01, 0}, Case{"gpt-oss-20b", 20.91, 0.01, 3.61}}) {
    CAPTURE(c.preset);
    const ModelSpec m = load(fmt::format("name: m\nmodel: {{preset: {}}}\n{}", c.preset, kCluster)).model;
    const ParamCounts p = count_params(m);
    CHECK(p.total / 1e9 == Approx(c.total_b).epsilon(c.tolerance));
    if (c.active_b > 0) CHECK((p.active - p.embedding) / 1e9 == Approx(c.active_b).epsilon(0.01));
  }
  // The layer mixes the papers give.
  const ModelSpec h56 = load(std::string("name: m\nmodel: {preset: nemotron-h-56b}\n") + kCluster).model;
  int mamba = 0, attention = 0;
  for (int l = 0; l < h56.layers; ++l) {
    mamba += h56.stack.of(l).parts[0].kind->name() == "mamba2";
    attention += h56.stack.of(l).parts[0].kind->name() == "attention";
  }
  CHECK(mamba == 54);
  CHECK(attention == 10);
  // DeepSeek-V3.2 is DeepSeek-V3 with DSA: the preset names its base.
  const ModelSpec v32 = load(std::string("name: m\nmodel: {preset: deepseek-v3.2-exp}\n") + kCluster).model;
  CHECK(v32.sparse_attention->top_k == 2048);
  CHECK(v32.mla->kv_lora_rank == 512);
  CHECK(v32.moe->experts == 256);
  const ModelSpec oss = load(std::string("name: m\nmodel: {preset: gpt-oss-20b}\n") + kCluster).model;
  CHECK(oss.moe->experts == 32);
  CHECK(oss.moe->top_k == 4);
  CHECK(oss.attention_sinks);
}

TEST_CASE("Mamba-1 (Jamba): parameters and the selective scan's FLOPs by hand") {
  const ModelSpec m = load(std::string("name: m\nmodel: {preset: jamba-1.5-mini}\n") + kCluster).model;
  const int l = layer_of(m, "mamba1");
  REQUIRE(l >= 0);
  // Hidden 4096, inner 8192, state 16, conv 4, dt_rank 256. GEMMs: in_proj
  // 4096 x 16384, x_proj 8192 x (256 + 32), dt_proj 256 x 8192, out_proj
  // 8192 x 4096. Vectors: conv 8192 x 5, A 8192 x 16, D and dt's bias 8192 each.
  const double gemms = 4096.0 * 16384 + 8192.0 * 288 + 256.0 * 8192 + 8192.0 * 4096;
  const double vectors = 8192.0 * 5 + 8192.0 * 16 + 2 * 8192.0;
  const LayerFlops f = layer_forward_flops(m, l, 1);
  // Layer 0 is a Mamba-1 layer with a dense SwiGLU MLP (3 x 4096 x 14336).
  CHECK(l == 0);
  CHECK(f.weights == Approx(2.0 * (gemms + 3.0 * 4096 * 14336)));
  // The scan: 9 per channel and state (Gu and Dao 2023, section 3.3); the
  // conv1d a multiply-add per tap and channel.
  CHECK(f.core == Approx(9.0 * 8192 * 16 + 2.0 * 4 * 8192));
  // AI21: 52B parameters, 12B active; Jamba 1.5 Large 398B and 94B.
  const ParamCounts p = count_params(m);
  CHECK(p.total / 1e9 == Approx(52).epsilon(0.01));
  CHECK(p.active / 1e9 == Approx(12).epsilon(0.01));
  const ParamCounts large =
      count_params(load(std::string("name: m\nmodel: {preset: jamba-1.5-large}\n") + kCluster).model);
  CHECK(large.total / 1e9 == Approx(398).epsilon(0.01));
  CHECK(large.active / 1e9 == Approx(94).epsilon(0.01));
  // 28 Mamba-1 layers, each of the gemms and vectors above, beside 4 attention layers.
  int mamba = 0;
  for (int i = 0; i < m.layers; ++i) mamba += m.stack.of(i).parts[0].kind->name() == "mamba1";
  CHECK(mamba == 28);
  const PartParams own = layer_kind("mamba1").params(m);
  CHECK(own.total == Approx(gemms + vectors));
  CHECK(own.vectors == Approx(vectors));
}
