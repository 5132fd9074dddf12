#include "sim/des_platform.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "topologies/topology.hpp"

namespace danlu {

namespace sg = simgrid::s4u;

RankLayout::RankLayout(const Parallelism& p, int domain)
    : par_(p),
      domain_(domain),
      size_{p.tp, p.cp, p.dp, p.pp},
      stride_{p.stride("tp"), p.stride("cp"), p.stride("dp"), p.stride("pp")} {}

std::vector<int> RankLayout::members(int rank, CommKind kind) const {
  std::vector<int> out;
  switch (kind) {
    case CommKind::tp:
    case CommKind::cp: {
      const Dim d = kind == CommKind::tp ? tp : cp;
      for (int i = 0; i < size_[d]; ++i) out.push_back(with(rank, d, i));
      break;
    }
    case CommKind::ep: out = par_.expert_group(rank); break;
    default:
      for (int c = 0; c < size_[cp]; ++c)
        for (int d = 0; d < size_[dp]; ++d) out.push_back(with(with(rank, cp, c), dp, d));
  }
  std::sort(out.begin(), out.end());
  return out;
}

int RankLayout::ring_peer(int rank, CommKind kind, bool inside_domain) const {
  std::vector<int> m = members(rank, kind);
  std::vector<int> mine, across;
  for (int r : m) (same_domain(r, rank) ? mine : across).push_back(r);
  if (inside_domain) {
    auto it = std::find(mine.begin(), mine.end(), rank);
    return mine[static_cast<size_t>((it - mine.begin() + 1) % static_cast<long>(mine.size()))];
  }
  if (across.empty()) return rank;
  int pos = static_cast<int>(std::find(mine.begin(), mine.end(), rank) - mine.begin());
  for (int r : across)
    if (r > rank &&
        static_cast<int>(std::count_if(m.begin(), m.end(), [&](int x) { return same_domain(x, r) && x < r; })) == pos)
      return r;
  return across[static_cast<size_t>(pos) % across.size()];
}

DesPlatform::DesPlatform(const Network& net, const RankLayout& layout, const std::vector<int>& ranks, bool full,
                         double speed)
    : net_(net), layout_(layout), full_(full) {
  zone_ = sg::create_full_zone("danlu");
  std::map<int, int> leaf_members;
  for (int r : ranks) leaf_members[leaf_of(r)] += 1;
  for (int r : ranks) add_rank(r, speed, leaf_members);
  // Routes between simulated ranks that talk: pipeline neighbours, and in
  // full mode every ring neighbour of every group.
  for (int r : ranks) {
    const int st = layout_.coord(r, RankLayout::pp), stages = layout_.stages();
    for (int d : {-1, 1}) {
      const int other = (st + d + stages) % stages;
      if (other != st) route(r, layout_.with(r, RankLayout::pp, other));
    }
    if (full_)
      for (CommKind kind : {CommKind::tp, CommKind::cp, CommKind::ep, CommKind::dp})
        for (bool inside : {true, false})
          if (int peer = layout_.ring_peer(r, kind, inside); peer != r) route(r, peer);
  }
  zone_->seal();
}

int DesPlatform::leaf_of(int rank) const { return net_.scale_out->leaf_of(rank, net_); }

void DesPlatform::add_rank(int r, double speed, const std::map<int, int>& leaf_members) {
  const double up_bw = net_.up_bytes_per_s() * kScaleUpEfficiency;
  const double out_bw = net_.leaf().bytes_per_s * kScaleOutEfficiency;
  // A leaf's uplinks are shared by the flows that leave it (the fabric's reach).
  const double oversubscription = net_.dims.back().oversubscription;
  host_[r] = zone_->create_host(fmt::format("gpu{}", r), speed);
  up_[r] = zone_->create_split_duplex_link(fmt::format("up{}", r), up_bw)->set_latency(0)->seal();
  nic_[r] = zone_->create_split_duplex_link(fmt::format("nic{}", r), out_bw)->set_latency(0)->seal();
  if (full_) {
    const int leaf = leaf_of(r);
    if (!uplink_.count(leaf))
      uplink_[leaf] =
          zone_
              ->create_split_duplex_link(fmt::format("leaf{}", leaf), leaf_members.at(leaf) * out_bw / oversubscription)
              ->set_latency(0)
              ->seal();
    return;
  }
  uplink_[r] = zone_->create_split_duplex_link(fmt::format("leaf-share{}", r), out_bw / oversubscription)
                   ->set_latency(0)
                   ->seal();
  std::array<sg::Host*, 3> peers{};
  for (size_t l = 0; l < peers.size(); ++l) peers[l] = zone_->create_host(fmt::format("peer{}-{}", r, l), speed);
  standin_[r] = peers;
  using D = sg::LinkInRoute::Direction;
  zone_->add_route(host_[r]->get_netpoint(), peers[0]->get_netpoint(), nullptr, nullptr,
                   {sg::LinkInRoute(up_[r], D::UP)}, false);
  zone_->add_route(host_[r]->get_netpoint(), peers[1]->get_netpoint(), nullptr, nullptr,
                   {sg::LinkInRoute(nic_[r], D::UP)}, false);
  zone_->add_route(host_[r]->get_netpoint(), peers[2]->get_netpoint(), nullptr, nullptr,
                   {sg::LinkInRoute(nic_[r], D::UP), sg::LinkInRoute(uplink_[r], D::UP)}, false);
}

void DesPlatform::route(int a, int b) {
  if (!routed_.insert({a, b}).second) return;
  using D = sg::LinkInRoute::Direction;
  std::vector<sg::LinkInRoute> links;
  if (layout_.same_domain(a, b)) {
    links = {sg::LinkInRoute(up_[a], D::UP), sg::LinkInRoute(up_[b], D::DOWN)};
  } else if (leaf_of(a) == leaf_of(b)) {
    links = {sg::LinkInRoute(nic_[a], D::UP), sg::LinkInRoute(nic_[b], D::DOWN)};
  } else {
    sg::Link* ua = full_ ? uplink_[leaf_of(a)] : uplink_[a];
    sg::Link* ub = full_ ? uplink_[leaf_of(b)] : uplink_[b];
    links = {sg::LinkInRoute(nic_[a], D::UP), sg::LinkInRoute(ua, D::UP), sg::LinkInRoute(ub, D::DOWN),
             sg::LinkInRoute(nic_[b], D::DOWN)};
  }
  zone_->add_route(host_[a]->get_netpoint(), host_[b]->get_netpoint(), nullptr, nullptr, links, false);
}

}  // namespace danlu
