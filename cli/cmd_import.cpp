// `danlu import hf config.json`: a Hugging Face config as the `model:` block
// a scenario takes, with what it comes to.
#include <fmt/format.h>

#include "cli/app.hpp"
#include "scenario/loader.hpp"
#include "workload/hf_config.hpp"
#include "workload/model.hpp"

namespace danlu {

void add_import_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("import", "Print the model: block for a Hugging Face config.json");
  cmd->footer(fmt::format(
      "Examples:\n"
      "  danlu import hf config.json\n"
      "  danlu import hf config.json > model.yaml\n\n"
      "A scenario can also name the file itself: model: {{hf_config: config.json}} (relative to the scenario),\n"
      "with any field beside it overriding the config's.\n"
      "Architectures: {}",
      fmt::join(hf_architectures(), ", ")));
  struct Options {
    std::string kind, file;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("kind", opt->kind, "What to import: hf (a Hugging Face config.json)")
      ->required()
      ->check(CLI::IsMember({"hf"}));
  cmd->add_option("file", opt->file, "The config.json")->required();
  cmd->callback([&ctx, opt]() {
    const HfModel hf = load_hf_model(opt->file);
    // Read back as a scenario would, so what is printed is known to load,
    // and the totals are danlu's own count.
    Node tree = parse_yaml("name: import\ncluster: {system: dgx-h100, gpus: 8}\n", "import");
    tree.set("model", hf.model);
    const Scenario s = build_scenario(tree, ctx.catalog());
    const ParamCounts p = count_params(s.model);
    fmt::print("# {} ({}): {:.1f}B parameters, {:.1f}B active\n", opt->file, hf.architecture, p.total / 1e9,
               p.active / 1e9);
    for (const auto& note : hf.notes) fmt::print("# note: {}\n", note);
    Node out;
    out.set("model", hf.model);
    fmt::print("{}", to_yaml(out));
  });
}

}  // namespace danlu
