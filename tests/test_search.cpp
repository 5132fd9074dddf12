#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "drivers/search.hpp"
#include "tests/util.hpp"

using namespace danlu;

TEST_CASE("search: ranked layouts that fit, at least as good as the published one") {
  Scenario s = load_scenario(test::source("scenarios/llama3-405b-h100.yaml"), test::catalog());
  SearchStats st;
  auto best = search(s, Objective::time, 10, &st);
  REQUIRE(best.size() == 10);
  CHECK(st.generated > 1000);
  CHECK(st.fitted < st.generated);  // memory prunes
  for (size_t i = 0; i + 1 < best.size(); ++i) CHECK(best[i].score <= best[i + 1].score);
  for (const auto& c : best) {
    CHECK(c.result.memory.fits());
    const auto& p = c.scenario.training.par;
    CHECK(static_cast<long>(p.tp) * p.pp * p.dp * p.cp == 16384);
    CHECK(c.scenario.training.global_batch % (static_cast<long>(c.scenario.training.micro_batch) * p.dp) == 0);
  }
  // Meta's layout (tp 8, pp 16, dp 128, 1F1B) is one of the candidates.
  double published = evaluate(s, "analytic").step.time_s;
  CHECK(best.front().result.step.time_s <= published);
  // Other objectives rank by their own figure.
  auto cheap = search(s, Objective::cost, 3);
  CHECK(cheap.front().score ==
        doctest::Approx(std::min(cheap.front().result.cost.rent_usd, cheap.front().result.cost.buy_usd)));
  auto frugal = search(s, Objective::energy, 3);
  CHECK(frugal.front().score == doctest::Approx(frugal.front().result.power.energy_mwh));
}

TEST_CASE("search: a model that fits nowhere is a clear error") {
  auto r = test::run_danlu(
      "search scenarios/llama3-405b-h100.yaml --set cluster.gpus=8 --set training.global_batch=8 "
      "--set 'training.parallelism={tp: 8, pp: 1, dp: 1}'");
  CHECK(r.status == 2);
  CHECK(r.output.find("error: search: none of the") == 0);
  auto ok = test::run_danlu("search scenarios/llama3-405b-gb200-nvl72.yaml --top 3 --format json");
  CHECK(ok.status == 0);
  CHECK(ok.output.find("\"layout\"") != std::string::npos);
}

TEST_CASE("search: --set fixes a layout field, a search: block limits any dimension") {
  // Issue 13: `--set training.zero=1` was silently dropped by the search.
  auto r = test::run_danlu("search scenarios/llama3-405b-h100.yaml --set training.zero=1 --top 50 --format json");
  REQUIRE(r.status == 0);
  auto rows = nlohmann::json::parse(r.output);
  REQUIRE(rows.size() == 50);
  for (const auto& row : rows) CHECK(row["layout"]["zero"] == 1);
  // A search: block, with values outside the search's usual range (mb 16).
  Scenario s = test::scenario(std::string(test::kBase) +
                              "search: {training.parallelism.tp: [2, 4], training.micro_batch: [1, 16], "
                              "training.recompute: full}\n");
  CHECK(s.search.tp == std::vector<int>{2, 4});
  CHECK(s.search.micro_batch == std::vector<int>{1, 16});
  SearchStats stats;
  auto best = search(s, Objective::time, 1000, &stats);
  REQUIRE(!best.empty());
  bool saw_16 = false;
  for (const auto& c : best) {
    const auto& t = c.scenario.training;
    CHECK((t.par.tp == 2 || t.par.tp == 4));
    CHECK((t.micro_batch == 1 || t.micro_batch == 16));
    CHECK(t.recompute == Recompute::full);
    saw_16 = saw_16 || t.micro_batch == 16;
  }
  CHECK(saw_16);
  CHECK(static_cast<long>(best.size()) == stats.fitted);  // all of them: fewer than 1000
  // Limits are checked like every field.
  CHECK_THROWS_WITH(test::scenario(std::string(test::kBase) + "search: {training.parallelism.tq: [2]}\n"),
                    "test.yaml:8:10: search.training.parallelism.tq: not a layout dimension the search varies; did you "
                    "mean \"training.parallelism.tp\"?");
  CHECK_THROWS_WITH(test::scenario(std::string(test::kBase) + "search: {training.zero: [one]}\n"),
                    "test.yaml:8:26: search.training.zero: expected an integer 0 or more, found \"one\"");
}

TEST_CASE("search: a layout it finds is the one run builds, pipeline_split included") {
  // Search used to lay layers out evenly without the embedding and loss
  // places, so with pipeline_split its figures were not what `run` gives for
  // the same layout, and PP 16 x VP 8 over 126 layers was never tried.
  const std::string file = test::source("scenarios/validation/modern/mb-26.02-llama3.1-405b-gb200-mxfp8.yaml");
  Scenario s = load_scenario(file, test::catalog());
  s.search.tp = {4};
  s.search.pp = {16};
  s.search.zero = {1};
  s.search.recompute = {Recompute::none};
  s.search.vpp = {4, 8};
  auto best = search(s, Objective::time, 20);
  REQUIRE_FALSE(best.empty());
  bool published = false;
  for (const auto& c : best) {
    const TrainingSpec& t = c.scenario.training;
    published |= t.par.vpp == 8 && t.micro_batch == 1;
    CAPTURE(t.par.vpp);
    CAPTURE(t.micro_batch);
    Scenario again = load_scenario(
        file, test::catalog(),
        {"training.parallelism.vpp=" + std::to_string(t.par.vpp),
         "training.micro_batch=" + std::to_string(t.micro_batch), "training.parallelism.dp=" + std::to_string(t.par.dp),
         "training.parallelism.cp=" + std::to_string(t.par.cp)});
    CHECK(again.training.stage_layers == t.stage_layers);
    CHECK(evaluate(again, "analytic").step.time_s == doctest::Approx(c.result.step.time_s).epsilon(1e-12));
  }
  CHECK(published);  // 126 layers + 2 places fill PP 16 x VP 8
}

