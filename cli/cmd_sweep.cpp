// `danlu sweep FILE`: every point of the scenario's `sweep:` block, streamed
// as rows as they finish.
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli/app.hpp"
#include "cli/mpi.hpp"
#include "scenario/loader.hpp"
#include "views/api.hpp"
#include "views/result_view.hpp"

namespace danlu {

namespace {

// The figures a CSV row carries (a fixed header, so rows can stream): the
// first twelve as danlu has always written them, then the point's value on
// each swept path, the layout, and every other summary figure of the JSON's
// step, training, power and cost (docs/report.md names them all).
const std::vector<std::pair<const char*, const char*>> kCsvColumns = {{"status", "status"},
                                                                      {"step_s", "step.time_s"},
                                                                      {"mfu", "step.mfu"},
                                                                      {"tokens_per_s", "step.tokens_per_s"},
                                                                      {"memory_gb", "memory.per_gpu_bytes"},
                                                                      {"fits", "fits"},
                                                                      {"days", "training.days"},
                                                                      {"it_mw", "power.it_mw"},
                                                                      {"facility_mw", "power.facility_mw"},
                                                                      {"rent_usd", "cost.rent_usd"},
                                                                      {"buy_usd", "cost.buy_usd"},
                                                                      {"error", "error"}};
const std::vector<const char*> kCsvFigures = {"layout.tp",
                                              "layout.pp",
                                              "layout.dp",
                                              "layout.cp",
                                              "layout.ep",
                                              "layout.vpp",
                                              "layout.micro_batch",
                                              "layout.recompute",
                                              "layout.zero",
                                              "step.compute_s",
                                              "step.exposed_comm_s",
                                              "step.bubble_s",
                                              "step.optimizer_s",
                                              "step.comm.tp_s",
                                              "step.comm.cp_s",
                                              "step.comm.ep_s",
                                              "step.comm.pp_s",
                                              "step.comm.dp_s",
                                              "step.model_flops_per_token",
                                              "step.tflops_per_gpu",
                                              "step.hfu",
                                              "step.uncertainty",
                                              "training.tokens",
                                              "training.steps",
                                              "training.gpu_hours",
                                              "training.goodput",
                                              "power.gpu_w",
                                              "power.pue",
                                              "power.rack_kw",
                                              "power.racks",
                                              "power.cooling",
                                              "power.coolable",
                                              "power.cooling_needed",
                                              "power.peak_it_mw",
                                              "power.trough_it_mw",
                                              "power.swing_mw",
                                              "power.energy_mwh",
                                              "power.network_kw",
                                              "power.switches",
                                              "power.transceivers",
                                              "cost.cheaper",
                                              "cost.break_even_months",
                                              "cost.usd_per_million_tokens",
                                              "cost.capex_usd",
                                              "cost.owned_usd_per_gpu_hour",
                                              "cost.fleet_buy_usd",
                                              "cost.fleet_rent_usd",
                                              "cost.rent_usd_per_month",
                                              "cost.own_usd_per_month",
                                              "cost.horizon_months",
                                              "cost.buy_possible",
                                              "cost.capex_parts.servers_usd",
                                              "cost.capex_parts.network_usd",
                                              "cost.capex_parts.facility_usd",
                                              "step.host_wait_s"};

std::string csv_header(const std::vector<SweepAxis>& axes) {
  std::string header = "point";
  for (const auto& c : kCsvColumns) header += std::string(",") + c.first;
  for (const auto& a : axes) header += "," + csv_cell(a.path);
  for (const char* f : kCsvFigures) header += std::string(",") + f;
  return header;
}

const Json* at_path(const Json& row, const std::string& path) {
  const Json* v = &row;
  for (const auto& part : split_path(path)) {
    if (!v->is_object() || !v->contains(part)) return nullptr;
    v = &(*v)[part];
  }
  return v;
}

std::string csv_value(const Json* v, double scale = 1.0) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_float()) return fmt::format("{:.6g}", v->get<double>() * scale);
  return v->dump();
}

std::string csv_row(const std::vector<std::pair<std::string, Node>>& point, const std::string& key, const Json& row) {
  std::string line = csv_cell(key);
  for (const auto& [name, path] : kCsvColumns)
    line += "," + csv_cell(csv_value(at_path(row, path), std::string(name) == "memory_gb" ? 1e-9 : 1.0));
  for (const auto& [path, value] : point) line += "," + csv_cell(to_yaml(value));
  for (const char* f : kCsvFigures) line += "," + csv_cell(csv_value(at_path(row, f)));
  return line + "\n";
}

