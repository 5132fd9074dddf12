// `danlu calibrate`: fitting the compute model's few constants to measured
// runs, and the cross-validation that says how well that generalises.
//
// The parameters are the global constants and, for each accelerator that
// measured runs exist for, its kernel figures (large-GEMM efficiency per
// precision trained in, attention forward/backward, HBM efficiency); each has
// a physical meaning and a plausible range (models/calibration.hpp). The fit
// minimises the squared log error of the predicted figure (tokens/s per GPU,
// or step time) by Levenberg-Marquardt inside those ranges, with a weak pull
// toward the microbenchmark value so that a figure the runs say little about
// stays where the microbenchmarks put it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "drivers/validation.hpp"
#include "models/calibration.hpp"
#include "models/catalog.hpp"

namespace danlu {

struct FitOptions {
  std::vector<std::string> hold_out_systems;  // their cases take no part in the fit
  // Weight of the pull toward the microbenchmark value: a parameter one full
  // range away costs as much as this squared log error on one case.
  double prior = 0.2;
  int max_iterations = 60;
};

struct FitResult {
  Profile profile;
  int cases = 0;  // cases fitted on
  int parameters = 0;
  int iterations = 0;
  double rms_log_error = 0;  // over the fitted cases
};

// `base` must be the uncalibrated catalog (Catalog::builtin(false)): the fit
// starts from, and pulls toward, its microbenchmark figures. Refused cases
// take no part.
FitResult fit_profile(const std::vector<ValidationCase>& cases, const Catalog& base, const FitOptions& options);

// Every case predicted (analytic engine) under `profile` applied to `base`.
std::vector<ValidationRow> predict_cases(const std::vector<ValidationCase>& cases, const Catalog& base,
                                         const Profile& profile);

// Leave-one-system-out: each system's cases predicted by a fit on all the
// others, its accelerator at its microbenchmark figures (the error for a chip
// nobody measured).
struct CrossValidation {
  std::vector<ValidationRow> rows;  // in the order of the cases
  // Mean absolute error (capped at 100% a row, as the tables count it) of
  // the held-out predictions by class: the vendor, "-moe" appended for MoE
  // models (models/calibration.hpp, uncertainty_class), for classes of at
  // least 5 rows; "unmeasured" and "unmeasured-moe" over all rows of a kind.
  std::map<std::string, double> error_by_class;
};
CrossValidation leave_one_system_out(const std::vector<ValidationCase>& cases, const Catalog& base,
                                     const FitOptions& options);

}  // namespace danlu