TEST_CASE("search: every layout it returns passes the loader's own layout rules") {
  // MoE on 64 GPUs: tp, cp, pp, ep and etp interact (experts fold over the
  // attention ranks); each returned layout, written back as --set fields,
  // must load without a layout error.
  const std::string file = test::source("scenarios/validation/modern/mb-26.02-qwen3-235b-a22b-h100-fp8.yaml");
  Scenario s = load_scenario(
      file, test::catalog(),
      {"cluster.gpus=64", "training.global_batch=256", "training.parallelism.pp=2", "training.parallelism.ep=8"});
  s.search.recompute = {Recompute::full};
  s.search.zero = {1};
  auto best = search(s, Objective::time, 40);
  REQUIRE(best.size() >= 10);
  for (const auto& c : best) {
    const TrainingSpec& t = c.scenario.training;
    const std::vector<std::string> sets = {"cluster.gpus=64",
                                           "training.global_batch=256",
                                           "training.parallelism.tp=" + std::to_string(t.par.tp),
                                           "training.parallelism.pp=" + std::to_string(t.par.pp),
                                           "training.parallelism.cp=" + std::to_string(t.par.cp),
                                           "training.parallelism.dp=" + std::to_string(t.par.dp),
                                           "training.parallelism.ep=" + std::to_string(t.par.ep),
                                           "training.parallelism.etp=" + std::to_string(t.par.etp),
                                           "training.parallelism.vpp=" + std::to_string(t.par.vpp),
                                           "training.micro_batch=" + std::to_string(t.micro_batch),
                                           "training.pipeline_schedule=" + std::string(t.schedule->name()),
                                           "training.recompute=full",
                                           "training.zero=1"};
    CAPTURE(fmt::format("{}", fmt::join(sets, " ")));
    CHECK_NOTHROW(load_scenario(file, test::catalog(), sets));
  }
}

TEST_CASE("search: a space too large is refused before any work; --max-seconds stops it with exit 4") {
  // Issue 31: long limit lists multiply; the bound comes from the list
  // lengths and the divisor counts alone.
  std::string mbs, vpps;
  for (int v = 1; v <= 3000; ++v) mbs += fmt::format("{}{}", v > 1 ? ", " : "", v);
  for (int v = 1; v <= 300; ++v) vpps += fmt::format("{}{}", v > 1 ? ", " : "", v);
  auto r = test::run_shell(
      "timeout 20 {danlu} search scenarios/llama3-405b-h100.yaml --set 'search={training.micro_batch: [" + mbs +
      "], training.parallelism.vpp: [" + vpps + "]}'");
  CHECK(r.status == 2);
  CHECK(r.output.find("error: search: up to ") == 0);
  CHECK(r.output.find("layouts to try, over the 1e+09 a search takes; limit micro-batch and vpp") != std::string::npos);
  // A search within the bound but longer than its budget stops at it.
  r = test::run_danlu("search scenarios/llama3-405b-h100.yaml --max-seconds 0.001");
  CHECK(r.status == 4);
  CHECK(r.output.find("stopped: --max-seconds 0.001 ran out after ") == 0);
}

TEST_CASE("search: a base layout that does not load is only a starting point") {
  // Issue 30: 1,024 GPUs with a global batch of 512 cannot be all data
  // parallel, and search refused to start, though finding a layout is its
  // point. It now starts from a plain layout that loads and says so.
  const std::string file = (std::filesystem::temp_directory_path() / "danlu-search-base.yaml").string();
  std::ofstream(file) << "name: s\nmodel: {preset: llama3-70b}\ncluster: {system: dgx-h100, gpus: 1024}\n"
                         "training: {global_batch: 512}\n";
  CHECK(test::run_danlu("run " + file).status == 2);
  auto r = test::run_danlu("search " + file + " --top 3 --format json");
  REQUIRE(r.status == 0);
  const auto rows = nlohmann::json::parse(r.output);
  REQUIRE(rows.size() == 3);
  for (const auto& row : rows) {
    const auto& l = row["layout"];
    CHECK(l["tp"].get<int>() * l["pp"].get<int>() * l["dp"].get<int>() * l["cp"].get<int>() == 1024);
    CHECK(512 % (l["micro_batch"].get<int>() * l["dp"].get<int>()) == 0);
  }
  CHECK(rows[0]["warnings"].dump().find("the scenario's own layout does not load") != std::string::npos);
  // A fixed field the constraint cannot meet still fails, with the real reason.
  r = test::run_danlu("search " + file + " --set training.parallelism.dp=1024");
  CHECK(r.status == 2);
  CHECK(r.output.find("512 sequences do not split") != std::string::npos);
  std::filesystem::remove(file);
}
