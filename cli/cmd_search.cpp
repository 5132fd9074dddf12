// `danlu search FILE`: the fastest, cheapest or most frugal layout for the
// scenario's model, cluster and batch.
#include <unistd.h>

#include <type_traits>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "core/units.hpp"
#include "drivers/search.hpp"
#include "scenario/loader.hpp"
#include "views/api.hpp"
#include "views/result_view.hpp"

namespace danlu {

namespace {
// "Limited to: tp 4|8, zero 1.\n", or "" when the search is free.
std::string describe_limits(const SearchLimits& lim) {
  std::string out;
  auto add = [&out](const char* name, const auto& values) {
    if (values.empty()) return;
    std::string list;
    for (const auto& v : values) {
      if (!list.empty()) list += "|";
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Recompute>)
        list += std::string(to_name(v));
      else
        list += std::to_string(v);
    }
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, list);
  };
  add("tp", lim.tp), add("pp", lim.pp), add("dp", lim.dp), add("cp", lim.cp), add("ep", lim.ep), add("vpp", lim.vpp);
  add("micro-batch", lim.micro_batch), add("recompute", lim.recompute), add("zero", lim.zero);
  return out.empty() ? "" : "Limited to: " + out + " (search: block and --set).\n";
}
}  // namespace

void add_search_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("search", "Find the best parallel layout for a scenario's model and cluster");
  cmd->footer(
      "Examples:\n"
      "  danlu search scenarios/llama3-405b-h100.yaml\n"
      "  danlu search scenarios/llama3-405b-gb200-nvl72.yaml --objective cost --top 5\n"
      "  danlu search my.yaml --set cluster.gpus=4096 --format json\n\n"
      "  danlu search my.yaml --set training.zero=1 --set training.recompute=selective   # fixed\n\n"
      "Tries every TP (within the scale-up domain), PP, DP, CP (up to 16), EP, vpp (1, 2, 4),\n"
      "micro-batch (1, 2, 4, 8), recomputation and ZeRO stage that divides the model and cluster,\n"
      "keeps those that fit in memory, and ranks them with the analytic engine. The global batch,\n"
      "precision and hardware stay the scenario's. A layout field given with --set is fixed; a\n"
      "search: block in the scenario limits any dimension, e.g.\n"
      "  search: {training.parallelism.tp: [4, 8], training.micro_batch: [1, 16], training.zero: 1}");
  struct Options {
    std::string file, objective = "time", format = "table";
    std::vector<std::string> sets;
    int top = 10;
    EngineOptions budget;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("file", opt->file, "Scenario file")->required();
  cmd->add_option("--set", opt->sets, "Override a field: PATH=VALUE (repeatable)");
  cmd->add_option("--objective", opt->objective, "time (step time) | cost (the cheaper of rent and buy) | energy (MWh)")
      ->check(CLI::IsMember({"time", "cost", "energy"}));
  cmd->add_option("--top", opt->top, "How many layouts to list")->check(CLI::Range(1, 1000));
  cmd->add_option("--format", opt->format, "table | json | csv | markdown")->check(CLI::IsMember(kTableFormats));
  add_budget_options(cmd, opt->budget);
  cmd->callback([&ctx, opt]() {
    const auto t0 = std::chrono::steady_clock::now();
    const Scenario base = search_base(load_tree(opt->file), opt->sets, ctx.catalog());
    const SearchLimits& lim = base.search;
    Objective o = opt->objective == "cost"     ? Objective::cost
                  : opt->objective == "energy" ? Objective::energy
                                               : Objective::time;
    const bool bar = isatty(2);
    SearchStats stats;
    auto best = search(base, o, opt->top, &stats, [&](long n) {
      if (bar) fmt::print(stderr, "\rsearching: {} layouts tried", n);
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (opt->budget.max_seconds > 0 && elapsed > opt->budget.max_seconds) {
        if (bar) fmt::print(stderr, "\r\033[K");
        throw BudgetError(
            fmt::format("--max-seconds {:g} ran out after {} layouts; nothing is listed "
                        "(limit the search with a search: block or --set)",
                        opt->budget.max_seconds, n));
      }
    });
    if (bar) fmt::print(stderr, "\r\033[K");
    if (best.empty())
      throw InputError("search", fmt::format("none of the {} layouts of {} fits in {:.1f} GB per GPU", stats.generated,
                                             base.name, base.cluster.accelerator.hbm_usable_bytes / 1e9));
    if (opt->format == "json" || opt->format == "csv") {
      const Json rows = search_rows(best);
      fmt::print("{}", opt->format == "json" ? rows.dump(2) + "\n" : render_rows(rows.get<std::vector<Json>>(), "csv"));
      return;
    }
    Table t;
    t.header = {"#",         "tp",   "pp",     "dp",     "cp",    "ep",   "vpp",      "mb",
                "recompute", "zero", "GB/GPU", "step s", "MFU %", "days", "cost USD", "MWh"};
    for (size_t i = 0; i < best.size(); ++i) {
      const auto& c = best[i];
      const auto& tr = c.scenario.training;
      const auto& r = c.result;
      t.rows.push_back({std::to_string(i + 1), std::to_string(tr.par.tp), std::to_string(tr.par.pp),
                        std::to_string(tr.par.dp), std::to_string(tr.par.cp), std::to_string(tr.par.ep),
                        std::to_string(tr.par.vpp), std::to_string(tr.micro_batch), std::string(to_name(tr.recompute)),
                        std::to_string(tr.zero), fmt::format("{:.0f}", r.memory.total() / 1e9),
                        fmt::format("{:.3f}", r.step.time_s), fmt::format("{:.1f}", 100 * r.mfu),
                        fmt::format("{:.1f}", r.days), format_quantity(r.cost.cheaper_usd(), Quantity::Count),
                        fmt::format("{:.0f}", r.power.energy_mwh)});
    }
    std::string text = t.render(opt->format);
    fmt::print(
        "{} layouts of {} (global batch {}, {}): {} fit in memory, searched in {:.2f} s ({:.0f} layouts/s).\n"
        "{}Best {} by {}:\n\n{}\nThe best in full:\n{}",
        stats.generated, base.name, base.training.global_batch, to_string(base.training.precision), stats.fitted,
        stats.seconds, static_cast<double>(stats.generated) / std::max(stats.seconds, 1e-9), describe_limits(lim),
        best.size(), opt->objective, text, result_text(best.front().scenario, best.front().result));
  });
}

}  // namespace danlu
