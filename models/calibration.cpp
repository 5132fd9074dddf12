#include "models/calibration.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/reader.hpp"

namespace danlu {

const std::vector<ParamInfo>& constant_params() {
  static const std::vector<ParamInfo> params = {
      {"gemm_sustained", 0.5, 1.0, "",
       "fraction of a microbenchmark's large-GEMM rate that training sustains (clocks under the power cap, shared L2)"},
      {"gemm_sustained_low", 0.5, 1.0, "",
       "the same for fp8/fp6/fp4 GEMMs, on top: more power per second under the same cap, fixed costs over a shorter "
       "run"},
      {"gemm_k_half", 16, 512, "",
       "inner dimension at which a GEMM's fixed per-tile cost equals its main loop (CUTLASS prologue/epilogue)"},
      {"attention_seq_half", 32, 2048, "",
       "key length at which a fused attention kernel reaches half its long-sequence rate"},
      {"attention_head_dim_half", 16, 256, "",
       "head dimension at which attention reaches half its asymptotic rate (FA3: hd 64 at ~0.77 of hd 128)"},
      {"kernel_gap_s", 0.5e-6, 3e-6, "s",
       "GPU-side gap between dependent kernels (launch latency, drain, tail; ~0.9 us inside a CUDA graph)"},
      {"grouped_gemm", 0.4, 1.0, "",
       "fraction of a dense GEMM's rate that an eager framework's grouped GEMM (one GEMM per expert) reaches"},
      {"grouped_gemm_rows_half", 16, 2048, "",
       "tokens per expert at which a grouped GEMM loses half its rate to per-expert fixed costs (tails, prologue)"},
      {"grouped_gemm_group_s", 0, 100e-6, "s",
       "host time per expert of a grouped GEMM run as one GEMM per expert (split, quantise, cuBLAS call)"},
      {"host_sync_s", 5e-6, 300e-6, "s",
       "round trip of a host sync (MoE token counts): the queue drains, the host reads and launches again"},
      {"overlap_slowdown", 0, 0.5, "",
       "fraction by which compute slows while an overlapped collective shares the chip's SMs and HBM"},
  };
  return params;
}

const std::vector<ParamInfo>& accelerator_params() {
  static const std::vector<ParamInfo> params = {
      {"gemm", 0.30, 0.95, "", "large-GEMM throughput in training, fraction of the dense peak at that precision"},
      {"attention.forward", 0.20, 0.85, "", "fused attention forward, fraction of the 16-bit peak (causal work)"},
      {"attention.backward", 0.15, 0.80, "",
       "fused attention backward, fraction of the 16-bit peak (2.5x forward work)"},
      {"hbm", 0.55, 0.95, "", "achievable fraction of HBM bandwidth for memory-bound kernels"},
      {"launch", 5e-6, 30e-6, "s", "host cost of one eager kernel launch, framework dispatch included"},
  };
  return params;
}

namespace {
bool is_gemm(const std::string& name) { return name.rfind("gemm.", 0) == 0; }
Precision gemm_precision(const std::string& name) { return precision_from(name.substr(5)); }
bool valid_gemm(const std::string& name) {
  if (!is_gemm(name)) return false;
  const auto& names = precision_names();
  return std::find(names.begin(), names.end(), name.substr(5)) != names.end();
}
}  // namespace

const ParamInfo* find_accelerator_param(const std::string& name) {
  for (const auto& p : accelerator_params())
    if (p.name == name || (p.name == "gemm" && valid_gemm(name))) return &p;
  return nullptr;
}

const ParamInfo* find_constant_param(const std::string& name) {
  for (const auto& p : constant_params())
    if (p.name == name) return &p;
  return nullptr;
}

namespace {
double* field(ComputeConstants& c, const std::string& name) {
  if (name == "gemm_sustained") return &c.gemm_sustained;
  if (name == "gemm_sustained_low") return &c.gemm_sustained_low;
  if (name == "gemm_k_half") return &c.gemm_k_half;
  if (name == "attention_seq_half") return &c.attention_seq_half;
  if (name == "attention_head_dim_half") return &c.attention_head_dim_half;
  if (name == "kernel_gap_s") return &c.kernel_gap_s;
  if (name == "overlap_slowdown") return &c.overlap_slowdown;
  if (name == "host_sync_s") return &c.host_sync_s;
  if (name == "grouped_gemm") return &c.grouped_gemm;
  if (name == "grouped_gemm_rows_half") return &c.grouped_gemm_rows_half;
  if (name == "grouped_gemm_group_s") return &c.grouped_gemm_group_s;
  throw std::logic_error("unknown constant " + name);
}
double* field(KernelFigures& f, const std::string& name) {
  if (is_gemm(name)) return &f.gemm_efficiency[static_cast<size_t>(gemm_precision(name))];
  if (name == "attention.forward") return &f.attention_forward;
  if (name == "attention.backward") return &f.attention_backward;
  if (name == "hbm") return &f.hbm_efficiency;
  if (name == "launch") return &f.launch_s;
  throw std::logic_error("unknown accelerator parameter " + name);
}
}  // namespace

double get_param(const ComputeConstants& c, const std::string& name) {
  return *field(const_cast<ComputeConstants&>(c), name);
}
void set_param(ComputeConstants& c, const std::string& name, double value) { *field(c, name) = value; }
double get_param(const KernelFigures& f, const std::string& name) {
  return *field(const_cast<KernelFigures&>(f), name);
}
void set_param(KernelFigures& f, const std::string& name, double value) { *field(f, name) = value; }

namespace {

double read_value(Fields& f, const std::string& key, const ParamInfo& info) {
  const Quantity q = std::string(info.unit) == "s" ? Quantity::Time : Quantity::Real;
  const double v = f.quantity(key, q, std::nullopt, Range::NonNegative);
  if (!info.contains(v))
    throw InputError(f.loc_of(key), f.path_of(key),
                     fmt::format("expected a value from {} to {} ({}), found {}", info.lo, info.hi, info.meaning, v));
  return v;
}

}  // namespace

namespace {
Profile read_profile(const Node& root) {
  if (!root.is_map())
    throw InputError(root.loc, "", fmt::format("expected a calibration profile, found {}", root.describe()));
  Fields top(&root, "", nullptr);
  Profile p;
  p.description = top.text("description", "");
  {
    Fields c = top.sub("constants");
    for (const auto& info : constant_params())
      if (c.has(info.name)) p.constants[info.name] = read_value(c, info.name, info);
    c.finish();
  }
  if (const Node* accs = top.raw("accelerators")) {
    if (!accs->is_map())
      throw InputError(accs->loc, "accelerators",
                       fmt::format("expected a mapping of accelerator: figures, found {}", accs->describe()));
    for (const auto& [name, entry] : accs->map) {
      Fields a(&entry, "accelerators." + name, nullptr);
      auto& out = p.accelerators[name];
      Fields gemm = a.sub("gemm");
      for (const auto& prec : precision_names())
        if (gemm.has(prec)) out["gemm." + prec] = read_value(gemm, prec, *find_accelerator_param("gemm." + prec));
      gemm.finish();
      Fields attn = a.sub("attention");
      for (const char* k : {"forward", "backward"})
        if (attn.has(k))
          out[std::string("attention.") + k] =
              read_value(attn, k, *find_accelerator_param(std::string("attention.") + k));
      attn.finish();
      for (const char* k : {"hbm", "launch"})
        if (a.has(k)) out[k] = read_value(a, k, *find_accelerator_param(k));
      a.finish();
    }
  }
  {
    Fields u = top.sub("uncertainty");
    for (const char* vendor : {"nvidia", "amd", "google", "intel", "aws"})
      for (bool moe : {false, true}) {
        const std::string k = uncertainty_class(vendor, moe);
        if (u.has(k)) p.uncertainty[k] = u.quantity(k, Quantity::Fraction, std::nullopt, Range::UnitInterval);
      }
    for (const char* k : {"unmeasured", "unmeasured-moe"})
      if (u.has(k)) p.uncertainty[k] = u.quantity(k, Quantity::Fraction, std::nullopt, Range::UnitInterval);
    u.finish();
  }
  top.finish();
  return p;
}
}  // namespace

std::string uncertainty_class(const std::string& vendor, bool moe) { return moe ? vendor + "-moe" : vendor; }

Profile parse_profile(const std::string& text, const std::string& file) { return read_profile(parse_yaml(text, file)); }
Profile load_profile(const std::string& path) { return read_profile(load_yaml_file(path)); }

namespace {
std::string value_text(double v, const ParamInfo& info) {
  if (std::string(info.unit) == "s") return fmt::format("{:.3g}us", v * 1e6);
  return fmt::format("{:.4g}", v);
}
std::string range_text(const ParamInfo& info) {
  if (std::string(info.unit) == "s") return fmt::format("[{:.3g}us, {:.3g}us]", info.lo * 1e6, info.hi * 1e6);
  return fmt::format("[{:.3g}, {:.3g}]", info.lo, info.hi);
}
}  // namespace

std::string render_profile(const Profile& p) {
  std::string out = "# danlu calibration profile (read by --calibration FILE; see models/calibration.hpp).\n";
  out += "# Each value: [plausible range] and what it means.\n";
  if (!p.description.empty()) out += fmt::format("description: \"{}\"\n", p.description);
  out += "constants:\n";
  for (const auto& info : constant_params()) {
    auto it = p.constants.find(info.name);
    if (it == p.constants.end()) continue;
    out += fmt::format("  {}: {}  # {} {}\n", info.name, value_text(it->second, info), range_text(info), info.meaning);
  }
  if (!p.accelerators.empty()) out += "accelerators:\n";
  for (const auto& [acc, values] : p.accelerators) {
    out += fmt::format("  {}:\n", acc);
    std::string gemm;
    for (const auto& [k, v] : values)
      if (is_gemm(k)) gemm += fmt::format("{}{}: {:.4g}", gemm.empty() ? "" : ", ", k.substr(5), v);
    if (!gemm.empty())
      out += fmt::format("    gemm: {{{}}}  # {} {}\n", gemm, range_text(*find_accelerator_param("gemm.bf16")),
                         find_accelerator_param("gemm.bf16")->meaning);
    std::string attn;
    for (const char* k : {"forward", "backward"})
      if (auto it = values.find(std::string("attention.") + k); it != values.end())
        attn += fmt::format("{}{}: {:.4g}", attn.empty() ? "" : ", ", k, it->second);
    if (!attn.empty())
      out += fmt::format(
          "    attention: {{{}}}  # forward {}, backward {}: fused attention, fraction of the 16-bit peak\n", attn,
          range_text(*find_accelerator_param("attention.forward")),
          range_text(*find_accelerator_param("attention.backward")));
    for (const char* k : {"hbm", "launch"})
      if (auto it = values.find(k); it != values.end()) {
        const ParamInfo& info = *find_accelerator_param(k);
        out += fmt::format("    {}: {}  # {} {}\n", k, value_text(it->second, info), range_text(info), info.meaning);
      }
  }
  if (!p.uncertainty.empty()) {
    out +=
        "# Relative uncertainty of a prediction by class of system (vendor; -moe for MoE models):\n"
        "# the mean absolute leave-one-system-out error (classes of 5 rows or more);\n"
        "# `unmeasured` and `unmeasured-moe`: over every row of that kind.\n";
    out += "uncertainty:\n";
    for (const auto& [k, v] : p.uncertainty) out += fmt::format("  {}: {:.3f}\n", k, v);
  }
  return out;
}

}  // namespace danlu
