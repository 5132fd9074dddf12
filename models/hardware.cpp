#include "models/hardware.hpp"

#include <algorithm>
#include <stdexcept>

namespace danlu {

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names = {"fp4", "fp6", "fp8", "bf16", "fp16", "tf32", "fp32"};
  return names;
}

std::string_view to_string(Precision p) { return precision_names()[static_cast<size_t>(p)]; }

Precision precision_from(std::string_view name) {
  const auto& n = precision_names();
  const auto it = std::find(n.begin(), n.end(), name);
  // Callers check names against precision_names() first (the loader, the
  // catalog and profiles report a bad one with its location); one that slips
  // through is a bug, never an index past the tables.
  if (it == n.end()) throw std::logic_error("unknown precision " + std::string(name));
  return static_cast<Precision>(it - n.begin());
}

double bytes_per_element(Precision p) {
  switch (p) {
    case Precision::fp4: return 0.5;
    case Precision::fp6: return 0.75;
    case Precision::fp8: return 1;
    case Precision::bf16:
    case Precision::fp16: return 2;
    case Precision::tf32:
    case Precision::fp32: return 4;
  }
  return 2;
}

double KernelFigures::gemm(Precision p) const {
  double e = gemm_efficiency[static_cast<size_t>(p)];
  return e > 0 ? e : gemm_efficiency[static_cast<size_t>(Precision::bf16)];
}

}  // namespace danlu
