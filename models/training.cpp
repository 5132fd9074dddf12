#include "models/training.hpp"

#include <algorithm>

#include "core/node.hpp"

namespace danlu {

std::string_view to_string(Recompute r) {
  return r == Recompute::none ? "none" : r == Recompute::selective ? "selective" : "full";
}
std::string_view to_string(PipelineSchedule s) {
  switch (s) {
    case PipelineSchedule::gpipe: return "gpipe";
    case PipelineSchedule::one_f_one_b: return "1f1b";
    case PipelineSchedule::interleaved: return "interleaved";
    case PipelineSchedule::zero_bubble: return "zero-bubble";
  }
  return "1f1b";
}

int Parallelism::stride(const std::string& dim) const {
  int stride = 1;
  for (const auto& d : split(rank_order, '-')) {
    if (d == dim) return stride;
    stride *= d == "tp" ? tp : d == "cp" ? cp : d == "dp" ? dp : pp;
  }
  return stride;
}

std::vector<int> even_stage_layers(int layers, int pp) {
  // As even as possible; stages short of a layer are taken from the ends
  // inwards, since the first stage also carries the embedding and the last the
  // logits (Llama 3 405B: 126 layers on 16 stages, 7 on the first and last).
  int per = (layers + pp - 1) / pp;
  std::vector<int> out(static_cast<size_t>(pp), per);
  int deficit = per * pp - layers;
  for (int i = 0; i < deficit; ++i) {
    int slot = i % 2 == 0 ? i / 2 : pp - 1 - i / 2;
    out[static_cast<size_t>(slot)] -= 1;
  }
  return out;
}

LayerMap layer_map(const TrainingSpec& t) {
  const int pp = t.par.pp, v = t.par.vpp;
  LayerMap map;
  map.vpp = v;
  map.ranges.resize(static_cast<size_t>(pp * v));
  // The embedding and the loss, when they count in the split, take a layer's
  // place in the first and the last virtual stage.
  auto extra = [&](int s, int c) {
    return (t.split_embedding && s == 0 && c == 0 ? 1 : 0) + (t.split_loss && s == pp - 1 && c == v - 1 ? 1 : 0);
  };
  int layer = 0;
  for (int c = 0; c < v; ++c)
    for (int s = 0; s < pp; ++s) {
      const int units = t.stage_layers[static_cast<size_t>(s)] + stage_split_units(t, s);
      const int count = units / v + (c < units % v ? 1 : 0) - extra(s, c);
      map.ranges[static_cast<size_t>(s * v + c)] = {layer, count};
      layer += count;
    }
  return map;
}

double chunks_in_flight(const TrainingSpec& t, int stage) {
  const double m = static_cast<double>(t.microbatches());
  const int pp = t.par.pp, v = t.par.vpp;
  switch (t.schedule) {
    case PipelineSchedule::gpipe:
      return m * v;
    case PipelineSchedule::interleaved:
      return std::min<double>(2.0 * (pp - stage - 1) + (v - 1.0) * pp + 1.0, m * v);
    case PipelineSchedule::one_f_one_b:
    case PipelineSchedule::zero_bubble:  // ZB-H1 keeps 1F1B's activation peak
      break;
  }
  return std::min<double>(pp - stage, m);
}

}  // namespace danlu
