// The HTML report, rendered for real in headless Chromium (Debian's package,
// installed by scripts/setup.sh): it loads without console errors and every
// chart draws data.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/util.hpp"

using namespace danlu;

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("report: self-contained page, rendered in headless Chromium with every chart drawn") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("danlu-report-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string html = (dir / "report.html").string();
  auto r = test::run_danlu("report scenarios/llama3-405b-h100.yaml scenarios/llama3-405b-gb200-nvl72.yaml --engine des -o " + html);
  REQUIRE(r.status == 0);
  std::string page = read(html);
  // Nothing to fetch: no external scripts, styles or images.
  CHECK(page.find("src=\"http") == std::string::npos);
  CHECK(page.find("href=\"http") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);

  REQUIRE_MESSAGE(std::system("command -v chromium >/dev/null") == 0, "chromium is missing: run scripts/setup.sh");
  const std::string flags =
      "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
      "--disable-component-update --disable-sync --user-data-dir=" + (dir / "profile").string();
  const std::string dom = (dir / "dom.html").string(), log = (dir / "chromium.log").string();
  int rc = std::system(("timeout 120 chromium " + flags + " --enable-logging=stderr --v=0 --dump-dom file://" + html +
                        " > " + dom + " 2> " + log).c_str());
  REQUIRE(rc == 0);
  std::string drawn = read(dom), console = read(log);
  CHECK(drawn.find("data-charts=\"5\"") != std::string::npos);
  std::regex chart("id=\"chart-[a-z]+\" data-drawn=\"([0-9]+)\"");
  int charts = 0;
  for (auto it = std::sregex_iterator(drawn.begin(), drawn.end(), chart); it != std::sregex_iterator(); ++it) {
    CHECK(std::stoi((*it)[1]) > 0);
    ++charts;
  }
  CHECK(charts == 5);
  // Chromium logs page console messages as CONSOLE(...); any error shows there.
  CHECK(console.find("Uncaught") == std::string::npos);
  CHECK(console.find(":CONSOLE") == std::string::npos);
  fs::remove_all(dir);
}
