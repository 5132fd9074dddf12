#include "drivers/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "sim/engine.hpp"
#include "topologies/network.hpp"
#include "workload/schedule.hpp"

namespace danlu {

namespace {

// A case ready to be predicted again and again: its scenario (whose kernel
// figures and constants the fit rewrites), schedule and network, which the
// fitted parameters do not change.
struct Working {
  const ValidationCase* c;
  Scenario s;
  StepSchedule sched;
  Network net;
};

std::vector<Working> prepare(const std::vector<ValidationCase>& cases, const std::set<std::string>& skip_systems) {
  std::vector<Working> out;
  for (const auto& c : cases) {
    if (!c.scenario || skip_systems.count(c.system)) continue;
    Working w{&c, *c.scenario, {}, {}};
    w.sched = build_schedule(w.s.model, w.s.training, false);
    w.net = make_network(w.s.cluster);
    out.push_back(std::move(w));
  }
  return out;
}

double predict(const Working& w, const Engine& engine) {
  StepResult r = engine.run(w.s, w.sched, w.net);
  return w.c->throughput ? w.sched.tokens / r.time_s / w.s.cluster.gpus : r.time_s;
}

// The parameters a fit moves: where each lives and its range.
struct FreeParam {
  std::string accelerator;  // "" = a global constant
  std::string name;
  double lo, hi, start;
  bool dense = true;  // some dense case depends on it
};

// Parameters only MoE layers exercise: fitted on the MoE cases, after
// everything the dense cases pin is fitted on them, so that what the MoE
// model misses cannot leak into a chip's GEMM or HBM figures.
bool moe_only(const std::string& name) {
  return name == "grouped_gemm" || name == "grouped_gemm_rows_half" || name == "grouped_gemm_group_s" ||
         name == "host_sync_s" || name == "launch";
}

std::vector<FreeParam> free_params(const std::vector<Working>& work, const Catalog& base) {
  std::vector<FreeParam> out;
  for (const auto& info : constant_params())
    out.push_back({"", info.name, info.lo, info.hi, get_param(base.constants(), info.name)});
  // Per accelerator: the GEMM efficiency of each precision trained in (and of
  // the 16-bit path), attention when a case uses a fused kernel, and HBM.
  // (name -> whether a dense case depends on it), per accelerator.
  std::map<std::string, std::map<std::string, bool>> names;
  for (const auto& w : work) {
    auto& n = names[w.s.cluster.accelerator.name];
    const bool dense = !w.s.model.moe;
    auto need = [&](const std::string& name) { n[name] = n[name] || dense; };
    const KernelContext kc = kernel_context(w.s);
    need("gemm." + std::string(to_string(kc.low)));
    if (kc.high != kc.low && w.c->precision == std::string(to_string(kc.high)))
      need("gemm." + std::string(to_string(kc.high)));
    if (w.s.training.flash_attention) need("attention.forward"), need("attention.backward");
    need("hbm");
    // The host's launch cost binds where kernels are short (MoE blocks);
    // compiled programs (XLA) launch none.
    if (w.s.cluster.accelerator.kernels.launch_s > 0 && w.s.model.moe) need("launch");
  }
  for (const auto& [acc, ns] : names)
    for (const auto& [name, dense] : ns) {
      const ParamInfo* info = find_accelerator_param(name);
      double start = get_param(base.accelerator(acc).kernels, name);
      if (start <= 0) start = base.accelerator(acc).kernels.gemm(precision_from(name.substr(5)));
      out.push_back({acc, name, info->lo, info->hi, start, dense});
    }
  return out;
}

double sigmoid(double u) { return 1.0 / (1.0 + std::exp(-u)); }
double to_value(const FreeParam& p, double u) { return p.lo + (p.hi - p.lo) * sigmoid(u); }
double to_u(const FreeParam& p, double v) {
  // A start on a bound (a microbenchmark figure of 1.0) keeps a usable slope.
  double x = std::clamp((v - p.lo) / (p.hi - p.lo), 0.02, 0.98);
  return std::log(x / (1 - x));
}

// Writes the parameter values into every working scenario.
void apply(std::vector<Working>& work, const Catalog& base, const std::vector<FreeParam>& params,
           const std::vector<double>& values) {
  ComputeConstants constants = base.constants();
  std::map<std::string, KernelFigures> figures;
  for (size_t j = 0; j < params.size(); ++j) {
    const FreeParam& p = params[j];
    if (p.accelerator.empty()) {
      set_param(constants, p.name, values[j]);
    } else {
      auto it = figures.try_emplace(p.accelerator, base.accelerator(p.accelerator).kernels).first;
      set_param(it->second, p.name, values[j]);
    }
  }
  for (auto& w : work) {
    w.s.constants = constants;
    auto it = figures.find(w.s.cluster.accelerator.name);
    w.s.cluster.accelerator.kernels =
        it != figures.end() ? it->second : base.accelerator(w.s.cluster.accelerator.name).kernels;
  }
}

// Solves A x = b (A symmetric positive definite after damping) by Gaussian
// elimination with partial pivoting.
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t i = 0; i < n; ++i) {
    size_t piv = i;
    for (size_t r = i + 1; r < n; ++r)
      if (std::fabs(a[r][i]) > std::fabs(a[piv][i])) piv = r;
    std::swap(a[i], a[piv]);
    std::swap(b[i], b[piv]);
    if (std::fabs(a[i][i]) < 1e-300) continue;
    for (size_t r = i + 1; r < n; ++r) {
      const double f = a[r][i] / a[i][i];
      for (size_t c = i; c < n; ++c) a[r][c] -= f * a[i][c];
      b[r] -= f * b[i];
    }
  }
  std::vector<double> x(n, 0.0);
  for (size_t i = n; i-- > 0;) {
    double sum = b[i];
    for (size_t c = i + 1; c < n; ++c) sum -= a[i][c] * x[c];
    x[i] = std::fabs(a[i][i]) < 1e-300 ? 0.0 : sum / a[i][i];
  }
  return x;
}

}  // namespace

