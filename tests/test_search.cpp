#include <doctest/doctest.h>

#include "sim/search.hpp"
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
  CHECK(cheap.front().score == doctest::Approx(std::min(cheap.front().result.cost.rent_usd, cheap.front().result.cost.buy_usd)));
  auto frugal = search(s, Objective::energy, 3);
  CHECK(frugal.front().score == doctest::Approx(frugal.front().result.power.energy_mwh));
}

TEST_CASE("search: a model that fits nowhere is a clear error") {
  auto r = test::run_danlu("search scenarios/llama3-405b-h100.yaml --set cluster.gpus=8 --set training.global_batch=8 "
                           "--set 'training.parallelism={tp: 8, pp: 1, dp: 1}'");
  CHECK(r.status == 2);
  CHECK(r.output.find("error: search: none of the") == 0);
  auto ok = test::run_danlu("search scenarios/llama3-405b-gb200-nvl72.yaml --top 3 --format json");
  CHECK(ok.status == 0);
  CHECK(ok.output.find("\"layout\"") != std::string::npos);
}
