// Sweeps through the real binary: rows per point, reasons for invalid points,
// parallel jobs, and --resume after a sweep is killed mid-way.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "tests/util.hpp"
#include "views/output.hpp"

using namespace danlu;

namespace {
const std::string kSweep = "scenarios/sweeps/llama3-70b-systems.yaml";

std::vector<nlohmann::json> read_rows(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("danlu-" + std::to_string(::getpid()) + "-" + name)).string();
}
}  // namespace

TEST_CASE("sweep: one row per point; invalid points are rows with the reason") {
  std::string out = temp("sweep.jsonl");
  auto r = test::run_danlu("sweep " + kSweep + " -o " + out);
  REQUIRE(r.status == 0);
  auto rows = read_rows(out);
  CHECK(rows.size() == 30);
  std::map<std::string, int> status;
  std::set<std::string> points;
  for (const auto& row : rows) {
    status[row["status"].get<std::string>()] += 1;
    points.insert(row["point"].get<std::string>());
  }
  CHECK(points.size() == 30);
  CHECK(status["invalid"] == 4);  // fp4 on H100 and Gaudi 3, two tp widths each
  CHECK(status["ok"] == 26);
  for (const auto& row : rows)
    if (row["status"] == "invalid")
      CHECK(row["error"].get<std::string>().find("has no fp4 matrix path") != std::string::npos);
  std::filesystem::remove(out);
}

TEST_CASE("sweep: parallel jobs give the same rows; csv has a fixed header") {
  std::string a = temp("a.jsonl"), b = temp("b.jsonl"), c = temp("c.csv");
  REQUIRE(test::run_danlu("sweep " + kSweep + " -o " + a).status == 0);
  REQUIRE(test::run_danlu("sweep " + kSweep + " --jobs 3 -o " + b).status == 0);
  auto key = [](const std::vector<nlohmann::json>& rows) {
    std::map<std::string, double> m;
    for (const auto& r : rows) m[r["point"]] = r.contains("step") ? r["step"]["time_s"].get<double>() : -1.0;
    return m;
  };
  CHECK(key(read_rows(a)) == key(read_rows(b)));
  REQUIRE(test::run_danlu("sweep " + kSweep + " --format csv -o " + c).status == 0);
  std::ifstream in(c);
  std::string header;
  std::getline(in, header);
  CHECK(header.rfind("point,status,step_s,mfu", 0) == 0);
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  CHECK(lines == 30);
  for (const auto& f : {a, b, c}) std::filesystem::remove(f);
}

TEST_CASE("sweep: a killed sweep loses no finished row, and --resume completes it") {
  std::string out = temp("killed.jsonl");
  // 16 DES points of ~0.2 s each: killed once it has written two rows (seen
  // in the file, however fast or loaded the machine), so part are done.
  test::run_danlu("sweep tests/sweep-slow.yaml -o " + out + " & pid=$!; for i in $(seq 600); do [ \"$(cat " + out +
                  " 2>/dev/null | wc -l)\" -ge 2 ] && break; sleep 0.05; done; kill -9 $pid; wait $pid");
  // Rows written so far are whole lines; --resume cuts a half-written one.
  std::ifstream check(out);
  std::string text((std::istreambuf_iterator<char>(check)), std::istreambuf_iterator<char>());
  int whole = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  CHECK(whole >= 2);
  CHECK(whole < 16);
  auto r = test::run_danlu("sweep tests/sweep-slow.yaml --resume -o " + out);
  REQUIRE(r.status == 0);
  auto rows = read_rows(out);
  std::set<std::string> points;
  for (const auto& row : rows) points.insert(row["point"].get<std::string>());
  CHECK(rows.size() == 16);
  CHECK(points.size() == 16);
  std::vector<nlohmann::json> partial(static_cast<size_t>(whole));
  CHECK(r.output.find("resumed: " + std::to_string(partial.size()) + " points were already done") != std::string::npos);
  CHECK(test::run_danlu("sweep " + kSweep + " --resume").status == 2);          // --resume needs -o
  CHECK(test::run_danlu("sweep scenarios/llama3-405b-h100.yaml").status == 2);  // no sweep: block
  std::filesystem::remove(out);
}