namespace {

// Levenberg-Marquardt over `params` (bounded through a logistic map) on the
// cases of `work`, starting at `start` values; returns the fitted values and
// writes the RMS log error and iterations.
std::vector<double> levenberg_marquardt(std::vector<Working>& work, const Catalog& base,
                                        const std::vector<FreeParam>& all, const std::vector<size_t>& free,
                                        std::vector<double> values, const FitOptions& options, double* rms, int* its) {
  const auto engine = make_analytic_engine({});
  const size_t P = free.size(), N = work.size();
  const double prior = std::sqrt(options.prior);
  auto to_values = [&](const std::vector<double>& u) {
    std::vector<double> v = values;
    for (size_t j = 0; j < P; ++j) v[free[j]] = to_value(all[free[j]], u[j]);
    return v;
  };
  auto residuals = [&](const std::vector<double>& u) {
    const std::vector<double> v = to_values(u);
    apply(work, base, all, v);
    std::vector<double> r(N + P);
    for (size_t i = 0; i < N; ++i) {
      double pred = predict(work[i], *engine);
      r[i] = std::isfinite(pred) && pred > 0 ? std::log(pred / work[i].c->measured) : 10.0;
    }
    for (size_t j = 0; j < P; ++j) {
      const FreeParam& p = all[free[j]];
      r[N + j] = prior * (v[free[j]] - p.start) / (p.hi - p.lo);
    }
    return r;
  };
  auto cost = [](const std::vector<double>& r) {
    double c = 0;
    for (double x : r) c += x * x;
    return c;
  };
  std::vector<double> u(P);
  for (size_t j = 0; j < P; ++j) u[j] = to_u(all[free[j]], values[free[j]]);
  std::vector<double> r = residuals(u);
  double c = cost(r), mu = 1e-2;
  int it = 0;
  for (; P > 0 && it < options.max_iterations; ++it) {
    // Jacobian by forward differences in the unbounded coordinates.
    std::vector<std::vector<double>> J(N + P, std::vector<double>(P));
    const double h = 1e-4;
    for (size_t j = 0; j < P; ++j) {
      std::vector<double> uj = u;
      uj[j] += h;
      std::vector<double> rj = residuals(uj);
      for (size_t i = 0; i < N + P; ++i) J[i][j] = (rj[i] - r[i]) / h;
    }
    std::vector<std::vector<double>> A(P, std::vector<double>(P, 0.0));
    std::vector<double> g(P, 0.0);
    for (size_t i = 0; i < N + P; ++i)
      for (size_t a = 0; a < P; ++a) {
        if (J[i][a] == 0) continue;
        g[a] += J[i][a] * r[i];
        for (size_t b = 0; b < P; ++b) A[a][b] += J[i][a] * J[i][b];
      }
    bool improved = false;
    for (int tries = 0; tries < 10 && !improved; ++tries) {
      std::vector<std::vector<double>> D = A;
      std::vector<double> minus_g(P);
      for (size_t a = 0; a < P; ++a) {
        D[a][a] += mu * std::max(A[a][a], 1e-9);
        minus_g[a] = -g[a];
      }
      std::vector<double> step = solve(D, minus_g);
      std::vector<double> trial = u;
      for (size_t a = 0; a < P; ++a) trial[a] += std::clamp(step[a], -3.0, 3.0);
      std::vector<double> rt = residuals(trial);
      double ct = cost(rt);
      if (ct < c) {
        improved = true;
        const double gain = (c - ct) / c;
        u = trial, r = rt, c = ct;
        mu = std::max(mu / 3, 1e-7);
        if (gain < 1e-7) it = options.max_iterations;
      } else {
        mu *= 4;
      }
    }
    if (!improved) break;
  }
  double sq = 0;
  for (size_t i = 0; i < N; ++i) sq += r[i] * r[i];
  *rms = N ? std::sqrt(sq / static_cast<double>(N)) : 0;
  *its += it;
  return to_values(u);
}

}  // namespace