// Keys of the rows already in `path`; the file is cut back to its last whole
// row, so a row half-written when a sweep was killed is redone, not kept.
// CSV is read as CSV: a quoted cell may hold a newline.
// Only a file a sweep wrote is touched: anything else is refused unchanged.
std::set<std::string> finished_points(const std::string& path, const std::string& format, const std::string& header) {
  std::set<std::string> done;
  std::ifstream in(path, std::ios::binary);
  if (!in) return done;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  // Whole rows end in a newline; in CSV, only one outside a quoted cell.
  size_t complete = 0;
  std::vector<std::string> csv_firsts;
  if (format == "csv")
    csv_firsts = csv_first_cells(text, &complete);
  else
    complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  const std::string whole = text.substr(0, complete);
  const std::string tail = text.substr(complete);
  const std::string lead = format == "csv" ? header : std::string("{\"point\":");
  auto refuse = [&](int line) {
    throw InputError(Location{path, line, line > 0 ? 1 : 0}, "--resume",
                     fmt::format("the file does not hold danlu sweep rows in {} (they start {}); "
                                 "give a new -o file, or remove this one",
                                 format, lead));
  };
  // The first line (whole, or cut short by a kill) starts as a sweep's does.
  const std::string first = whole.empty() ? tail : whole.substr(0, whole.find('\n'));
  const size_t n = std::min(first.size(), lead.size());
  if (!first.empty() && first.compare(0, n, lead, 0, n) != 0) refuse(1);
  if (format == "csv") {
    for (size_t k = 1; k < csv_firsts.size(); ++k) done.insert(csv_firsts[k]);  // after the header
  } else {
    int line_no = 0;
    for (size_t at = 0; at < whole.size();) {
      const size_t nl = whole.find('\n', at);
      const std::string line = whole.substr(at, nl - at);
      at = nl + 1;
      ++line_no;
      if (line.empty()) continue;
      const Json j = Json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("point") || !j["point"].is_string()) refuse(line_no);
      done.insert(j["point"].get<std::string>());
    }
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << whole;
  return done;
}

// The output file, opened for appending, locked, and only then emptied (a
// fresh sweep) or left to be cut back to its last whole row (--resume).
FILE* open_sweep_output(const std::string& path, bool resume) {
  FILE* out = std::fopen(path.c_str(), "ab");
  if (!out) throw OutputError(fmt::format("{}: cannot open the file for writing: {}", path, std::strerror(errno)));
  // One writer per output file: two sweeps (or two --resume runs) into the
  // same file interleaved their rows.
  struct stat st {};
  const bool regular = fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);
  if (regular && flock(fileno(out), LOCK_EX | LOCK_NB) != 0) {
    std::fclose(out);
    throw OutputError(
        fmt::format("{}: another danlu sweep is writing this file; wait for it or choose another file", path));
  }
  if (regular && !resume && ftruncate(fileno(out), 0) != 0)
    throw OutputError(fmt::format("{}: cannot empty the file for writing: {}", path, std::strerror(errno)));
  return out;
}

}  // namespace

