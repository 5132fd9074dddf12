// The C++ half of `import danlu`: the same steps as the command line
// (views/api.hpp), each taking and returning JSON text. danlu/__init__.py turns
// it into dicts, generators and Python exceptions.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "core/output_file.hpp"
#include "drivers/calibrate.hpp"
#include "drivers/validation.hpp"
#include "models/calibration.hpp"
#include "scenario/loader.hpp"
#include "sim/evaluate.hpp"
#include "views/api.hpp"
#include "views/result_view.hpp"

namespace py = pybind11;
using namespace danlu;

namespace {

// The built-in catalog under a calibration profile ("" built-in, "none",
// or a file), read once per profile: reading the catalog costs milliseconds,
// an analytic evaluation microseconds.
const Catalog& catalog_for(const std::string& calibration) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Catalog>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[calibration];
  if (!slot) {
    auto c = std::make_unique<Catalog>(Catalog::builtin(calibration.empty()));
    if (!calibration.empty() && calibration != "none") c->apply_profile(load_profile(calibration), calibration);
    slot = std::move(c);
  }
  return *slot;
}

// A scenario is a file path, or text (a dict turned into JSON, which is YAML).
Node scenario_tree(const std::string& source, bool is_text, const std::vector<std::string>& sets) {
  return is_text ? load_tree_text(source, "<dict>", sets) : load_tree(source, sets);
}

std::string run(const std::string& source, bool is_text, const std::vector<std::string>& sets,
                const std::string& engine, const std::string& calibration) {
  const Scenario s = build_scenario(scenario_tree(source, is_text, sets), catalog_for(calibration));
  py::gil_scoped_release unlocked;  // a DES replay may take minutes
  return result_json(s, evaluate(s, engine, EngineOptions{})).dump();
}

// The points of a scenario's sweep: block, evaluated one at a time so that
// Python can stream them.
class Sweep {
 public:
  Sweep(const std::string& source, bool is_text, const std::vector<std::string>& sets, std::string engine,
        const std::string& calibration)
      : cat_(&catalog_for(calibration)),
        engine_(std::move(engine)),
        plan_(plan_sweep(scenario_tree(source, is_text, sets), *cat_, Location{is_text ? "<dict>" : source, 0, 0})) {}
  size_t size() const { return plan_.size(); }
  std::string row(size_t i) const {
    if (i >= plan_.size()) throw py::index_error("no such sweep point");
    py::gil_scoped_release unlocked;
    return sweep_row(plan_.tree, plan_.point(i), *cat_, engine_, EngineOptions{}).dump();
  }

 private:
  const Catalog* cat_;
  std::string engine_;
  SweepPlan plan_;
};

std::string search_layouts(const std::string& source, bool is_text, const std::vector<std::string>& sets,
                           const std::string& objective, int top, const std::string& calibration) {
  const Scenario base = search_base(scenario_tree(source, is_text, {}), sets, catalog_for(calibration));
  Objective o = Objective::time;
  if (objective == "cost")
    o = Objective::cost;
  else if (objective == "energy")
    o = Objective::energy;
  else if (objective != "time")
    throw InputError("objective", fmt::format("expected time, cost or energy, found \"{}\"", objective));
  if (top < 1) throw InputError("top", fmt::format("expected at least 1, found {}", top));
  py::gil_scoped_release unlocked;
  return search_rows(search(base, o, top)).dump();
}

std::string catalog(const std::string& kind, const std::string& name) {
  const Catalog& cat = catalog_for("");
  if (kind.empty()) {
    Json j;
    for (const char* k : {"accelerators", "systems", "fabrics", "models"}) j[k] = catalog_names(k, cat);
    return j.dump();
  }
  if (!name.empty()) return catalog_entry(kind, name, cat).dump();
  Json all = Json::array();
  for (const auto& n : catalog_names(kind, cat)) all.push_back(catalog_entry(kind, n, cat));
  return all.dump();
}

Json summary_json(const ErrorSummary& e) {
  return {{"runs", e.n}, {"mape", e.mape}, {"mean_error", e.signed_mean}, {"worst", e.worst}, {"refused", e.refused}};
}

std::string calibrate(const std::vector<std::string>& paths, bool cross_validate, const std::string& output) {
  const Catalog base = Catalog::builtin(false);
  const auto cases = load_validation_cases(paths, base);
  if (cases.empty())
    throw InputError("calibrate", "no scenario with a measured step_s or tokens_per_s_per_gpu was found");
  py::gil_scoped_release unlocked;
  const FitOptions options;
  FitResult fit = fit_profile(cases, base, options);
  fit.profile.description = fmt::format("fitted by danlu.calibrate on {} measured runs", fit.cases);
  Json out = {{"cases", fit.cases},
              {"parameters", fit.parameters},
              {"rms_log_error", fit.rms_log_error},
              {"constants", fit.profile.constants},
              {"accelerators", fit.profile.accelerators},
              {"in_sample", summary_json(summarize(predict_cases(cases, base, fit.profile)))}};
  if (cross_validate) {
    const CrossValidation cv = leave_one_system_out(cases, base, options);
    out["leave_one_system_out"] = summary_json(summarize(cv.rows));
    fit.profile.uncertainty.insert(cv.error_by_class.begin(), cv.error_by_class.end());
  }
  out["profile_yaml"] = render_profile(fit.profile);
  if (!output.empty()) write_output_file(output, render_profile(fit.profile));
  return out.dump();
}

}  // namespace

PYBIND11_MODULE(_danlu, m) {
  m.doc() = "danlu's C++ engine; use the danlu package, not this module";
  // Bad input: the message the command line prints (file:line:col, the
  // field's path, what was expected and found). A dict scenario reaches the
  // loader as JSON text the module wrote, whose line:col mean nothing to the
  // caller: its errors name the key path alone ("<dict>: training.zero: ...").
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      const bool dict = e.location().file == "<dict>";
      const std::string message =
          dict ? fmt::format("<dict>: {}{}", e.path().empty() ? "" : e.path() + ": ", e.detail()) : e.what();
      PyErr_SetString(input_error.ptr(), message.c_str());
    }
  });
  py::register_exception<BudgetError>(m, "BudgetError", PyExc_RuntimeError);
  py::register_exception<OutputError>(m, "OutputError", PyExc_OSError);
  m.def("run", &run);
  py::class_<Sweep>(m, "Sweep")
      .def(py::init<const std::string&, bool, const std::vector<std::string>&, std::string, const std::string&>())
      .def("__len__", &Sweep::size)
      .def("row", &Sweep::row);
  m.def("search", &search_layouts);
  m.def("catalog", &catalog);
  m.def("calibrate", &calibrate);
}