FitResult fit_profile(const std::vector<ValidationCase>& cases, const Catalog& base, const FitOptions& options) {
  std::set<std::string> skip(options.hold_out_systems.begin(), options.hold_out_systems.end());
  std::vector<Working> work = prepare(cases, skip);
  if (work.empty()) throw InputError("calibrate", "no case with a measured figure to fit on");
  const std::vector<FreeParam> params = free_params(work, base);
  std::vector<double> values(params.size());
  for (size_t j = 0; j < params.size(); ++j) values[j] = params[j].start;

  // Stage 1: everything but the MoE-only parameters, on the dense cases (on
  // all of them when there are none). Stage 2: the MoE-only ones on the MoE
  // cases, the rest held.
  std::vector<Working> dense, moe;
  for (auto& w : work) (w.s.model.moe ? moe : dense).push_back(w);
  std::vector<size_t> first, second;
  // A chip figure only MoE cases depend on (bf16 on the GPUs here) stays at
  // its microbenchmark value: fitted to MoE rows it would absorb what the
  // MoE model misses (B200's bf16 GEMM would fall to 0.40 of peak).
  for (size_t j = 0; j < params.size(); ++j) {
    if (moe_only(params[j].name))
      second.push_back(j);
    else if (params[j].dense)
      first.push_back(j);
  }
  FitResult out;
  double rms1 = 0;
  values =
      levenberg_marquardt(dense.empty() ? work : dense, base, params, first, values, options, &rms1, &out.iterations);
  if (!moe.empty()) {
    // The MoE constants trade against each other (a slower grouped GEMM or
    // a dearer per-expert cost or host sync can each slow the same rows), so
    // the loss has several valleys: start from the microbenchmark values and
    // from each parameter at a quarter and three quarters of its range, and
    // keep the best fit.
    std::vector<std::vector<double>> starts{values};
    for (size_t j : second)
      for (double at : {0.25, 0.75}) {
        starts.push_back(values);
        starts.back()[j] = params[j].lo + at * (params[j].hi - params[j].lo);
      }
    std::vector<double> best;
    double best_rms = 0;
    for (const auto& start : starts) {
      double rms = 0;
      std::vector<double> fitted =
          levenberg_marquardt(moe, base, params, second, start, options, &rms, &out.iterations);
      if (best.empty() || rms < best_rms) best = std::move(fitted), best_rms = rms;
    }
    values = std::move(best);
  }

  // The RMS log error over every fitted case with the final values.
  apply(work, base, params, values);
  const auto engine = make_analytic_engine({});
  double sq = 0;
  for (const auto& w : work) sq += std::pow(std::log(predict(w, *engine) / w.c->measured), 2);
  out.cases = static_cast<int>(work.size());
  out.parameters = static_cast<int>(first.size() + second.size());
  out.rms_log_error = std::sqrt(sq / static_cast<double>(work.size()));
  std::vector<size_t> fitted = first;
  fitted.insert(fitted.end(), second.begin(), second.end());
  for (size_t j : fitted) {
    if (params[j].accelerator.empty())
      out.profile.constants[params[j].name] = values[j];
    else
      out.profile.accelerators[params[j].accelerator][params[j].name] = values[j];
  }
  return out;
}

