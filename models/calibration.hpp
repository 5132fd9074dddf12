// Calibration profiles: fitted values of the compute model's few constants.
//
// The catalog's `kernels:` blocks hold what each chip reaches in public
// microbenchmarks; a profile refits some of them, and the global constants,
// against measured training runs (`danlu calibrate`). Every parameter has a
// physical meaning and a plausible range, declared once below; a profile
// value outside its range is an error. The built-in profile
// (models/catalog/calibration.yaml) is fitted on scenarios/calibration and
// scenarios/validation/modern; `--calibration FILE` replaces it and
// `--calibration none` runs on the microbenchmark figures alone.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "models/hardware.hpp"
#include "models/kernels.hpp"

namespace danlu {

// One fittable parameter: a global constant ("overlap_slowdown") or a
// per-accelerator kernel figure ("gemm.fp8", "attention.forward", "hbm").
struct ParamInfo {
  std::string name;
  double lo = 0, hi = 1;  // plausible range
  const char* unit = "";  // "" = a plain number or fraction, "s" = seconds
  const char* meaning = "";
  // Within the range; a value written on a bound in other units ("5us")
  // may parse one ulp outside it.
  bool contains(double v) const {
    const double ulps = 1e-12 * std::max(std::fabs(lo), std::fabs(hi));
    return v >= lo - ulps && v <= hi + ulps;
  }
};
const std::vector<ParamInfo>& constant_params();
// Per-accelerator parameters; "gemm.<precision>" stands for each precision.
const std::vector<ParamInfo>& accelerator_params();
// The info of a per-accelerator parameter name ("gemm.fp8" -> the gemm entry
// with the name kept), or nullptr.
const ParamInfo* find_accelerator_param(const std::string& name);
const ParamInfo* find_constant_param(const std::string& name);

double get_param(const ComputeConstants& c, const std::string& name);
void set_param(ComputeConstants& c, const std::string& name, double value);
double get_param(const KernelFigures& f, const std::string& name);
void set_param(KernelFigures& f, const std::string& name, double value);

struct Profile {
  std::string description;                                            // provenance, free text
  std::map<std::string, double> constants;                            // name -> value
  std::map<std::string, std::map<std::string, double>> accelerators;  // accelerator -> parameter -> value
  // Relative uncertainty of a prediction by class of system (the vendor,
  // "-moe" appended for MoE models): the mean absolute error of the leave-
  // one-system-out predictions; "unmeasured" / "unmeasured-moe" over all rows
  // of a kind, for a class with too few.
  std::map<std::string, double> uncertainty;
};

// Reads a profile; values are range-checked, names checked against the
// parameter table (accelerator names are checked when applied).
std::string uncertainty_class(const std::string& vendor, bool moe);

Profile parse_profile(const std::string& text, const std::string& file);
Profile load_profile(const std::string& path);
// YAML text, each value with its range and meaning as a comment.
std::string render_profile(const Profile& p);

}  // namespace danlu
