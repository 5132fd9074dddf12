// What the DES records of each simulated rank: intervals of activity by
// category, appended as activities complete. The replay (sim/des.cpp)
// writes them; the observers (sim/des_observers.hpp) read them.
#pragma once

#include <array>
#include <vector>

#include "topologies/collective.hpp"

namespace danlu {

// kHost: the GPU idle because the host has not yet issued its next kernel
// (or is reading a result back), counted in the compute it delays.
enum Category { kMatmul, kMemory, kCommTp, kCommCp, kCommEp, kCommPp, kCommDp, kIdle, kHost, kOptimizer, kCategories };
inline constexpr std::array<const char*, kCategories> kCategoryNames = {
    "compute", "memory-bound", "comm tp", "comm cp", "comm ep", "comm pp", "comm dp", "idle", "host", "optimizer"};
inline Category comm_category(CommKind k) { return static_cast<Category>(kCommTp + static_cast<int>(k)); }

struct Interval {
  double start, end;
  Category cat;
  const char* name;  // a literal: names are compared and escaped by address
};

// One simulated rank's intervals, in the order they completed.
struct RankTimeline {
  int rank;
  int stage;
  const std::vector<Interval>* intervals;
};

}  // namespace danlu