TEST_CASE("sweep: --max-seconds stops with every written row whole, exit 4, and --resume goes on") {
  std::string out = temp("budget.jsonl");
  // 16 DES points of 0.05-0.2 s each, one at a time: 0.2 s runs a few.
  auto r = test::run_danlu("sweep tests/sweep-slow.yaml --jobs 1 --max-seconds 0.2 -o " + out);
  CHECK(r.status == 4);
  CHECK(r.output.find("stopped: --max-seconds 0.2 ran out after ") != std::string::npos);
  CHECK(r.output.find("every row written is complete, --resume goes on") != std::string::npos);
  const auto first = read_rows(out);  // parses every line: none is cut
  CHECK(first.size() < 16);
  r = test::run_danlu("sweep tests/sweep-slow.yaml --resume -o " + out);
  CHECK(r.status == 0);
  std::set<std::string> points;
  for (const auto& row : read_rows(out)) points.insert(row["point"].get<std::string>());
  CHECK(points.size() == 16);
  std::filesystem::remove(out);
}

TEST_CASE("sweep csv: a column per swept path and every summary figure of the JSON") {
  // Issue 13: the CSV packed the swept values into one string and carried 13
  // columns. Every scalar under step, training, power and cost of a row must
  // have its column, so a new figure cannot be left out of the CSV.
  std::string j = temp("all.jsonl"), c = temp("all.csv");
  REQUIRE(test::run_danlu("sweep scenarios/sweeps/llama3-70b-systems.yaml -o " + j).status == 0);
  REQUIRE(test::run_danlu("sweep scenarios/sweeps/llama3-70b-systems.yaml --format csv -o " + c).status == 0);
  std::ifstream in(c);
  std::string header_line, first_line;
  std::getline(in, header_line);
  std::getline(in, first_line);
  std::vector<std::string> header;
  for (size_t at = 0, next; at <= header_line.size(); at = next + 1) {
    next = header_line.find(',', at);
    if (next == std::string::npos) next = header_line.size();
    header.push_back(header_line.substr(at, next - at));
  }
  auto has = [&](const std::string& col) { return std::find(header.begin(), header.end(), col) != header.end(); };
  for (const char* axis : {"cluster.system", "training.precision", "training.parallelism.tp"}) CHECK(has(axis));
  for (const char* col : {"layout.tp", "layout.micro_batch", "cost.capex_usd", "cost.usd_per_million_tokens"})
    CHECK(has(col));
  const std::map<std::string, std::string> legacy = {
      {"step.time_s", "step_s"},     {"step.mfu", "mfu"},        {"step.tokens_per_s", "tokens_per_s"},
      {"training.days", "days"},     {"power.it_mw", "it_mw"},   {"power.facility_mw", "facility_mw"},
      {"cost.rent_usd", "rent_usd"}, {"cost.buy_usd", "buy_usd"}};
  const auto row = read_rows(j).front();
  std::function<void(const nlohmann::json&, const std::string&)> walk = [&](const nlohmann::json& v,
                                                                            const std::string& path) {
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) walk(it.value(), path + "." + it.key());
      return;
    }
    if (v.is_array()) return;  // lists (collective algorithms) stay in the JSON
    CAPTURE(path);
    CHECK((has(path) || (legacy.count(path) && has(legacy.at(path)))));
  };
  for (const char* section : {"step", "training", "power", "cost"}) walk(row[section], section);
  std::filesystem::remove(j);
  std::filesystem::remove(c);
}

