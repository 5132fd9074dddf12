// 1F1B: pp - stage - 1 warm-up forwards, then one forward one backward,
// then the remaining backwards; a stage holds at most pp - stage
// micro-batches. Zero-bubble (ZB-H1) splits each backward into B (input
// gradients, on the critical path) and W (weight gradients), and defers W
// by the warm-up depth so that the cool-down's waits are filled.
#include <algorithm>
#include <memory>

#include "models/pipeline.hpp"

namespace danlu {

namespace {

class OneFOneB : public PipelineSchedule {
 public:
  const char* name() const override { return "1f1b"; }
  std::vector<Slot> order(int pp, int, int m, int stage) const override {
    std::vector<Slot> out;
    const int warmup = std::min(pp - stage - 1, m);
    const bool zb = splits_weight_grad();
    int next_w = 0;
    auto backward = [&](int mb) {
      out.push_back({mb, 0, Pass::B});
      if (zb && mb - next_w >= warmup) out.push_back({next_w++, 0, Pass::W});
    };
    for (int i = 0; i < warmup; ++i) out.push_back({i, 0, Pass::F});
    for (int i = 0; i < m - warmup; ++i) {
      out.push_back({warmup + i, 0, Pass::F});
      backward(i);
    }
    for (int i = m - warmup; i < m; ++i) {
      out.push_back({i, 0, Pass::B});
      if (zb && next_w < m) out.push_back({next_w++, 0, Pass::W});
    }
    while (zb && next_w < m) out.push_back({next_w++, 0, Pass::W});
    return out;
  }
  double chunks_in_flight(int pp, int, double m, int stage) const override { return std::min<double>(pp - stage, m); }
  // Fill and drain: (p - 1) stage-times.
  double fill_s(int pp, int, double stage_s, double) const override { return (pp - 1) * stage_s; }
};

// ZB-H1 keeps 1F1B's activation peak; its waits shrink to F + B - W.
class ZeroBubble : public OneFOneB {
 public:
  const char* name() const override { return "zero-bubble"; }
  bool splits_weight_grad() const override { return true; }
  double fill_s(int pp, int, double, double f_b_minus_w_s) const override {
    return (pp - 1) * std::max(0.0, f_b_minus_w_s);
  }
};

}  // namespace

std::unique_ptr<PipelineSchedule> make_one_f_one_b() { return std::make_unique<OneFOneB>(); }
std::unique_ptr<PipelineSchedule> make_zero_bubble() { return std::make_unique<ZeroBubble>(); }

}  // namespace danlu
