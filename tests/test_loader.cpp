#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "tests/util.hpp"

using namespace danlu;
using doctest::Approx;

namespace {
std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    test::scenario(yaml, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// A scratch folder of scenario files, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("danlu-test-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};
}  // namespace

TEST_CASE("defaults are filled and explained") {
  Scenario s = test::scenario(test::kBase);
  CHECK(s.model.layers == 32);
  CHECK(s.model.kv_heads == 8);
  CHECK(s.model.head_dim == 128);
  CHECK(s.training.par.dp == 4);
  CHECK(s.training.precision == Precision::bf16);
  CHECK(s.training.zero == 1);
  CHECK(s.training.sequence_parallel);
  CHECK(std::string(s.training.schedule->name()) == "1f1b");
  CHECK(s.training.microbatches() == 128);
  CHECK(s.cluster.nodes == 8);
  CHECK(s.cluster.racks == 2);
  CHECK(s.cluster.fabric.name == "infiniband-ndr");
  CHECK(s.cluster.topology == "rail-optimized");
  CHECK(s.facility.cooling == Cooling::rear_door);
  CHECK(s.facility.pue == Approx(1.3));
  // H100's 1-year reserved market rate, March 2026 (SemiAnalysis: $2.35).
  CHECK(s.cost.rent_usd_per_gpu_hour == Approx(2.35));
  CHECK(s.cost.rent_basis == kRentBasis);
  CHECK(s.cost.buy.server_usd == Approx(300000));
  CHECK(!s.reliability.given);
  auto find = [&](const std::string& path) {
    for (const auto& e : s.explain)
      if (e.path == path) return e;
    return ExplainEntry{};
  };
  CHECK(find("model.layers").source == "catalog/models.yaml:30:11");
  CHECK(find("training.parallelism.tp").source == "test.yaml:6:21");
  CHECK(find("facility.pue").source == "default: from cooling");
  CHECK(find("facility.pue").value == "1.3");
  CHECK(find("training.stage_layers").value == "[16, 16]");
}

TEST_CASE("dp is derived when omitted; tokens default to 20 per parameter") {
  Scenario s = test::scenario(
      "name: x\nmodel: {preset: llama3-8b}\ncluster: {system: dgx-h100, nodes: 4}\n"
      "training: {parallelism: {tp: 8}}\n");
  CHECK(s.cluster.gpus == 32);
  CHECK(s.training.par.dp == 4);
  CHECK(s.training.global_batch == 4);
  CHECK(s.training.tokens == Approx(20 * 8.03e9).epsilon(0.01));
}

TEST_CASE("racks and global_batch_tokens") {
  Scenario s = test::scenario(
      "name: x\nmodel: {preset: llama3-70b}\ncluster: {system: gb200-nvl72, racks: 2}\n"
      "training: {global_batch_tokens: 4Mi, parallelism: {tp: 8, pp: 9}}\n");
  CHECK(s.cluster.gpus == 144);
  CHECK(s.training.par.dp == 2);
  CHECK(s.training.global_batch == 512);
}

TEST_CASE("uneven pipelines: first and last stage give up layers first") {
  Scenario s = test::scenario(
      "name: x\nmodel: {preset: llama3-405b}\ncluster: {system: dgx-h100, gpus: 16384}\n"
      "training: {global_batch: 2048, parallelism: {tp: 8, pp: 16, dp: 128}}\n");
  std::vector<int> expect(16, 8);
  expect.front() = expect.back() = 7;
  CHECK(s.training.stage_layers == expect);
  CHECK(s.warnings.empty());
}

TEST_CASE("kv heads fewer than tp are replicated, with a note") {
  Scenario s = test::scenario(std::string(test::kBase), {"model.kv_heads=4"});
  REQUIRE(s.warnings.size() == 1);
  CHECK(s.warnings[0] == "kv_heads 4 < tp 8: each KV head is replicated on 2 GPUs");
}

TEST_CASE("--set overrides scalars, creates sections, and merges mappings") {
  Scenario s = test::scenario(test::kBase, {"training.precision=fp8", "training.parallelism={tp: 4, dp: 8}",
                                            "facility.pue=1.1", "model.seq_len=4096"});
  CHECK(s.training.precision == Precision::fp8);
  CHECK(s.training.par.tp == 4);
  CHECK(s.training.par.pp == 2);  // kept from the file: mappings merge
  CHECK(s.training.par.dp == 8);
  CHECK(s.facility.pue == Approx(1.1));
  CHECK(s.model.seq_len == 4096);
  CHECK(error_of(test::kBase, {"training.precision"}) ==
        "--set training.precision: expected PATH=VALUE, e.g. training.precision=fp8");
  CHECK(error_of(test::kBase, {"training.zero=9"}) ==
        "--set training.zero=9: training.zero: expected an integer 0 or more up to 3, found \"9\"");
  CHECK(error_of(test::kBase, {"name.x=1"}) == "--set name.x=1: name: is \"base\", cannot set \"x\" inside it");
  CHECK(error_of(test::kBase, {"training.precison=fp8"}) ==
        "--set training.precison=fp8: training.precison: unknown key; did you mean \"precision\"?");
  // "=null" removes a value, as null does in a file; "=" alone is an empty string.
  CHECK(test::scenario(test::kBase, {"cluster.gpus=null", "cluster.nodes=8"}).cluster.gpus == 64);
  CHECK(error_of(test::kBase, {"cluster.gpus=null"}).find("expected exactly one of gpus, nodes or racks, found 0") !=
        std::string::npos);
  CHECK(error_of(test::kBase, {"cluster.gpus="}) ==
        "--set cluster.gpus=: cluster.gpus: expected a positive integer up to 10000000, found \"\"");
}

TEST_CASE("extends: deep merge, override, null removes, cycles are named") {
  TempDir dir;
  dir.write("base.yaml", test::kBase);
  std::string child = dir.write("child.yaml",
                                "extends: base.yaml\nname: child\n"
                                "cluster: {system: gb200-nvl72, gpus: null, racks: 1}\n"
                                "training: {precision: fp8, parallelism: {dp: 9, pp: 1, tp: 8}, global_batch: 72}\n");
  Scenario s = load_scenario(child, test::catalog());
  CHECK(s.name == "child");
  CHECK(s.cluster.gpus == 72);
  CHECK(s.training.precision == Precision::fp8);
  CHECK(s.training.par.pp == 1);
  CHECK(s.training.par.dp == 9);
  CHECK(s.training.tokens == 1e12);  // inherited
  CHECK(s.model.layers == 32);       // inherited through the preset

  std::string grandchild = dir.write("sub/grand.yaml", "");
  std::filesystem::create_directories(dir.path / "sub");
  grandchild = dir.write("sub/grand.yaml", "extends: ../child.yaml\nname: grand\ntraining: {zero: 3}\n");
  Scenario g = load_scenario(grandchild, test::catalog());
  CHECK(g.training.zero == 3);
  CHECK(g.cluster.gpus == 72);

  dir.write("a.yaml", "extends: b.yaml\nname: a\n");
  dir.write("b.yaml", "extends: a.yaml\nname: b\n");
  try {
    load_scenario((dir.path / "a.yaml").string(), test::catalog());
    FAIL("a cycle must be refused");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("extends cycle: a.yaml -> b.yaml -> a.yaml") != std::string::npos);
    CHECK(e.location().line == 1);
  }
}

