#include "topologies/network.hpp"

#include <algorithm>
#include <cmath>

#include "topologies/topology.hpp"

namespace danlu {

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
  const int domain = std::min(sys.scale_up_domain, c.gpus);
  const double up_step = sys.scale_up_latency_s + kStepOverheadUp_s;
  if (sys.scale_up == ScaleUpKind::Torus) {
    // The chip's links are split evenly over the axes of the slice.
    const std::vector<int> axes = torus_slice(sys.torus_dims, domain);
    for (int size : axes)
      n.dims.push_back(
          {DimKind::torus_axis, size, acc.scale_up_bytes_per_s / static_cast<double>(axes.size()), up_step});
  } else {
    n.dims.push_back({sys.scale_up == ScaleUpKind::FullyConnected ? DimKind::fully_connected : DimKind::switched,
                      domain, acc.scale_up_bytes_per_s, up_step});
  }
  n.up_dims = static_cast<int>(n.dims.size());
  n.scale_out = &scale_out_topology(c.topology);
  const ScaleOutShape shape = n.scale_out->shape(c);
  n.rails = shape.rails;
  n.tiers = shape.tiers;
  const double out = fab.port_bytes_per_s * c.nics_per_gpu;
  // Under one leaf a step crosses one switch; beyond it, the worst path's.
  n.dims.push_back(
      {DimKind::fabric, shape.gpus_per_leaf, out, 2 * fab.nic_latency_s + fab.switch_latency_s + kStepOverheadOut_s});
  n.dims.push_back({DimKind::fabric, c.gpus, out,
                    2 * fab.nic_latency_s + shape.worst_hops * fab.switch_latency_s + kStepOverheadOut_s,
                    c.oversubscription});
  if (n.dims.size() > kMaxNetDims)
    throw std::logic_error("the network has more dimensions than the collective planner holds");
  return n;
}

int Network::domain() const {
  int d = 1;
  for (int i = 0; i < up_dims; ++i) d *= dims[static_cast<size_t>(i)].size;
  return d;
}

double Network::up_bytes_per_s() const {
  double bw = 0;
  for (int i = 0; i < up_dims; ++i) bw += dims[static_cast<size_t>(i)].bytes_per_s;
  return bw;
}

GroupShape group_shape(const Network& net, int n, int stride) {
  GroupShape g;
  const int domain = net.domain();
  const long span = static_cast<long>(n) * stride;  // ranks from the first member to past the last
  if (stride >= domain) {
    g.inner = 1;
  } else {
    g.inner = static_cast<int>(std::min<long>(n, std::max<long>(1, domain / stride)));
  }
  g.outer = std::max(1, n / g.inner);
  // The outer part crosses the first reach of the fabric that covers it.
  g.out_dim = net.up_dims;
  if (g.outer > 1)
    while (g.out_dim + 1 < static_cast<int>(net.dims.size()) && span > net.dims[static_cast<size_t>(g.out_dim)].size)
      ++g.out_dim;
  if (net.torus() && g.inner > 1) {
    // Ranks fill the torus dimension 0 first: count the dimensions the inner
    // group reaches.
    long reach = static_cast<long>(g.inner) * stride, prod = 1;
    for (int d = 0; d < net.up_dims; ++d) {
      if (reach > prod) ++g.torus_dims_used;
      prod *= net.dims[static_cast<size_t>(d)].size;
    }
    g.torus_dims_used = std::max(1, g.torus_dims_used);
  }
  return g;
}

double phase_time(const Network& net, const Phase& p) {
  const double rate = p.rate / net.dims[static_cast<size_t>(p.dim)].oversubscription;
  return p.latency_s + (p.bytes > 0 ? p.bytes / rate : 0.0);
}

double plan_time(const Network& net, const CollectivePlan& plan) {
  double t = plan.launch_s;
  for (const Phase& p : plan.phases) t += phase_time(net, p);
  return t;
}

namespace {

// The achievable per-GPU rate inside the domain for this group.
double inner_rate(const Network& net, const GroupShape& g) {
  const NetDim& up = net.dims.front();
  if (up.kind == DimKind::fully_connected && up.size > 1)
    // Only the links to other members carry the group's traffic.
    return up.bytes_per_s * kScaleUpEfficiency * (static_cast<double>(g.inner - 1) / (up.size - 1));
  if (up.kind == DimKind::torus_axis)
    // The axes the group spans, each with its share of the chip's links.
    return net.up_bytes_per_s() * kScaleUpEfficiency *
           (static_cast<double>(g.torus_dims_used) / static_cast<double>(net.up_dims));
  return up.bytes_per_s * kScaleUpEfficiency;
}

// A ring over dimension `dim`: `frac` of the buffer per rank in `steps` steps.
Phase ring(int dim, double bytes, double frac, double steps, double rate, double step_s) {
  return {dim, frac * bytes, rate, steps * step_s};
}

}  // namespace

