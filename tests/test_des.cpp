// The discrete-event engine against the analytic one and against the closed
// forms it must reproduce when nothing contends, and the contention only it shows.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "sim/evaluate.hpp"
#include "tests/util.hpp"

using namespace danlu;
using doctest::Approx;

namespace {
// The calibration runs, sorted, split into `parts` so that ctest runs the
// parts in parallel (the DES replays are most of the suite's time).
void des_matches_analytic(int part, int parts) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(test::source("scenarios/calibration")))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 15);
  int n = 0;
  for (size_t i = static_cast<size_t>(part); i < files.size(); i += static_cast<size_t>(parts)) {
    Scenario s = load_scenario(files[i].string(), test::catalog());
    if (!s.measured) continue;  // a base file the runs extend
    CAPTURE(s.name);
    double analytic = evaluate(s, "analytic").step.time_s;
    double des = evaluate(s, "des").step.time_s;
    CHECK(des == Approx(analytic).epsilon(0.05));
    ++n;
  }
  CHECK(n >= 3);
}
}  // namespace

TEST_CASE("every engine name the loader accepts has an implementation, and only those") {
  for (const std::string& name : engine_names()) {
    CAPTURE(name);
    CHECK(make_engine(name) != nullptr);
  }
  CHECK(engine_names() == std::vector<std::string>{"analytic", "des"});
  CHECK_THROWS_AS(make_engine("anlytic"), InputError);
}

TEST_CASE("DES and analytic agree within 5% on every calibration run, part 1 of 4") { des_matches_analytic(0, 4); }
TEST_CASE("DES and analytic agree within 5% on every calibration run, part 2 of 4") { des_matches_analytic(1, 4); }
TEST_CASE("DES and analytic agree within 5% on every calibration run, part 3 of 4") { des_matches_analytic(2, 4); }
TEST_CASE("DES and analytic agree within 5% on every calibration run, part 4 of 4") { des_matches_analytic(3, 4); }

namespace {
const char* k512 = R"(name: fold-check-512
model: {preset: llama3-8b}
cluster: {system: dgx-h100, gpus: 512}
training:
  global_batch: 128
  parallelism: {tp: 8, pp: 4, dp: 16}
  tokens: 1T
)";
}  // namespace

TEST_CASE("where the host sets the pace, the DES waits for launches as the analytic engine does") {
  // DeepSeek-V3 on 256 B200 with EP 8: 32 local experts, each dispatched by
  // the host, between all-to-alls. The host launches ahead across the
  // collectives until a host sync; waiting for its launches at every
  // collective instead made the DES 15% slower than the analytic engine.
  // The DES replays 16 pipeline stages of 4 layers (the analytic engine
  // takes the first layer of each and the rest at their settled pace).
  const Scenario s =
      load_scenario(test::source("scenarios/validation/modern/mb-26.02-deepseek-v3-b200-mxfp8.yaml"), test::catalog());
  const double des = evaluate(s, "des").step.time_s, analytic = evaluate(s, "analytic").step.time_s;
  CHECK(des == Approx(analytic).epsilon(0.03));
  // Qwen3-30B-A3B at micro-batch 1 on 8 B200: no pipeline, the host sets
  // the pace in every layer, and its lead carries from layer to layer.
  const Scenario q = load_scenario(test::source("scenarios/validation/modern/mb-26.02-qwen3-30b-a3b-b200-mxfp8.yaml"),
                                   test::catalog());
  const StepResult qd = evaluate(q, "des").step, qa = evaluate(q, "analytic").step;
  CHECK(qd.time_s == Approx(qa.time_s).epsilon(0.02));
  // Both say how much of the compute is the GPU waiting for the host: most
  // of it here, and the power model counts that time idle.
  CHECK(qa.host_wait_s > 0.4 * qa.compute_s);
  CHECK(qa.host_wait_s < qa.compute_s);
  CHECK(qd.host_wait_s == Approx(qa.host_wait_s).epsilon(0.03));
  CHECK(qa.activity.idle_s >= qa.host_wait_s);
  // Dense layers keep the GPU ahead of the host: next to no wait.
  const StepResult dense = evaluate(test::scenario(k512), "analytic").step;
  CHECK(dense.host_wait_s < 0.01 * dense.compute_s);
}

TEST_CASE("folded and full fidelity agree within 3% at 512 GPUs") {
  Scenario folded = test::scenario(k512);
  Scenario full = test::scenario(k512, {"sim.fidelity=full"});
  double f = evaluate(folded, "des").step.time_s;
  double u = evaluate(full, "des").step.time_s;
  CHECK(u == Approx(f).epsilon(0.03));
}

