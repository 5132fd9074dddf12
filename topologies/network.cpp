#include "topologies/network.hpp"

#include <algorithm>
#include <cmath>


namespace danlu {

namespace {

// Switch tiers a folded Clos of `radix`-port switches needs for `endpoints`.
int clos_tiers(double endpoints, int radix) {
  if (endpoints <= radix) return 1;
  if (endpoints <= radix * radix / 2.0) return 2;
  return 3;
}

}  // namespace

std::vector<int> torus_slice(const std::vector<int>& pod_dims, int chips) {
  std::vector<int> dims;
  long left = chips;
  const size_t d = pod_dims.size();
  for (size_t i = 0; i < d; ++i) {
    if (i + 1 == d) {
      dims.push_back(static_cast<int>(left));
      break;
    }
    double target = std::ceil(std::pow(static_cast<double>(left), 1.0 / static_cast<double>(d - i)) - 1e-9);
    long best = 1;
    for (long x = 1; x <= std::min<long>(pod_dims[i], static_cast<long>(target)); ++x)
      if (left % x == 0) best = x;
    dims.push_back(static_cast<int>(best));
    left /= best;
  }
  return dims;
}

Network make_network(const ClusterSpec& c) {
  const System& sys = c.system;
  const Accelerator& acc = c.accelerator;
  const Fabric& fab = c.fabric;
  Network n;
  n.gpus = c.gpus;
  n.gpus_per_node = sys.accelerators_per_node;
  n.domain = std::min(sys.scale_up_domain, c.gpus);
  n.up_kind = sys.scale_up;
  if (sys.scale_up == ScaleUpKind::Torus) n.torus_dims = torus_slice(sys.torus_dims, n.domain);
  n.up_bytes_per_s = acc.scale_up_bytes_per_s;
  n.up_step_s = sys.scale_up_latency_s + kStepOverheadUp_s;
  n.out_bytes_per_s = fab.port_bytes_per_s * c.nics_per_gpu;
  n.oversubscription = c.oversubscription;
  n.topology = c.topology;

  // Leaf switches: with oversubscription o, radix*o/(o+1) ports face down.
  const int down = static_cast<int>(fab.switch_radix * n.oversubscription / (n.oversubscription + 1.0));
  const bool rails = c.topology == "rail-optimized";
  // A rail leaf reaches `down` nodes (one GPU each per rail); a plain leaf
  // reaches `down` NIC ports.
  const double nics_per_node = std::max(1.0, c.nics_per_gpu * sys.accelerators_per_node);
  n.gpus_per_leaf = rails ? down * sys.accelerators_per_node
                          : std::max(1, static_cast<int>(down / nics_per_node) * sys.accelerators_per_node);
  const double endpoints = rails ? static_cast<double>(c.nodes) : c.nodes * nics_per_node;
  n.tiers = c.topology == "dragonfly" ? 2 : clos_tiers(endpoints, fab.switch_radix);
  // Worst path: up and down every tier (2 tiers: leaf, spine, leaf = 3 hops);
  // a dragonfly's minimal route is local, global, local (3 hops as well).
  const int hops = c.topology == "dragonfly" ? 3 : 2 * n.tiers - 1;
  n.out_step_s = 2 * fab.nic_latency_s + hops * fab.switch_latency_s + kStepOverheadOut_s;
  n.out_step_leaf_s = 2 * fab.nic_latency_s + fab.switch_latency_s + kStepOverheadOut_s;
  return n;
}

GroupShape group_shape(const Network& net, int n, int stride) {
  GroupShape g;
  const long span = static_cast<long>(n) * stride;  // ranks from the first member to past the last
  if (stride >= net.domain) {
    g.inner = 1;
  } else {
    g.inner = static_cast<int>(std::min<long>(n, std::max<long>(1, net.domain / stride)));
  }
  g.outer = std::max(1, n / g.inner);
  g.crosses_leaf = g.outer > 1 && span > net.gpus_per_leaf;
  if (net.up_kind == ScaleUpKind::Torus && g.inner > 1) {
    // Ranks fill the torus dimension 0 first: count the dimensions the inner
    // group reaches.
    long reach = static_cast<long>(g.inner) * stride, prod = 1;
    for (int d : net.torus_dims) {
      if (reach > prod) ++g.torus_dims_used;
      prod *= d;
    }
    g.torus_dims_used = std::max(1, g.torus_dims_used);
  }
  return g;
}

namespace {

struct Level {
  double bw;    // achievable bytes/s per GPU
  double step;  // seconds per algorithm step
};

Level inner_level(const Network& net, const GroupShape& g) {
  double bw = net.up_bytes_per_s * kScaleUpEfficiency;
  if (net.up_kind == ScaleUpKind::FullyConnected && net.domain > 1) {
    // Only the links to other members carry the group's traffic.
    bw *= static_cast<double>(g.inner - 1) / (net.domain - 1);
  } else if (net.up_kind == ScaleUpKind::Torus && !net.torus_dims.empty()) {
    bw *= static_cast<double>(g.torus_dims_used) / net.torus_dims.size();
  }
  return {bw, net.up_step_s};
}

Level outer_level(const Network& net, const GroupShape& g, int sharing) {
  double bw = net.out_bytes_per_s * kScaleOutEfficiency / sharing;
  if (g.crosses_leaf) bw /= net.oversubscription;
  return {bw, g.crosses_leaf ? net.out_step_s : net.out_step_leaf_s};
}

// Ring over m ranks moving `frac` x bytes per rank in `steps` steps.
double ring(double bytes, double frac, int steps, const Level& l) {
  return steps * l.step + frac * bytes / l.bw;
}

}  // namespace

CollectiveCost collective_cost(const Network& net, const CommOp& op, int stride, int sharing) {
  const int n = op.group;
  const double B = op.bytes;
  if (op.op == Collective::send_recv) {
    // Stage neighbours are `stride` ranks apart: same domain or across the fabric.
    bool inside = stride < net.domain && (stride > 0);
    GroupShape g = group_shape(net, 2, stride);
    Level l = inside ? inner_level(net, GroupShape{2, 1, false, 1}) : outer_level(net, g, sharing);
    if (inside && net.up_kind == ScaleUpKind::FullyConnected) l.bw = net.up_bytes_per_s * kScaleUpEfficiency / (net.domain - 1);
    return {l.step + B / l.bw, inside ? "p2p scale-up" : "p2p scale-out"};
  }
  if (n <= 1 || B <= 0) return {0.0, "none"};
  GroupShape g = group_shape(net, n, stride);
  const Level in = inner_level(net, g);
  const Level out = outer_level(net, g, sharing);
  const int ni = g.inner, no = g.outer;
  const bool torus = net.up_kind == ScaleUpKind::Torus;

  // Phases of all-reduce = reduce-scatter + all-gather; each below is for one
  // phase (all-gather or reduce-scatter) and doubled for all-reduce.
  const double phases = op.op == Collective::all_reduce ? 2.0 : 1.0;
  CollectiveCost best{1e300, "none"};
  auto consider = [&](double t, const char* name) {
    if (t < best.time_s) best = {t, name};
  };

  if (op.op == Collective::all_to_all) {
    // Pairwise exchange: the shares for peers inside and outside the domain
    // move in parallel over their own links.
    double t_in = (ni - 1.0) / n * B / in.bw;
    double t_out = no > 1 ? (n - ni) / static_cast<double>(n) * B / out.bw : 0.0;
    double steps = (ni - 1) * in.step / 4 + (no > 1 ? out.step * std::log2(no) : 0.0);
    consider(std::max(t_in, t_out) + steps + in.step, "pairwise all-to-all");
    best.time_s += kCollectiveLaunch_s;
    return best;
  }

  if (no == 1) {
    if (torus && g.torus_dims_used > 1) {
      // Dimension by dimension: the steps add up along each dimension's ring.
      double steps = 0;
      long left = ni;
      for (int d : net.torus_dims) {
        if (left <= 1) break;
        long ext = std::min<long>(d, left);
        steps += ext - 1;
        left /= ext;
      }
      consider(phases * ring(B, (ni - 1.0) / ni, static_cast<int>(steps), in), "torus");
    } else {
      consider(phases * ring(B, (ni - 1.0) / ni, ni - 1, in), torus ? "torus ring" : "ring");
    }
    if (net.up_kind == ScaleUpKind::FullyConnected)
      consider(phases * ((ni - 1.0) / ni * B / in.bw + in.step), "direct");
  } else {
    // Flat ring across domains: every GPU's traffic crosses at the slower level.
    Level flat{std::min(in.bw, out.bw), out.step};
    consider(phases * ring(B, (n - 1.0) / n, n - 1, flat), "ring");
    // Hierarchical: reduce-scatter inside, the shard across, gather inside.
    double inner = ni > 1 ? ring(B, (ni - 1.0) / ni, ni - 1, in) : 0.0;
    double across_ring = ring(B / ni, (no - 1.0) / no, no - 1, out);
    consider(phases * (inner + across_ring), "hierarchical ring");
    if (op.op == Collective::all_reduce) {
      // Double binary tree across domains: log steps, the same bandwidth term.
      double across_tree = 2.0 * std::ceil(std::log2(no)) * out.step + 2.0 * (no - 1.0) / no * (B / ni) / out.bw;
      consider(2.0 * inner + across_tree, "hierarchical tree");
    }
  }
  best.time_s += kCollectiveLaunch_s;
  return best;
}

}  // namespace danlu
