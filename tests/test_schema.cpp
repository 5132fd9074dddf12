// The scenario schema is the one declaration of the input: the loader reads
// nothing else, every literal default is valid, and docs/scenario.md holds it.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/app.hpp"
#include "scenario/schema.hpp"
#include "tests/util.hpp"
#include "views/output.hpp"

using namespace danlu;
using namespace danlu::test;

TEST_CASE("schema: every literal default is a valid value of its field") {
  std::set<std::string_view> paths;
  for (const FieldDecl& d : scenario_schema()) {
    CAPTURE(d.path);
    CHECK(paths.insert(d.path).second);  // declared once
    CHECK(!d.meaning.empty());
    if (d.kind == DefaultKind::derived) CHECK(!d.note.empty());
    if (d.type == FieldType::choice) REQUIRE(static_cast<bool>(d.choices));
    if (d.kind != DefaultKind::value) continue;
    if (d.type == FieldType::integer) {
      const long long v = std::stoll(std::string(d.def));
      CHECK(v >= d.min);
      CHECK(v <= d.max);
    } else if (d.type == FieldType::quantity) {
      const double v = parse_quantity(std::string(d.def), d.unit);
      CHECK(v <= d.at_most);
      CHECK(v >= (d.range == Range::AtLeastOne ? 1.0 : 0.0));
      if (d.range == Range::Positive) CHECK(v > 0);
    } else if (d.type == FieldType::choice) {
      const auto valid = d.choices();
      CHECK(std::find(valid.begin(), valid.end(), std::string(d.def)) != valid.end());
    } else if (d.type == FieldType::flag) {
      CHECK((d.def == "true" || d.def == "false"));
    }
  }
  // Each block's fields sit under a declared block.
  for (const FieldDecl& d : scenario_schema()) {
    const auto dot = d.path.rfind('.');
    if (dot == std::string_view::npos) continue;
    const FieldDecl* parent = find_field(d.path.substr(0, dot));
    CAPTURE(d.path);
    REQUIRE(parent != nullptr);
    CHECK(parent->type == FieldType::block);
  }
}

TEST_CASE("schema: the loader reads exactly the declared fields") {
  // Every value a scenario's explanation lists is declared, and across the
  // shipped scenarios every declared field is read at least once.
  std::set<std::string> read;
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(source("scenarios"))) {
    if (entry.path().extension() != ".yaml") continue;
    const Scenario s = load_scenario(entry.path().string(), catalog());
    ++files;
    for (const auto& e : s.explain) {
      if (e.path.front() == '[') continue;  // what the catalog gives the run, not a field
      CAPTURE(entry.path().string());
      CAPTURE(e.path);
      CHECK(find_field(e.path) != nullptr);
      read.insert(e.path);
    }
  }
  CHECK(files > 150);
  // Blocks, and the fields whose presence the explanation does not list:
  // the model's sources, the other ways to size a cluster or batch, the
  // blocks the other commands read.
  const std::set<std::string> unlisted = {
      "extends",         "model.hf_config", "cluster.nodes", "cluster.racks", "training.global_batch_tokens",
      "measured.step_s", "measured.mfu"};
  for (const FieldDecl& d : scenario_schema()) {
    if (d.type == FieldType::block || unlisted.count(std::string(d.path))) continue;
    CAPTURE(d.path);
    CHECK(read.count(std::string(d.path)) == 1);
  }
}

TEST_CASE("schema: a field read without a declaration is a bug, not bad input") {
  Node tree = parse_yaml("a: 1\n", "t.yaml");
  DeclaredFields f(Fields(&tree, "", nullptr));
  CHECK_THROWS_AS(f.integer("a"), std::logic_error);
  Node model = parse_yaml("layers: 4\n", "t.yaml");
  DeclaredFields m(Fields(&model, "model", nullptr));
  // A literal default is the declaration's; the loader may not give its own.
  CHECK_THROWS_AS(m.flag("dropout", true), std::logic_error);
  // A derived one the loader must give.
  CHECK_THROWS_AS(m.integer("kv_heads"), std::logic_error);
  CHECK(m.integer("layers") == 4);
  CHECK(m.integer("mtp_layers") == 0);  // the declared default
}

TEST_CASE("schema: the declared range is what the loader enforces") {
  auto error_of = [](const std::string& set) {
    try {
      scenario(kBase, {set});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(error_of("facility.pue=3.5").find("at most 3") != std::string::npos);
  CHECK(error_of("training.zero=4").find("0 or more up to 3") != std::string::npos);
  CHECK(error_of("sim.steps=1001").find("up to 1000") != std::string::npos);
  CHECK(error_of("sim.steps=1000") == "accepted");
  CHECK(error_of("cluster.scale_out.oversubscription=0.5").find("1 or more") != std::string::npos);
}

TEST_CASE("schema: docs/scenario.md holds the declaration (scripts/gen_scenario_doc.sh)") {
  std::ifstream in(source("docs/scenario.md"));
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const auto begin = doc.find("<!-- schema:begin");
  const auto end = doc.find("<!-- schema:end -->");
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  const auto body = doc.find('\n', begin) + 1;
  CHECK(doc.substr(body, end - body) == schema_table("", true).markdown());
}

TEST_CASE("schema: the command lists a block, and refuses an unknown one") {
  const auto ok = run_danlu("schema cost.buy");
  CHECK(ok.status == 0);
  CHECK(ok.output.find("cost.buy.depreciation") != std::string::npos);
  CHECK(ok.output.find("training") == std::string::npos);
  const auto bad = run_danlu("schema cost.bu");
  CHECK(bad.status == 2);
  CHECK(bad.output.find("did you mean \"cost.buy\"") != std::string::npos);
}
