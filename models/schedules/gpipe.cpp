// GPipe: every micro-batch's forward, then every backward; the stage holds
// all of them at once.
#include <memory>

#include "models/pipeline.hpp"

namespace danlu {

namespace {

class GPipe : public PipelineSchedule {
 public:
  const char* name() const override { return "gpipe"; }
  std::vector<Slot> order(int, int, int m, int) const override {
    std::vector<Slot> out;
    out.reserve(2 * static_cast<size_t>(m));
    for (int i = 0; i < m; ++i) out.push_back({i, 0, Pass::F});
    for (int i = m - 1; i >= 0; --i) out.push_back({i, 0, Pass::B});
    return out;
  }
  double chunks_in_flight(int, int vpp, double m, int) const override { return m * vpp; }
  // Fill and drain: (p - 1) stage-times.
  double fill_s(int pp, int, double stage_s, double) const override { return (pp - 1) * stage_s; }
};

}  // namespace

std::unique_ptr<PipelineSchedule> make_gpipe() { return std::make_unique<GPipe>(); }

}  // namespace danlu
