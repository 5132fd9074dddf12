// What both fuzz targets share: the built-in catalog, and the checks a
// scenario that loads must pass once the analytic engine has evaluated it.
//
// A finding is anything but a clean refusal: a crash or sanitizer report, an
// exception other than InputError (the CLI would print "internal error" and
// exit 1 for an input problem), or a result that breaks an invariant the
// report relies on. Each aborts, so libFuzzer keeps the input.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/error.hpp"
#include "models/catalog.hpp"
#include "scenario/loader.hpp"
#include "sim/evaluate.hpp"

namespace danlu::fuzz {

inline const Catalog& catalog() {
  static const Catalog c = Catalog::builtin();
  return c;
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "danlu fuzz finding: %s\n", what.c_str());
  std::abort();
}

inline void require(bool ok, const char* invariant) {
  if (!ok) finding(invariant);
}

// Loads the tree into a scenario and evaluates it with the analytic engine
// (the DES is too slow for millions of inputs; both share the loader, the
// schedule and every model this reaches).
inline void check_tree(const Node& tree) {
  try {
    const Scenario s = build_scenario(tree, catalog());
    const Result r = evaluate(s, "analytic");
    require(std::isfinite(r.step.time_s) && r.step.time_s > 0, "the step time is finite and positive");
    require(std::isfinite(r.mfu) && r.mfu > 0, "MFU is finite and positive");
    require(r.hfu >= r.mfu * (1 - 1e-9), "HFU >= MFU");
    require(std::isfinite(r.memory.total()) && r.memory.total() > 0, "memory per GPU is finite and positive");
    require(r.cost.rent_usd >= 0 && r.cost.buy_usd >= 0, "costs are not negative");
    require(std::isfinite(r.power.facility_w) && r.power.facility_w > 0, "facility power is finite and positive");
  } catch (const InputError& e) {
    // A refusal must say something.
    require(std::string(e.what()).size() > 0, "an InputError carries a message");
  } catch (const std::exception& e) {
    finding(std::string("an exception other than InputError: ") + e.what());
  }
}

}  // namespace danlu::fuzz
