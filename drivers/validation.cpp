#include "drivers/validation.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "scenario/loader.hpp"
#include "sim/evaluate.hpp"

namespace danlu {

namespace {

std::vector<std::string> scenario_files(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      std::vector<std::string> here;
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.path().extension() == ".yaml") here.push_back(e.path().string());
      std::sort(here.begin(), here.end());
      files.insert(files.end(), here.begin(), here.end());
    } else {
      files.push_back(p);
    }
  }
  return files;
}

std::string precision_label(const TrainingSpec& t) {
  if (t.precision == Precision::fp8) return fmt::format("fp8-{}", to_name(t.fp8_recipe));
  if (t.precision == Precision::fp4) return fmt::format("fp4-{}", to_name(t.fp4_recipe));
  return std::string(to_string(t.precision));
}

// The fields of a refused scenario that the tables group by, read from its
// tree without the checks that refused it.
void describe_raw(const Node& tree, ValidationCase& c) {
  auto scalar = [&](std::initializer_list<const char*> path) -> std::string {
    const Node* n = &tree;
    for (const char* k : path) {
      n = n->is_map() ? n->find(k) : nullptr;
      if (!n) return "";
    }
    return n->is_scalar() ? n->scalar : "";
  };
  c.name = scalar({"name"});
  c.system = scalar({"cluster", "system"});
  std::string p = scalar({"training", "precision"});
  std::string r = scalar({"training", p == "fp4" ? "fp4_recipe" : "fp8_recipe"});
  if (r.empty()) r = p == "fp8" ? "tensorwise" : "nvfp4";
  c.precision = p.empty() ? "bf16" : (p == "fp8" || p == "fp4") ? fmt::format("{}-{}", p, r) : p;
  const Node* model = tree.find("model");
  c.moe = model && model->is_map() && model->find("moe") && !model->find("moe")->is_null();
  std::string tps = scalar({"measured", "tokens_per_s_per_gpu"});
  std::string step = scalar({"measured", "step_s"});
  c.throughput = !tps.empty();
  c.measured = std::atof((c.throughput ? tps : step).c_str());
  std::string gpus = scalar({"cluster", "gpus"});
  c.gpus = std::atoi(gpus.c_str());
}

}  // namespace

std::vector<ValidationCase> load_validation_cases(const std::vector<std::string>& paths, const Catalog& catalog) {
  std::vector<ValidationCase> out;
  for (const auto& file : scenario_files(paths)) {
    Node tree = load_tree(file);
    const Node* m = tree.find("measured");
    if (!m || m->is_null()) continue;
    ValidationCase c;
    c.file = file;
    try {
      auto s = std::make_shared<Scenario>(build_scenario(tree, catalog));
      if (!s->measured->tokens_per_s_per_gpu && !s->measured->step_s) continue;
      c.name = s->name;
      c.system = s->cluster.system.name;
      c.accelerator = s->cluster.accelerator.name;
      c.vendor = s->cluster.accelerator.vendor;
      c.precision = precision_label(s->training);
      c.moe = s->model.moe.has_value();
      c.hybrid = s->model.mamba || s->model.mamba1 || s->model.linear_attention;
      c.gpus = s->cluster.gpus;
      c.throughput = s->measured->tokens_per_s_per_gpu.has_value();
      c.measured = c.throughput ? *s->measured->tokens_per_s_per_gpu : *s->measured->step_s;
      c.scenario = std::move(s);
    } catch (const InputError& e) {
      describe_raw(tree, c);
      c.refusal = e.what();
      try {
        const Accelerator& a = catalog.accelerator(catalog.system(c.system).accelerator);
        c.accelerator = a.name;
        c.vendor = a.vendor;
      } catch (const InputError&) {
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ValidationRow> validate_cases(const std::vector<ValidationCase>& cases, const std::string& engine) {
  std::vector<ValidationRow> rows;
  rows.reserve(cases.size());
  for (const auto& c : cases) {
    ValidationRow r;
    r.c = &c;
    if (c.scenario) {
      Result res = evaluate(*c.scenario, engine);
      r.predicted = c.throughput ? res.tokens_per_s / c.gpus : res.step.time_s;
      r.error = r.predicted / c.measured - 1;
      r.abs_error = std::min(1.0, std::fabs(r.error));
      r.fits = res.memory.fits();
    }
    rows.push_back(r);
  }
  return rows;
}

ErrorSummary summarize(const std::vector<ValidationRow>& rows) {
  ErrorSummary s;
  int ran = 0;
  for (const auto& r : rows) {
    ++s.n;
    s.mape += r.abs_error;
    s.worst = std::max(s.worst, r.abs_error);
    if (r.c->scenario) {
      s.signed_mean += r.error;
      ++ran;
    } else {
      ++s.refused;
    }
  }
  if (s.n) s.mape /= s.n;
  if (ran) s.signed_mean /= ran;
  return s;
}

std::map<std::string, ErrorSummary> summarize_by(const std::vector<ValidationRow>& rows, const std::string& key) {
  std::map<std::string, std::vector<ValidationRow>> groups;
  for (const auto& r : rows) {
    std::string k = key == "system"      ? r.c->system
                    : key == "precision" ? r.c->precision
                    : key == "layers"    ? (r.c->hybrid ? "hybrid" : "transformer")
                                         : (r.c->moe ? "moe" : "dense");
    groups[k].push_back(r);
  }
  std::map<std::string, ErrorSummary> out;
  for (const auto& [k, g] : groups) out[k] = summarize(g);
  return out;
}

}  // namespace danlu
