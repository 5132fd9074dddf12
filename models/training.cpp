#include "models/training.hpp"

#include <algorithm>
#include <string_view>

namespace danlu {

namespace {
// The dimensions of rank_order, innermost first, without allocating: the
// analytic engine asks for strides on every evaluation.
template <class Fn>
void for_each_dim(const std::string& order, Fn fn) {
  size_t start = 0;
  while (start <= order.size()) {
    size_t end = order.find('-', start);
    if (end == std::string::npos) end = order.size();
    if (!fn(std::string_view(order).substr(start, end - start))) return;
    start = end + 1;
  }
}
int size_of(const Parallelism& p, std::string_view d) {
  return d == "tp" ? p.tp : d == "cp" ? p.cp : d == "dp" ? p.dp : p.pp;
}
}  // namespace

int Parallelism::stride(const std::string& dim) const {
  int stride = 1;
  bool found = false;
  for_each_dim(rank_order, [&](std::string_view d) {
    if (d == dim) return !(found = true);
    stride *= size_of(*this, d);
    return true;
  });
  return stride;
}

int Parallelism::coord(int rank, const std::string& dim) const { return rank / stride(dim) % size_of(*this, dim); }

int Parallelism::with(int rank, const std::string& dim, int value) const {
  return rank + (value - coord(rank, dim)) * stride(dim);
}

namespace {
// The tp, cp and dp coordinates of a rank flattened in rank order (pp left
// out), and back: the index Megatron-Core splits into etp, ep and edp.
int flat_index(const Parallelism& p, int rank) {
  int f = 0, scale = 1;
  for_each_dim(p.rank_order, [&](std::string_view d) {
    if (d == "pp") return true;
    f += p.coord(rank, std::string(d)) * scale;
    scale *= size_of(p, d);
    return true;
  });
  return f;
}
int from_flat(const Parallelism& p, int rank, int f) {
  for_each_dim(p.rank_order, [&](std::string_view d) {
    if (d == "pp") return true;
    const int size = size_of(p, d);
    rank = p.with(rank, std::string(d), f % size);
    f /= size;
    return true;
  });
  return rank;
}
}  // namespace

std::vector<int> Parallelism::expert_group(int rank) const {
  const int f = flat_index(*this, rank);
  const int inner = f % etp, outer = f / (etp * ep);
  std::vector<int> out;
  out.reserve(static_cast<size_t>(ep));
  for (int e = 0; e < ep; ++e) out.push_back(from_flat(*this, rank, inner + etp * (e + ep * outer)));
  return out;
}

std::vector<int> Parallelism::expert_data_group(int rank) const {
  const int f = flat_index(*this, rank);
  const int within = f % (etp * ep);
  std::vector<int> out;
  out.reserve(static_cast<size_t>(expert_data_parallel()));
  for (int d = 0; d < expert_data_parallel(); ++d) out.push_back(from_flat(*this, rank, within + etp * ep * d));
  return out;
}

// The distance between the first two members of rank 0's group, without
// listing the group: an expert-data group can hold millions of ranks.
int Parallelism::expert_stride() const { return ep > 1 ? from_flat(*this, 0, etp) - from_flat(*this, 0, 0) : 1; }

int Parallelism::expert_data_stride() const {
  return expert_data_parallel() > 1 ? from_flat(*this, 0, etp * ep) - from_flat(*this, 0, 0) : 1;
}

std::vector<int> default_stage_layers(int layers, const TrainingSpec& t) {
  const int pp = t.par.pp;
  std::vector<int> out = even_stage_layers(layers + int(t.split_embedding) + int(t.split_loss), pp);
  for (int st = 0; st < pp; ++st) out[static_cast<size_t>(st)] -= stage_split_units(t, st);
  return out;
}

bool stages_fill_chunks(const TrainingSpec& t) {
  for (int st = 0; st < t.par.pp; ++st)
    if (t.stage_layers[static_cast<size_t>(st)] + stage_split_units(t, st) < t.par.vpp) return false;
  return true;
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
  map.ranges.resize(static_cast<size_t>(pp) * v);
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
      map.ranges[static_cast<size_t>(s) * v + c] = {layer, count};
      layer += count;
    }
  return map;
}

double chunks_in_flight(const TrainingSpec& t, int stage) {
  return t.schedule->chunks_in_flight(t.par.pp, t.par.vpp, static_cast<double>(t.microbatches()), stage);
}

}  // namespace danlu
