// `danlu schema [PREFIX]`: every field a scenario may hold, from the one
// declaration the loader reads (scenario/schema.hpp). docs/scenario.md's field
// reference is this command's markdown.
#include <fmt/format.h>

#include "cli/app.hpp"
#include "scenario/schema.hpp"
#include "views/output.hpp"

namespace danlu {

namespace {

// The declarations at `prefix` and under it (all for ""); an unknown prefix
// is bad input.
std::vector<const FieldDecl*> fields_under(const std::string& prefix) {
  std::vector<const FieldDecl*> out;
  for (const FieldDecl& d : scenario_schema())
    if (prefix.empty() || d.path == prefix || d.path.rfind(prefix + ".", 0) == 0) out.push_back(&d);
  if (out.empty()) {
    std::vector<std::string> paths;
    for (const FieldDecl& d : scenario_schema()) paths.emplace_back(d.path);
    throw InputError(Location{"danlu schema", 0, 0}, prefix, "no such field" + suggestion(prefix, paths));
  }
  return out;
}

}  // namespace

Table schema_table(const std::string& prefix, bool for_markdown) {
  Table t;
  t.header = {"field", "type", "default", "range", "meaning"};
  t.align_numbers = false;
  // In markdown the names are code, and danlu's additions to the shared
  // contract carry a mark.
  auto code = [&](std::string_view s) { return for_markdown && !s.empty() ? fmt::format("`{}`", s) : std::string(s); };
  for (const FieldDecl* field : fields_under(prefix)) {
    const FieldDecl& d = *field;
    std::string name = code(d.path);
    if (d.addition && for_markdown) name += " +";
    const bool literal = d.kind == DefaultKind::value && d.type != FieldType::block;
    std::string def = literal ? code(default_text(d)) : default_text(d);
    if (literal && !d.note.empty()) def += fmt::format(" ({})", d.note);
    t.rows.push_back({name, type_text(d), def, range_text(d), std::string(d.meaning)});
  }
  return t;
}

void add_schema_command(CLI::App& app, Context&) {
  auto* cmd = app.add_subcommand("schema", "List every scenario field: type, unit, default, range and meaning");
  cmd->footer(
      "Examples:\n"
      "  danlu schema                      every field\n"
      "  danlu schema training.parallelism one block\n"
      "  danlu schema --format json        for tools and editors\n\n"
      "A default in words is derived from other fields or the catalog; `danlu check FILE --explain`\n"
      "prints the value each default takes in a scenario.");
  struct Options {
    std::string prefix, format = "table";
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("prefix", opt->prefix, "Only this field and the fields under it, e.g. cost.buy");
  cmd->add_option("--format", opt->format, "table, markdown, csv or json")
      ->check(CLI::IsMember(kTableFormats))
      ->default_str("table");
  cmd->callback([opt]() {
    if (opt->format == "json") {
      Json out = Json::array();
      for (const FieldDecl* field : fields_under(opt->prefix)) {
        const FieldDecl& d = *field;
        out.push_back({{"path", std::string(d.path)},
                       {"type", type_text(d)},
                       {"default", default_text(d)},
                       {"default_source", std::string(d.kind == DefaultKind::value ? d.note : "")},
                       {"range", range_text(d)},
                       {"meaning", std::string(d.meaning)},
                       {"addition", d.addition}});
      }
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("{}", schema_table(opt->prefix, opt->format == "markdown").render(opt->format));
  });
}

}  // namespace danlu