TEST_CASE("sweep axes are checked and expand to the cross product") {
  Scenario s = test::scenario(std::string(test::kBase) +
                              "sweep:\n  training.precision: [bf16, fp8]\n  training.zero: [0, 1, 3]\n");
  CHECK(s.sweep.size() == 2);
  CHECK(sweep_size(s.sweep) == 6);
  // The last axis varies fastest: point 4 is (fp8, 1), point 5 (fp8, 3).
  CHECK(sweep_point(s.sweep, 4)[0].second.scalar == "fp8");
  CHECK(sweep_point(s.sweep, 4)[1].second.scalar == "1");
  CHECK(sweep_point(s.sweep, 5)[0].second.scalar == "fp8");
  CHECK(sweep_point(s.sweep, 5)[1].second.scalar == "3");
  // A value wrong in form is refused at once...
  CHECK(error_of(std::string(test::kBase) + "sweep:\n  model.kv_heads: [8, eight]\n") ==
        "test.yaml:9:23: model.kv_heads: expected a positive integer up to 65536, found \"eight\"");
  // ...one that breaks a constraint only with the base's other fields is left
  // to the point (it may be right with another axis's values).
  CHECK(error_of(std::string(test::kBase) + "sweep:\n  model.kv_heads: [8, 3]\n") == "no error");
  CHECK(error_of(std::string(test::kBase) + "sweep:\n  training.zero: []\n") ==
        "test.yaml:9:18: sweep.training.zero: expected a non-empty list of values, found a list");
}