void add_sweep_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("sweep", "Run every point of a scenario's sweep: block, streaming one row per point");
  cmd->footer(
      "Examples:\n"
      "  danlu sweep scenarios/sweeps/llama3-70b-systems.yaml\n"
      "  danlu sweep my.yaml --format csv -o points.csv --jobs 2\n"
      "  danlu sweep my.yaml -o points.jsonl --resume        # continue where a killed sweep stopped\n\n"
      "The sweep: block maps dotted paths to lists; every combination is a point. A point that is invalid\n"
      "or does not fit is a row with the reason, not a failure. Rows arrive in the order points finish.");
  struct Options {
    std::string file, format = "jsonl", output, engine;
    std::vector<std::string> sets;
    int jobs = 1;
    bool resume = false;
    EngineOptions engine_options;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("file", opt->file, "Scenario file with a sweep: block")->required();
  cmd->add_option("--set", opt->sets, "Override a field for every point: PATH=VALUE (repeatable)");
  cmd->add_option("--format", opt->format, "jsonl | csv")->check(CLI::IsMember({"jsonl", "csv"}));
  cmd->add_option("-o,--output", opt->output, "Write rows to FILE (default: standard output)");
  cmd->add_option("--jobs", opt->jobs, "Points evaluated in parallel threads")->check(CLI::Range(1, 256));
  cmd->add_option("--engine", opt->engine, "analytic | des (default: the scenario's sim.engine)")
      ->check(CLI::IsMember(engine_names()));
  cmd->add_flag("--resume", opt->resume, "Skip the points already in the output file and append the rest");
  add_budget_options(cmd, opt->engine_options);
  cmd->callback([&ctx, opt]() {
    if (opt->resume && opt->output.empty()) throw InputError("--resume", "needs an output file (-o FILE)");
    if (!opt->output.empty()) refuse_output_over_input(opt->output, {opt->file}, "--output");
    const Catalog& cat = ctx.catalog();
    const SweepPlan plan = plan_sweep(load_tree(opt->file, opt->sets), cat, Location{opt->file, 0, 0});
    const Node& tree = plan.tree;

    // Under mpirun, rank 0 decides what is left and shares it; each rank takes
    // every size-th point, and rank 0 writes all rows in point order.
    const MpiWorld& world = mpi_world();
    const bool lead = world.rank == 0;
    FILE* out = stdout;
    if (!lead) out = nullptr;
    if (lead && !opt->output.empty()) out = open_sweep_output(opt->output, opt->resume);
    std::set<std::string> done;
    std::vector<size_t> todo;
    if (lead) {
      if (opt->resume) done = finished_points(opt->output, opt->format, csv_header(plan.axes));
      for (std::uint64_t i = 0; i < plan.size(); ++i)
        if (done.empty() || !done.count(point_key(plan.point(i)))) todo.push_back(i);
    }
    todo = mpi_broadcast(world, todo);
    std::vector<size_t> mine;
    for (size_t k = 0; k < todo.size(); ++k)
      if (static_cast<int>(k % static_cast<size_t>(world.size)) == world.rank) mine.push_back(todo[k]);
    std::vector<std::pair<long, std::string>> held;  // rows kept for the gather under MPI

    // A CSV file gets its header once: when it is new or empty.
    std::error_code size_error;
    const bool empty_file =
        opt->output.empty() || !opt->resume || std::filesystem::file_size(opt->output, size_error) == 0 || size_error;
    // A row that cannot be written stops the sweep: every complete row so
    // far stays, and the command fails instead of reporting success.
    std::atomic<bool> write_failed{false};
    auto emit = [&](const std::string& line) {
      if (write_failed) return;
      if (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fflush(out) != 0) write_failed = true;
    };
    if (lead && opt->format == "csv" && empty_file) {
      emit(csv_header(plan.axes) + "\n");
    }

    std::mutex mu;
    std::atomic<size_t> next{0}, finished{0};
    const bool bar = isatty(2) && lead;
    const auto t0 = std::chrono::steady_clock::now();
    auto progress = [&]() {
      if (!bar) return;
      double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const size_t f = finished;
      const double done = static_cast<double>(f), total = static_cast<double>(std::max<size_t>(1, mine.size()));
      double rate = done / std::max(el, 1e-9);
      int filled = static_cast<int>(30.0 * done / total);
      fmt::print(stderr, "\r[{}{}] {}/{} points, {:.1f}/s, ETA {:.0f} s   ",
                 std::string(static_cast<size_t>(filled), '#'), std::string(static_cast<size_t>(30 - filled), '.'), f,
                 mine.size(), rate, rate > 0 ? static_cast<double>(mine.size() - f) / rate : 0.0);
    };
    // --max-seconds: no point starts after it, a DES point still running is
    // stopped and left out (so --resume redoes it), and the sweep says so.
    std::atomic<bool> out_of_time{false};
    auto worker = [&]() {
      for (size_t k; (k = next++) < mine.size();) {
        const SweepPoint point = plan.point(mine[k]);
        Json ordered;
        try {
          ordered = sweep_row(tree, point, cat, opt->engine, remaining_budget(opt->engine_options, t0));
        } catch (const BudgetError&) {
          out_of_time = true;
          next = mine.size();
          break;
        }
        std::string line = opt->format == "jsonl" ? ordered.dump() + "\n"
                                                  : csv_row(point, ordered["point"].get<std::string>(), ordered);
        std::lock_guard<std::mutex> lock(mu);
        if (world.active()) {
          held.emplace_back(static_cast<long>(mine[k]), std::move(line));
        } else {
          // One write and a flush per row: a killed sweep keeps every finished row.
          emit(line);
          if (write_failed) next = mine.size();  // stop handing out points
        }
        ++finished;
        progress();
      }
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < opt->jobs; ++i) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (world.active()) {
      auto rows = mpi_gather(world, std::move(held));
      std::sort(rows.begin(), rows.end());
      if (out)
        for (const auto& [index, line] : rows) emit(line);
    }
    if (bar) fmt::print(stderr, "\n");
    if (out && out != stdout && std::fclose(out) != 0) write_failed = true;
    if (write_failed)
      throw OutputError(
          fmt::format("{}: could not write a row (disk full?); the rows before it are complete, "
                      "--resume goes on",
                      opt->output.empty() ? "standard output" : opt->output));
    if (out_of_time)
      throw BudgetError(
          fmt::format("--max-seconds {:g} ran out after {} of {} points; every row written is complete, "
                      "--resume goes on",
                      opt->engine_options.max_seconds, finished.load(), mine.size()));
    if (!done.empty())
      fmt::print(stderr, "resumed: {} points were already done, {} run now\n", done.size(), todo.size());
    if (world.active() && lead) fmt::print(stderr, "sharded {} points over {} MPI ranks\n", todo.size(), world.size);
  });
}

}  // namespace danlu