std::vector<ValidationRow> predict_cases(const std::vector<ValidationCase>& cases, const Catalog& base,
                                         const Profile& profile) {
  Catalog cat = base;
  cat.apply_profile(profile, "profile");
  const auto engine = make_analytic_engine({});
  std::vector<ValidationRow> rows;
  for (const auto& c : cases) {
    ValidationRow row;
    row.c = &c;
    if (c.scenario) {
      std::vector<Working> one = prepare({c}, {});
      Working& w = one.front();
      w.c = &c;
      w.s.constants = cat.constants();
      w.s.cluster.accelerator.kernels = cat.accelerator(w.s.cluster.accelerator.name).kernels;
      row.predicted = predict(w, *engine);
      row.error = row.predicted / c.measured - 1;
      row.abs_error = std::min(1.0, std::fabs(row.error));
    }
    rows.push_back(row);
  }
  return rows;
}

CrossValidation leave_one_system_out(const std::vector<ValidationCase>& cases, const Catalog& base,
                                     const FitOptions& options) {
  std::set<std::string> systems;
  for (const auto& c : cases) systems.insert(c.system);
  CrossValidation cv;
  cv.rows.resize(cases.size());
  std::map<std::string, std::pair<double, int>> abs_sum;
  for (const auto& system : systems) {
    FitOptions o = options;
    o.hold_out_systems.push_back(system);
    FitResult fit = fit_profile(cases, base, o);
    // The held-out system's accelerator keeps its microbenchmark figures.
    for (const auto& c : cases)
      if (c.system == system && c.scenario) fit.profile.accelerators.erase(c.accelerator);
    std::vector<ValidationRow> rows = predict_cases(cases, base, fit.profile);
    for (size_t i = 0; i < cases.size(); ++i) {
      if (cases[i].system != system) continue;
      cv.rows[i] = rows[i];
      if (cases[i].scenario) {
        for (const std::string& key :
             {uncertainty_class(cases[i].vendor, cases[i].moe), uncertainty_class("unmeasured", cases[i].moe)}) {
          auto& [sum, n] = abs_sum[key];
          sum += rows[i].abs_error;
          ++n;
        }
      }
    }
  }
  // A class needs a few held-out rows to say anything; the rest fall back
  // to all rows of their kind ("unmeasured", "unmeasured-moe").
  for (const auto& [key, sn] : abs_sum)
    if (sn.second >= 5) cv.error_by_class[key] = sn.first / sn.second;
  return cv;
}

}  // namespace danlu
