// Collective communication as the schedule asks for it: which parallelism it
// serves, which operation, how many bytes over how many ranks.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace danlu {

enum class CommKind { tp, cp, ep, pp, dp };
inline constexpr std::array<CommKind, 5> kCommKinds = {CommKind::tp, CommKind::cp, CommKind::ep, CommKind::pp,
                                                       CommKind::dp};
enum class Collective { all_reduce, all_gather, reduce_scatter, all_to_all, send_recv };
inline constexpr size_t kCollectives = 5;

// One value per communication kind, indexed by the kind.
template <class T>
struct PerKind {
  std::array<T, kCommKinds.size()> values{};
  T& operator[](CommKind k) { return values[static_cast<size_t>(k)]; }
  const T& operator[](CommKind k) const { return values[static_cast<size_t>(k)]; }
  auto begin() { return values.begin(); }
  auto end() { return values.end(); }
  auto begin() const { return values.begin(); }
  auto end() const { return values.end(); }
};

std::string_view to_string(CommKind k);
std::string_view to_string(Collective c);

struct CommOp {
  const char* name = "";
  int layer = -1;
  CommKind kind = CommKind::tp;
  Collective op = Collective::all_reduce;
  double bytes = 0;
  int group = 1;              // ranks taking part
  int stride = 0;             // rank distance between members; 0 = that of the kind's group
  bool overlappable = false;  // may run under compute (per training.overlap and the algorithm)
  // All-to-all of MoE tokens: copies per token in the buffer (top_k), and
  // whether the dispatcher sends a token once per remote domain and
  // forwards it there (DeepEP, Hybrid-EP) instead of once per expert, and
  // the share of the group's ranks a token's copies may go to (group-limited
  // routing).
  int fanout = 0;
  bool hierarchical = false;
  double reach = 1;
};

// Bytes a rank sends over the wire for `op` with a ring (or pairwise for
// all-to-all) algorithm: all-reduce 2(n-1)/n, all-gather and reduce-scatter
// (n-1)/n, all-to-all (n-1)/n, send/recv 1, each times `bytes`.
double wire_bytes(const CommOp& op);

}  // namespace danlu