TEST_CASE("full fidelity where rings are uneven or experts trade tokens: folded and full agree") {
  // 12 data-parallel ranks over 96 GB200: 9 share one NVL72 rack, 3 the next,
  // so the ring across racks has more senders on one side than the other.
  const std::string uneven =
      "name: uneven\nmodel: {preset: llama3-8b}\n"
      "cluster: {system: gb200-nvl72, gpus: 96, scale_out: {topology: rail-optimized}}\n"
      "training: {parallelism: {tp: 8, dp: 12}, global_batch: 96, zero: 0, overlap: {dp_comm: false}}\n";
  // Mixtral with expert parallelism: all-to-alls inside expert groups, overlapped TP.
  const std::string moe =
      "name: moe\nmodel: {preset: mixtral-8x7b}\n"
      "cluster: {system: dgx-h100, gpus: 64, scale_out: {topology: rail-optimized}}\n"
      "training: {parallelism: {tp: 2, dp: 32, ep: 8}, global_batch: 256, overlap: {tp_comm: true}}\n";
  for (const std::string& yaml : {uneven, moe}) {
    Result folded = evaluate(test::scenario(yaml), "des");
    Result full = evaluate(test::scenario(yaml, {"sim.fidelity=full"}), "des");
    CAPTURE(yaml);
    CHECK(full.step.time_s == Approx(folded.step.time_s).epsilon(0.03));
    for (CommKind k : kCommKinds) CHECK(full.step.comm_s[k] == Approx(folded.step.comm_s[k]).epsilon(0.05).scale(1e-3));
  }
}

namespace {
// A small uniform pipeline (no TP/DP) on a machine whose links are free, so
// that the step is compute and bubble only.
double free_comm_step(const std::string& schedule, int vpp, int microbatches) {
  Scenario s = test::scenario(
      "name: bubble\nmodel: {layers: 16, hidden: 2048, ffn_hidden: 8192, heads: 16, vocab: 1024, seq_len: 2048}\n"
      "cluster: {system: dgx-h100, gpus: 4}\n"
      "training: {parallelism: {tp: 1, pp: 4, dp: 1, vpp: " +
      std::to_string(vpp) + "}, pipeline_schedule: " + schedule + ", global_batch: " + std::to_string(microbatches) +
      "}\n");
  s.cluster.accelerator.scale_up_bytes_per_s = 1e18;
  s.cluster.system.scale_up_latency_s = 0;
  return evaluate(s, "des").step.time_s;
}
}  // namespace

TEST_CASE("pipeline bubble: (p-1)/m for 1F1B and (p-1)/(v m) for interleaved, communication free") {
  // T(m) = m t + bubble: two microbatch counts give the per-microbatch time t.
  for (int v : {1, 2}) {
    const std::string sched = v == 1 ? "1f1b" : "interleaved";
    double t8 = free_comm_step(sched, v, 8), t16 = free_comm_step(sched, v, 16);
    double per_mb = (t16 - t8) / 8;
    double bubble = (t8 - 8 * per_mb) / (8 * per_mb);
    CAPTURE(sched);
    CHECK(bubble == Approx(3.0 / (v * 8)).epsilon(0.05));
  }
}

TEST_CASE("two data-parallel groups across a 2:1 oversubscribed uplink: slower by the reduction's share") {
  // 4 GPUs in 2 nodes of 2, one 400G NIC per GPU, 4-port switches: each leaf
  // holds one node (2 ports down), with 2 uplinks (1:1) or 1 (2:1). TP pairs
  // sit in a node; the two DP groups {0,2} and {1,3} each cross between the
  // leaves, so both their flows need the leaf's uplinks at once.
  auto step = [](double oversub) {
    Scenario s = test::scenario(
        "name: contention\nmodel: {preset: llama3-8b}\n"
        "cluster: {system: dgx-h100, gpus: 4, scale_out: {topology: fat-tree, oversubscription: " +
        std::to_string(oversub) +
        "}}\n"
        "training: {parallelism: {tp: 2, dp: 2}, global_batch: 2, zero: 0, overlap: {dp_comm: false}}\n"
        "sim: {fidelity: full}\n");
    s.cluster.system.accelerators_per_node = 2;
    s.cluster.system.scale_up_domain = 2;
    s.cluster.fabric.switch_radix = 4;
    Result r = evaluate(s, "des");
    return std::make_pair(r.step.time_s, r.step.comm_s[CommKind::dp]);
  };
  auto [t1, dp1] = step(1);
  auto [t2, dp2] = step(2);
  // Two flows share one uplink port instead of two: the bandwidth part of the
  // reduction takes twice as long, and the step grows by about that much.
  CHECK(dp2 == Approx(2 * dp1).epsilon(0.05));
  CHECK(t2 - t1 == Approx(dp1).epsilon(0.05));
  CHECK(t2 > 1.05 * t1);
}

