// danlu's speed figures, printed (not asserted: machines here are shared and
// noisy). Run: build/danlu_bench [--quick]   (--quick: shorter timing, no 4,096-GPU full-fidelity DES)
#include <sys/resource.h>

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "drivers/search.hpp"
#include "scenario/loader.hpp"
#include "sim/evaluate.hpp"

using namespace danlu;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Evaluations per second of `s` with `engine`, timed over at least `min_s`.
double rate(const Scenario& s, const Engine& engine, double min_s, double* step_s) {
  int n = 0;
  auto t0 = Clock::now();
  double sink = 0;
  do {
    for (int i = 0; i < 100; ++i, ++n) sink += evaluate(s, engine, "analytic").step.time_s;
  } while (seconds_since(t0) < min_s);
  *step_s = sink / n;
  return n / seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const double min_s = quick ? 0.3 : 3.0;
  Catalog cat = Catalog::builtin();
  auto analytic = make_engine("analytic");
  fmt::print("danlu benchmark (one core{})\n", quick ? ", quick" : "");
  for (const char* file : {DANLU_SOURCE_DIR "/scenarios/llama3-405b-h100.yaml",
                           DANLU_SOURCE_DIR "/scenarios/llama3-405b-gb200-nvl72.yaml"}) {
    Scenario s = load_scenario(file, cat);
    double step = 0;
    double r = rate(s, *analytic, min_s, &step);
    fmt::print("  analytic  {:<28} {:>9.0f} evaluations/s  ({:.1f} us each; step {:.3f} s)\n", s.name, r, 1e6 / r,
               step);
  }
  // Loading included: what a sweep pays per point.
  auto t0 = Clock::now();
  int n = 0;
  do {
    for (int i = 0; i < 20; ++i, ++n)
      evaluate(load_scenario(DANLU_SOURCE_DIR "/scenarios/llama3-405b-h100.yaml", cat), *analytic, "analytic");
  } while (seconds_since(t0) < min_s);
  fmt::print("  load+analytic flagship             {:>9.0f} scenarios/s\n", n / seconds_since(t0));

  // Layout search over the flagship's model and cluster.
  {
    Scenario s = load_scenario(DANLU_SOURCE_DIR "/scenarios/llama3-405b-h100.yaml", cat);
    SearchStats st;
    search(s, Objective::time, 10, &st);
    fmt::print(
        "  search    flagship layouts                {:>9.0f} layouts/s  ({} tried, {} fit and evaluated, {:.2f} s)\n",
        static_cast<double>(st.generated) / st.seconds, st.generated, st.fitted, st.seconds);
  }

  // Bounded work (issue 31's targets: under 2 s and under 1 s): 100,000
  // overrides applied and refused at the first unknown key, and a sweep of
  // 10^12 points refused before any point is made.
  {
    std::vector<std::string> sets;
    for (int i = 0; i < 100'000; ++i) sets.push_back(fmt::format("training.unknown_{}={}", i, i));
    auto t = Clock::now();
    try {
      load_scenario(DANLU_SOURCE_DIR "/scenarios/llama3-405b-h100.yaml", cat, sets);
    } catch (const InputError&) {
    }
    fmt::print("  overrides 100,000 --set, refused              {:>9.3f} s  (target < 2 s)\n", seconds_since(t));
    std::string sweep =
        "name: s\nmodel: {preset: llama3-8b}\ncluster: {system: dgx-h100, gpus: 8}\n"
        "training: {global_batch: 8, parallelism: {tp: 8}}\nsweep:\n";
    for (int axis = 0; axis < 6; ++axis) {
      sweep += fmt::format("  facility.x{}: [", axis);
      for (int v = 0; v < 100; ++v) sweep += fmt::format("{}{}", v ? ", " : "", v + 1);
      sweep += "]\n";
    }
    t = Clock::now();
    try {
      build_scenario(load_tree_text(sweep, "sweep.yaml"), cat);
    } catch (const InputError&) {
    }
    fmt::print("  sweep     10^12 points, refused               {:>9.3f} s  (target < 1 s)\n", seconds_since(t));
  }

  // The DES: wall time of one step (each simulation runs in a child process,
  // whose peak memory getrusage reports).
  auto des = [&](const char* label, const std::vector<std::string>& sets) {
    Scenario s = load_scenario(DANLU_SOURCE_DIR "/scenarios/llama3-405b-h100.yaml", cat, sets);
    auto t = Clock::now();
    Result r = evaluate(s, "des");
    double wall = seconds_since(t);
    rusage ru{};
    getrusage(RUSAGE_CHILDREN, &ru);
    fmt::print("  des       {:<28} {:>9.2f} s wall  (step {:.3f} s; peak child memory so far {:.2f} GB)\n", label, wall,
               r.step.time_s, static_cast<double>(ru.ru_maxrss) / 1e6);
  };
  des("flagship 16,384 GPUs folded", {});
  if (!quick)
    des("4,096 GPUs full fidelity",
        {"sim.fidelity=full", "cluster.gpus=4096", "training.parallelism.dp=32", "training.global_batch=512"});
  return 0;
}