CollectivePlan collective_plan(const Network& net, const CommOp& op, int stride) {
  const int n = op.group;
  const double B = op.bytes;
  CollectivePlan best;
  if (op.op == Collective::send_recv) {
    // Stage neighbours are `stride` ranks apart: same domain or across the fabric.
    best.algorithm = "p2p";
    const NetDim& up = net.dims.front();
    if (stride > 0 && stride < net.domain()) {
      double rate = net.up_bytes_per_s() * kScaleUpEfficiency;
      if (up.kind == DimKind::fully_connected) rate /= (up.size - 1);
      best.phases.push_back({0, B, rate, up.step_s});
    } else {
      const int dim = group_shape(net, 2, stride).out_dim;
      const NetDim& out = net.dims[static_cast<size_t>(dim)];
      best.phases.push_back({dim, B, out.bytes_per_s * kScaleOutEfficiency, out.step_s});
    }
    return best;
  }
  if (n <= 1 || B <= 0) return best;
  GroupShape g = group_shape(net, n, stride);
  const NetDim& up = net.dims.front();
  const NetDim& out = net.dims[static_cast<size_t>(g.out_dim)];
  const double in_rate = inner_rate(net, g);
  const double out_rate = out.bytes_per_s * kScaleOutEfficiency;
  const int out_dim = g.out_dim;
  const double up_step = up.step_s, out_step = out.step_s;
  const int ni = g.inner, no = g.outer;
  const bool torus = net.torus();
  // An all-reduce is a reduce-scatter then an all-gather: every phase twice.
  const int passes = op.op == Collective::all_reduce ? 2 : 1;
  double best_t = 1e300;
  auto consider = [&](const char* name, const Phases& one_pass) {
    CollectivePlan plan{name, {}, kCollectiveLaunch_s};
    for (int i = 0; i < passes; ++i)
      for (const Phase& p : one_pass) plan.phases.push_back(p);
    double t = plan_time(net, plan);
    if (t < best_t) best_t = t, best = plan;
  };
  auto one = [](const Phase& p) {
    Phases ps;
    ps.push_back(p);
    return ps;
  };

  if (op.op == Collective::all_to_all) {
    // Pairwise exchange: the shares for peers inside and outside the domain
    // move in parallel over their own links (two concurrent phases; the
    // slower one sets the time, so only it is listed with the other's latency).
    CollectivePlan plan{"pairwise all-to-all", {}, kCollectiveLaunch_s};
    // Latency: the sends to all peers are posted at once and overlap. Inside
    // the domain the first pays a hop and each further peer about a quarter
    // of one (a GPU keeps ~4 peer transfers in flight at a time); across
    // domains the far sends also overlap, and their latency grows with the
    // log of the domains (the tiers between the farthest pairs). Both are
    // modelling assumptions: at the message sizes of MoE dispatch (MBs a
    // peer) they are a few percent of the phase.
    Phase in{0, (ni - 1.0) / n * B, in_rate, up_step + (ni - 1) * up_step / 4};
    Phase across{out_dim, (n - ni) / static_cast<double>(n) * B, out_rate, no > 1 ? out_step * std::log2(no) : 0.0};
    if (op.hierarchical && op.fanout > 1 && no > 1) {
      // DeepEP-style dispatch: a token goes once to each remote domain that
      // holds one of its `fanout` experts, and is forwarded to them there
      // over the scale-up links. Its experts lie in d = reach x no of the
      // domains (all of them without group-limited routing), so it reaches
      // d (1 - (1 - 1/d)^k) domains, (no - 1)/no of them remote: instead of
      // k (no - 1)/no remote experts.
      const double k = op.fanout, d = std::max(1.0, op.reach * no);
      const double domains = d * (1 - std::pow(1 - 1 / d, k)) * (no - 1.0) / no;
      plan.algorithm = "hierarchical all-to-all";
      across.bytes = B / k * domains;
      // Inside: the copies for peers of this domain, and the forwarding of
      // what arrives from other domains to the right local GPU.
      in.bytes += (n - ni) / static_cast<double>(n) * B * (ni - 1.0) / ni;
    }
    // Its lower efficiency holds the links for longer, as if the payload
    // were larger: the DES then shares the links as for any collective.
    in.bytes /= kAllToAllEfficiency;
    across.bytes /= kAllToAllEfficiency;
    if (no > 1 && phase_time(net, across) >= phase_time(net, in))
      across.latency_s += in.latency_s, plan.phases.push_back(across);
    else
      plan.phases.push_back(in);
    return plan;
  }

  if (no == 1) {
    if (torus && g.torus_dims_used > 1) {
      // Dimension by dimension: the steps add up along each dimension's ring.
      double steps = 0;
      long left = ni;
      for (int d = 0; d < net.up_dims; ++d) {
        if (left <= 1) break;
        long ext = std::min<long>(net.dims[static_cast<size_t>(d)].size, left);
        steps += static_cast<double>(ext - 1);
        left /= ext;
      }
      consider("torus", one(ring(0, B, (ni - 1.0) / ni, steps, in_rate, up_step)));
    } else {
      consider(torus ? "torus ring" : "ring", one(ring(0, B, (ni - 1.0) / ni, ni - 1, in_rate, up_step)));
    }
    if (up.kind == DimKind::fully_connected) consider("direct", one(ring(0, B, (ni - 1.0) / ni, 1, in_rate, up_step)));
  } else {
    // Flat ring across domains: every GPU's traffic crosses at the slower level.
    consider("ring", one(ring(out_dim, B, (n - 1.0) / n, n - 1, std::min(in_rate, out_rate), out_step)));
    // Hierarchical: reduce-scatter inside, the shard across, gather inside.
    Phases hier;
    if (ni > 1) hier.push_back(ring(0, B, (ni - 1.0) / ni, ni - 1, in_rate, up_step));
    hier.push_back(ring(out_dim, B / ni, (no - 1.0) / no, no - 1, out_rate, out_step));
    consider("hierarchical ring", hier);
    if (op.op == Collective::all_reduce) {
      // Double binary tree across domains: log steps, the same bandwidth term.
      hier.back().latency_s = std::ceil(std::log2(no)) * out_step;
      consider("hierarchical tree", hier);
    }
  }
  return best;
}

CollectiveCost collective_cost(const Network& net, const CommOp& op, int stride) {
  CollectivePlan plan = collective_plan(net, op, stride);
  return {plan_time(net, plan), plan.algorithm};
}

}  // namespace danlu