TEST_CASE("--trace writes a Chrome trace with every simulated rank") {
  std::string path = (std::filesystem::temp_directory_path() / "danlu-trace-test.json").string();
  auto r =
      test::run_danlu("run scenarios/llama3-405b-gb200-nvl72.yaml --engine des --trace " + path + " --format json");
  REQUIRE(r.status == 0);
  std::ifstream in(path);
  nlohmann::json j;
  in >> j;
  std::set<int> tids;
  int compute = 0;
  for (const auto& e : j["traceEvents"]) {
    tids.insert(e["tid"].get<int>());
    if (e["ph"] == "X" && e["cat"] == "compute") ++compute;
  }
  CHECK(tids.size() == 9);  // one rank per pipeline stage, folded
  CHECK(compute > 100);
  std::remove(path.c_str());
  auto bad = test::run_danlu("run scenarios/llama3-405b-h100.yaml --trace /tmp/x.json");
  CHECK(bad.status == 2);
  CHECK(bad.output == "error: --trace: a timeline needs the DES engine; add --engine des\n");
}

TEST_CASE("--trace: .gz compresses, --trace-ranks and --trace-window choose what is written") {
  // Issue 13: a 4,096-GPU trace wrote 2.1 GB, too large for Perfetto.
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("danlu-trace-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string plain = (dir / "t.json").string(), gz = plain + ".gz", part = (dir / "part.json").string();
  const std::string run = "run scenarios/llama3-405b-gb200-nvl72.yaml --engine des --format json --trace ";
  REQUIRE(test::run_danlu(run + plain).status == 0);
  REQUIRE(test::run_danlu(run + gz).status == 0);
  // The same bytes, compressed (gzip's own tool reads them back).
  CHECK(test::run_shell("zcat " + gz + " | cmp - " + plain).status == 0);
  CHECK(fs::file_size(gz) * 4 < fs::file_size(plain));
  auto r = test::run_danlu(run + part + " --trace-ranks 0-3 --trace-window 0.5:1");
  REQUIRE(r.status == 0);
  std::ifstream in(part);
  nlohmann::json j;
  in >> j;
  std::set<int> tids;
  int events = 0;
  for (const auto& e : j["traceEvents"]) {
    tids.insert(e["tid"].get<int>());
    if (e["ph"] != "X") continue;
    ++events;
    const double start = e["ts"].get<double>() / 1e6, end = start + e["dur"].get<double>() / 1e6;
    CHECK(end > 0.5);
    CHECK(start < 1.0);
  }
  CHECK(tids == std::set<int>{0});  // folded: rank 0 is the only one of 0-3 simulated
  CHECK(events > 10);
  r = test::run_danlu(run + part + " --trace-ranks 3-1");
  CHECK(r.status == 2);
  CHECK(r.output.find("error: --trace-ranks: expected ranks or ranges from 0 to") == 0);
  r = test::run_danlu(run + part + " --trace-window 2:1");
  CHECK(r.status == 2);
  CHECK(r.output == "error: --trace-window: expected FROM before TO, found \"2:1\"\n");
  fs::remove_all(dir);
}

TEST_CASE("a killed DES run leaves no simulation running") {
  // The forked simulation gets SIGKILL when its parent dies (kill -9 of a
  // run or a sweep used to leave it at 100% CPU until it finished).
  const std::string marker = "orphan-check-" + std::to_string(::getpid());
  // The pattern matches danlu's command line, not the shell's.
  const std::string pattern = "'^[^ ]*danlu run .*" + marker + "'";
  auto r = test::run_shell(
      "{danlu} run scenarios/llama3-405b-h100.yaml --engine des --set sim.fidelity=full --set cluster.gpus=4096 "
      "--set training.parallelism.dp=32 --set training.global_batch=512 --set name=" +
      marker + " >/dev/null 2>&1 & sleep 2; pgrep -f " + pattern + " | wc -l; pkill -9 -o -f " + pattern +
      "; sleep 1; pgrep -f " + pattern + " | wc -l");
  // Two processes (the run and its simulation) before, none after.
  CHECK(r.output == "2\n0\n");
}

TEST_CASE("a replay too large for the machine is refused before any work, with an estimate") {
  // 1e9 sequences a step on 8 GPUs: ~2e11 activities. It used to run out of
  // memory after half a minute; now it is refused at once, as a budget stop
  // (exit 4: the machine's memory, not the input, is the limit).
  auto r = test::run_shell(
      "timeout 20 {danlu} run scenarios/llama3-405b-h100.yaml --engine des --set training.global_batch=1e9");
  CHECK(r.status == 4);
  CHECK(r.output.find("the discrete-event replay would take ~") != std::string::npos);
  CHECK(r.output.find("use the analytic engine or fewer micro-batches") != std::string::npos);
  // A million GPUs at full fidelity: the same, with the folded mode suggested.
  r = test::run_shell(
      "timeout 20 {danlu} run scenarios/llama3-405b-h100.yaml --engine des --set sim.fidelity=full "
      "--set cluster.gpus=1048576 --set training.parallelism.dp=8192 --set training.global_batch=131072");
  CHECK(r.status == 4);
  CHECK(r.output.find("use sim.fidelity: folded") != std::string::npos);
}

TEST_CASE("--max-seconds stops a DES replay and reaps it; budgets refuse what cannot fit before any work") {
  // 2,048 GPUs at full fidelity: ~16M estimated activities, 3 s even at the
  // fastest rate the estimate assumes, 8-18 s here. Stopped at 4 s.
  const std::string big =
      "run scenarios/llama3-405b-h100.yaml --engine des --set sim.fidelity=full "
      "--set cluster.gpus=2048 --set training.parallelism.dp=16 --set training.global_batch=256";
  auto r = test::run_shell("timeout 60 {danlu} " + big + " --max-seconds 4");
  CHECK(r.status == 4);
  CHECK(r.output == "stopped: the discrete-event replay was stopped at --max-seconds 4 before it finished\n");
  // Below the estimate's floor it is refused at once, with the estimate.
  r = test::run_danlu(big + " --max-seconds 1");
  CHECK(r.status == 4);
  CHECK(r.output.find("stopped: the discrete-event replay would take ~1.6e+07 activities, at least 3 s, over the ") ==
        0);
  // Over the memory budget: a budget stop (exit 4), before any work.
  r = test::run_danlu(big + " --max-memory 0.1");
  CHECK(r.status == 4);
  CHECK(r.output.find("stopped: the discrete-event replay would take ~") == 0);
  CHECK(r.output.find("(~0.472 GB), over the 0.1 GB memory budget (--max-memory)") != std::string::npos);
}

TEST_CASE("a long DES replay reports its progress, and the result does not change") {
  // Issue 13: a 4,096-GPU full-fidelity run was silent for minutes. 512 GPUs
  // at full fidelity take a few seconds: the reporter speaks once a second.
  const Scenario s =
      load_scenario(test::source("scenarios/llama3-405b-h100.yaml"), test::catalog(),
                    {"sim.fidelity=full", "cluster.gpus=512", "training.parallelism.dp=4", "training.global_batch=64"});
  EngineOptions quiet, talking;
  std::vector<std::pair<double, long>> reports;
  talking.progress = [&](double simulated, long activities) { reports.emplace_back(simulated, activities); };
  const double with = evaluate(s, "des", talking).step.time_s;
  const double without = evaluate(s, "des", quiet).step.time_s;
  CHECK(with == without);
  REQUIRE(!reports.empty());
  for (size_t i = 1; i < reports.size(); ++i) {
    CHECK(reports[i].first >= reports[i - 1].first);
    CHECK(reports[i].second >= reports[i - 1].second);
  }
  CHECK(reports.back().first <= with);
}

TEST_CASE("sim.steps replays steps back to back; figures stay per step; sim.seed is noted") {
  // Pipelined (pp 4, interleaved) with ZeRO-1's overlapped gather and
  // reduction: three steps take three times one step's replay, and every
  // per-step figure equals the single step's (the optimizer and the first
  // stage's forward keep steps apart).
  const std::string yaml = std::string(test::kBase) + "sim: {engine: des}\n";
  Scenario one =
      test::scenario(yaml, {"training.parallelism.pp=4", "training.parallelism.dp=2", "training.parallelism.vpp=2"});
  Scenario three = test::scenario(
      yaml, {"training.parallelism.pp=4", "training.parallelism.dp=2", "training.parallelism.vpp=2", "sim.steps=3"});
  Result a = evaluate(one), b = evaluate(three);
  CHECK(b.step.time_s == Approx(a.step.time_s).epsilon(1e-9));
  CHECK(b.step.compute_s == Approx(a.step.compute_s).epsilon(1e-9));
  CHECK(b.step.exposed_comm_s == Approx(a.step.exposed_comm_s).epsilon(1e-9));
  CHECK(b.power.gpu_w == Approx(a.power.gpu_w).epsilon(1e-6));
  CHECK(std::none_of(a.warnings.begin(), a.warnings.end(),
                     [](const std::string& w) { return w.find("seed") != std::string::npos; }));
  Scenario seeded = test::scenario(yaml, {"sim.seed=7"});
  CHECK(std::any_of(seeded.warnings.begin(), seeded.warnings.end(),
                    [](const std::string& w) { return w.find("sim.seed changes nothing") != std::string::npos; }));
}
