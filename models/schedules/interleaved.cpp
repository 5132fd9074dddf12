// Megatron's interleaved 1F1B: each stage runs vpp chunks of layers; unit k
// of a pass maps to chunk (k/pp)%v (reversed for backward) and micro-batch
// (k/(pp*v))*pp + k%pp. The fill shrinks to (p - 1)/v stage-times.
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "models/pipeline.hpp"

namespace danlu {

namespace {

class Interleaved : public PipelineSchedule {
 public:
  const char* name() const override { return "interleaved"; }
  std::vector<Slot> order(int pp, int vpp, int m, int stage) const override {
    std::vector<Slot> out;
    const int total = m * vpp;
    out.reserve(2 * static_cast<size_t>(total));
    const int warmup = std::min(2 * (pp - stage - 1) + (vpp - 1) * pp, total);
    auto unit = [&](int k, Pass pass) {
      int chunk = (k / pp) % vpp;
      if (pass == Pass::B) chunk = vpp - 1 - chunk;
      return Slot{(k / (pp * vpp)) * pp + k % pp, chunk, pass};
    };
    for (int k = 0; k < warmup; ++k) out.push_back(unit(k, Pass::F));
    for (int i = 0; i < total - warmup; ++i) {
      out.push_back(unit(warmup + i, Pass::F));
      out.push_back(unit(i, Pass::B));
    }
    for (int k = total - warmup; k < total; ++k) out.push_back(unit(k, Pass::B));
    return out;
  }
  double chunks_in_flight(int pp, int vpp, double m, int stage) const override {
    return std::min<double>(2.0 * (pp - stage - 1) + (vpp - 1.0) * pp + 1.0, m * vpp);
  }
  double fill_s(int pp, int vpp, double stage_s, double) const override {
    return (pp - 1) / static_cast<double>(vpp) * stage_s;
  }
  bool runs_virtual_stages() const override { return true; }
  std::string layout_problem(int pp, std::int64_t m) const override {
    if (pp < 2) return "interleaved needs pp of 2 or more";
    if (m % pp != 0) return fmt::format("interleaved needs microbatches ({}) divisible by pp ({})", m, pp);
    return {};
  }
};

}  // namespace

std::unique_ptr<PipelineSchedule> make_interleaved() { return std::make_unique<Interleaved>(); }

}  // namespace danlu
