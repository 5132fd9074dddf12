// Predictions held against published measurements: the scenarios that declare
// `measured:` figures, evaluated and compared. `danlu validate`, `danlu
// calibrate` and the accuracy tests all read these rows.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/catalog.hpp"
#include "scenario/scenario.hpp"

namespace danlu {

// One scenario with a measured figure. The figure compared is tokens/s per
// GPU where the scenario gives it, else the step time (Selene runs).
struct ValidationCase {
  std::string file;
  std::string name;
  std::string system;  // catalog system name
  std::string accelerator;
  std::string vendor;
  std::string precision;  // "bf16", "fp8-tensorwise", "fp8-mxfp8", "fp4-nvfp4", ...
  bool moe = false;
  bool hybrid = false;  // a layer beyond attention + MLP/MoE (Mamba-2 or -1, linear attention)
  int gpus = 0;
  bool throughput = false;  // compares tokens/s per GPU (else step seconds)
  double measured = 0;
  // A scenario danlu refuses (its layout cannot be written) has no Scenario;
  // `refusal` holds the message and the row counts as a 100% error.
  std::string refusal;
  std::shared_ptr<const Scenario> scenario;
};

// Every scenario under `paths` (directories searched recursively for .yaml)
// that declares `measured:`; scenarios without it are skipped, scenarios that
// fail to load become refused cases.
std::vector<ValidationCase> load_validation_cases(const std::vector<std::string>& paths, const Catalog& catalog);

struct ValidationRow {
  const ValidationCase* c = nullptr;
  double predicted = 0;  // in the case's measure
  double error = 0;      // signed relative error, predicted/measured - 1
  double abs_error = 1;  // |error| capped at 1; refused rows count 1
  bool fits = true;
};

// Rows in the order of `cases`, predicted with `engine` ("" = each scenario's).
std::vector<ValidationRow> validate_cases(const std::vector<ValidationCase>& cases, const std::string& engine = "");

struct ErrorSummary {
  int n = 0;
  double mape = 0;         // mean of abs_error
  double signed_mean = 0;  // mean signed error (refused rows excluded)
  double worst = 0;
  int refused = 0;
};
ErrorSummary summarize(const std::vector<ValidationRow>& rows);
// Rows grouped by a key ("system", "precision", "kind" = dense|moe,
// "layers" = transformer|hybrid).
std::map<std::string, ErrorSummary> summarize_by(const std::vector<ValidationRow>& rows, const std::string& key);

}  // namespace danlu
