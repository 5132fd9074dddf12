// The DES's platform: which ranks form which groups, and the SimGrid hosts,
// links and routes the replay (sim/des.cpp) runs its flows over.
//
// It is built from the same network description the analytic engine uses
// (topologies/network.hpp): every simulated GPU is a host with its scale-up
// port and its NIC as split-duplex links; GPUs under one leaf switch share
// that leaf's uplink bundle; the core is non-blocking. All of it lives in one
// zone with an explicit route per pair of hosts that talk, not a zone per
// scale-up domain: domains and leaf switches cut across each other (the rails
// of a node go to different leaves; an NVL72 rack spans 32-GPU leaves), and
// SimGrid routes between zones through gateways chosen per pair of zones,
// which would lose which leaf, and so which uplink, each GPU uses.
//
// Folded (one rank per pipeline stage), each rank gets three stand-in peer
// hosts, one per level (scale-up port; NIC under its leaf; NIC and its share
// of the leaf's uplinks): the folded peers do the same at the same time, so
// a ring phase is a flow to the stand-in at its level. Full (every rank),
// ranks route to their pipeline neighbours and their ring peers.
#pragma once

#include <array>
#include <map>
#include <set>
#include <vector>

#include <simgrid/s4u.hpp>

#include "models/training.hpp"
#include "topologies/collective.hpp"
#include "topologies/network.hpp"

namespace danlu {

// Rank numbering: coordinates (tp, cp, dp, pp) <-> rank, per the rank order,
// and the groups a rank belongs to.
class RankLayout {
 public:
  enum Dim { tp = 0, cp = 1, dp = 2, pp = 3 };
  RankLayout(const Parallelism& p, int domain);

  int coord(int rank, Dim d) const { return (rank / stride_[static_cast<size_t>(d)]) % size_[static_cast<size_t>(d)]; }
  int with(int rank, Dim d, int value) const {
    return rank + (value - coord(rank, d)) * stride_[static_cast<size_t>(d)];
  }
  int stages() const { return size_[pp]; }
  bool same_domain(int a, int b) const { return a / domain_ == b / domain_; }
  // The members of `rank`'s group of `kind`, in rank order: the tp or cp
  // ranks, a block of ep data-parallel ranks, dp x cp for dp.
  std::vector<int> members(int rank, CommKind kind) const;
  // The next member on the ring inside the domain, or else the member at the
  // same position in the next domain (`rank` itself if none).
  int ring_peer(int rank, CommKind kind, bool inside_domain) const;

 private:
  const Parallelism& par_;
  int domain_;
  std::array<int, 4> size_{};
  std::array<int, 4> stride_{};
};

class DesPlatform {
 public:
  // Builds and seals the zone of `ranks` (the simulated ones); `speed` is
  // every GPU host's FLOP/s. SimGrid's engine must exist.
  DesPlatform(const Network& net, const RankLayout& layout, const std::vector<int>& ranks, bool full, double speed);

  simgrid::s4u::Host* host(int rank) const { return host_.at(rank); }
  // What a phase over `dim` crosses: the scale-up port (0), the NIC to a
  // peer under the same leaf (1), or the NIC and the leaf's uplinks (2).
  static int link_class(const Network& net, int dim) { return dim < net.up_dims ? 0 : dim == net.up_dims ? 1 : 2; }
  // Folded only: the stand-in peer of `rank` for each link class.
  const std::array<simgrid::s4u::Host*, 3>& standins(int rank) const { return standin_.at(rank); }

 private:
  void add_rank(int rank, double speed, const std::map<int, int>& leaf_members);
  void route(int a, int b);
  int leaf_of(int rank) const;

  const Network& net_;
  const RankLayout& layout_;
  const bool full_;
  simgrid::s4u::NetZone* zone_ = nullptr;
  std::map<int, simgrid::s4u::Host*> host_;
  std::map<int, simgrid::s4u::Link*> up_, nic_;
  std::map<int, simgrid::s4u::Link*> uplink_;                  // by leaf id (full) or by rank (folded)
  std::map<int, std::array<simgrid::s4u::Host*, 3>> standin_;  // folded: peers at each level
  std::set<std::pair<int, int>> routed_;
};

}  // namespace danlu