TEST_CASE("sweep csv --resume: quoted cells with newlines, commas and quotes; each point exactly once") {
  // Issue 31: a swept text with a newline became a multi-line CSV cell, and
  // --resume split on lines, miscounted and appended duplicates (8 rows for
  // 6 points). The sweep is cut at every third byte of its rows in turn (a
  // kill mid-row, inside a quoted cell or not) and resumed each time.
  namespace fs = std::filesystem;
  const std::string file = temp("quoted.yaml"), out = temp("quoted.csv");
  std::ofstream(file) << "name: s\nmodel: {preset: llama3-8b}\ncluster: {system: dgx-h100, gpus: 8}\n"
                         "training: {global_batch: 8, parallelism: {tp: 8}}\n"
                         "sweep:\n  description: [\"a\\nb\", \"c,d\", \"e\\\"f\"]\n  training.zero: [0, 1]\n";
  REQUIRE(test::run_danlu("sweep " + file + " --format csv -o " + out).status == 0);
  std::ifstream in(out);
  const std::string full((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t bytes = 0;
  const auto points = [&](const std::string& text) {
    auto firsts = csv_first_cells(text, &bytes);
    return std::vector<std::string>(firsts.begin() + 1, firsts.end());
  };
  const auto all = points(full);
  REQUIRE(all.size() == 6);
  CHECK(bytes == full.size());
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 6);
  CHECK(all[0] == "description=a\nb, training.zero=0");
  const size_t header = full.find('\n') + 1;
  int cuts = 0;
  for (size_t cut = header + 1; cut < full.size(); cut += full.size() / 7) {
    std::ofstream(out, std::ios::trunc) << full.substr(0, cut);
    const auto r = test::run_danlu("sweep " + file + " --format csv --resume -o " + out);
    REQUIRE(r.status == 0);
    std::ifstream again(out);
    const std::string text((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
    auto got = points(text);
    CAPTURE(cut);
    CHECK(bytes == text.size());
    CHECK(got.size() == 6);
    CHECK(std::set<std::string>(got.begin(), got.end()) == std::set<std::string>(all.begin(), all.end()));
    ++cuts;
  }
  CHECK(cuts >= 6);
  fs::remove(file);
  fs::remove(out);
}

TEST_CASE("sweep: points are counted before any work; past a million the sweep is refused") {
  // Issue 31: six axes of 100 values (10^12 points) grew memory until
  // std::bad_alloc. The count comes first, from the list lengths alone.
  const std::string file = temp("huge.yaml");
  std::string text =
      "name: s\nmodel: {preset: llama3-8b}\ncluster: {system: dgx-h100, gpus: 8}\n"
      "training: {global_batch: 8, parallelism: {tp: 8}}\nsweep:\n";
  for (const char* axis : {"training.micro_batch", "training.zero", "facility.pue", "facility.electricity",
                           "cost.utilization", "cost.rent.gpu_hour"}) {
    text += fmt::format("  {}: [", axis);
    for (int v = 0; v < 100; ++v) text += fmt::format("{}{}", v ? ", " : "", v + 1);
    text += "]\n";
  }
  std::ofstream(file) << text;
  auto r = test::run_shell("ulimit -v 1000000; timeout 20 {danlu} sweep " + file);
  CHECK(r.status == 2);
  CHECK(r.output == "error: " + file +
                        ":6:3: sweep: 6 axes make 100 x 100 x 100 x 100 x 100 x 100 = 1000000000000 points; a sweep "
                        "has at most 1000000: sweep fewer values per axis, split it over several files, or let `danlu "
                        "search` find the layout\n");
  // The same through check, which counts the points of a sweep it accepts.
  r = test::run_danlu("check " + file);
  CHECK(r.status == 2);
  std::filesystem::remove(file);
  r = test::run_danlu("check " + kSweep);
  CHECK(r.status == 0);
  CHECK(r.output.find("sweep of 30 points") != std::string::npos);
}

TEST_CASE("sweep: a DES point over --max-memory is a row with the reason; the sweep goes on") {
  const std::string out = temp("over.jsonl");
  const auto r = test::run_danlu("sweep tests/sweep-slow.yaml --max-memory 0.001 -o " + out);
  CHECK(r.status == 0);
  const auto rows = read_rows(out);
  CHECK(rows.size() == 16);
  for (const auto& row : rows) {
    CHECK(row["status"] == "over-budget");
    CHECK(row["error"].get<std::string>().find("over the 0.001 GB memory budget (--max-memory)") != std::string::npos);
  }
  std::filesystem::remove(out);
}