TEST_CASE("precision the chip lacks, and TPU defaults") {
  CHECK(error_of(test::kBase, {"cluster.accelerator=a100-sxm-80gb", "training.precision=fp8"}) ==
        "--set training.precision=fp8: training.precision: a100-sxm-80gb has no fp8 matrix path; it supports "
        "bf16, fp16, tf32, fp32");
  Scenario t = test::scenario(
      "name: t\nmodel: {preset: llama3-8b}\ncluster: {system: tpu-v5p-pod, gpus: 256}\n"
      "training: {parallelism: {tp: 4}}\n");
  CHECK(t.cluster.topology == "torus-3d");
  CHECK(t.cluster.fabric.name == "tpu-dcn");
  CHECK(t.training.par.dp == 64);
}

TEST_CASE("what a scenario leaves implicit is said as a note") {
  auto notes = [](const std::string& yaml, const std::vector<std::string>& sets = {}) {
    std::string all;
    for (const auto& w : test::scenario(yaml, sets).warnings) all += w + "\n";
    return all;
  };
  // 4,096 GB200 are 1,024 trays: 56 racks of 18 and one of 16 (issue 13).
  CHECK(notes("name: n\nmodel: {preset: llama3-70b}\ncluster: {system: gb200-nvl72, gpus: 4096}\n"
              "training: {parallelism: {tp: 4, pp: 4}}\n")
            .find("4096 GPUs fill 57 racks of 18 trays; the last holds 16, and is bought whole") != std::string::npos);
  CHECK(notes("name: n\nmodel: {preset: llama3-8b}\ncluster: {system: gb200-nvl72, gpus: 8}\n")
            .find("8 GPUs fill 2 of a rack's 18 trays; the rack is bought whole") != std::string::npos);
  // TP 16 on 8-GPU nodes: its all-reduces leave NVLink.
  CHECK(notes(test::kBase, {"cluster.gpus=128", "training.parallelism.tp=16", "training.parallelism.dp=4"})
            .find("tp 16 spans 2 scale-up domains of 8") != std::string::npos);
  // 16M tokens of 8,192 are 1,953.1 sequences.
  CHECK(notes(test::kBase, {"training.global_batch=null", "training.global_batch_tokens=16M", "cluster.gpus=16",
                            "training.parallelism.dp=1", "model.seq_len=8192"})
            .find("training.global_batch_tokens 16M is 1953.1 sequences of 8192: taken as 1953 (15998976 tokens") !=
        std::string::npos);
  // ... and a batch in tokens under global_batch points to its field.
  CHECK_THROWS_WITH(test::scenario(test::kBase, {"training.global_batch=16M tokens"}),
                    doctest::Contains("; a batch in tokens is global_batch_tokens: 16M"));
}

TEST_CASE("an override's value reads as YAML would read it, with or without the parser") {
  // apply_set makes plain words, numbers and escape-free JSON strings itself
  // (100,000 overrides in well under a second); each must be the node
  // yaml-cpp would have made.
  for (const std::string text :
       {"fp8",  "8192", "1.5e6",    "-1",     "+3",      ".5",         "1e-320", "0x10",    "null",
        "Null", "NULL", "a/b.json", "-",      "--",      "---",        "...",    "\"fp8\"", "\"a b, c\"",
        "\"\"", "true", "~",        "[1, 2]", "{tp: 8}", "\"a\\\"b\"", "x: 1"}) {
    CAPTURE(text);
    Node tree;
    tree.kind = Node::Kind::Map;
    try {
      apply_set(tree, "v=" + text);
    } catch (const InputError&) {
      CHECK_THROWS_AS(parse_yaml(text, "x"), InputError);
      continue;
    }
    const Node expected = parse_yaml(text, "x");
    const Node* got = tree.find("v");
    REQUIRE(got);
    CHECK(static_cast<int>(got->kind) == static_cast<int>(expected.kind));
    CHECK(got->scalar == expected.scalar);
    CHECK(got->quoted == expected.quoted);
    CHECK(got->items.size() == expected.items.size());
    CHECK(got->map.size() == expected.map.size());
  }
}
