// Observers of a DES replay: each reads the ranks' timelines
// (sim/des_timeline.hpp) and turns them into one output.
#pragma once

#include <vector>

#include "models/power.hpp"
#include "sim/des_timeline.hpp"
#include "sim/engine.hpp"

namespace danlu {

// A category's power state, as the power model counts it (gpu_state_w).
GpuState power_state(Category c);

// Each rank's draw over [0, span_s) (time no interval covers is waiting),
// averaged over the ranks, in 100 slices.
std::vector<double> power_profile(const Accelerator& acc, const std::vector<RankTimeline>& ranks, double span_s);

// The timelines as a Chrome trace-event file (gzip when the path ends in
// .gz), limited to the options' ranks and window; written event by event.
void write_trace(const EngineOptions& o, const std::vector<RankTimeline>& ranks);

}  // namespace danlu
