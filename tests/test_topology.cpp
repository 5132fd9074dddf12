#include <doctest/doctest.h>

#include "tests/util.hpp"
#include "topologies/graph.hpp"
#include "topologies/network.hpp"
#include "workload/schedule.hpp"

using namespace danlu;
using doctest::Approx;

namespace {
ClusterSpec cluster(const std::string& yaml_cluster) {
  return test::scenario("name: t\nmodel: {preset: llama3-8b}\ncluster: " + yaml_cluster + "\n").cluster;
}
}  // namespace

TEST_CASE("16,384-GPU rail-optimized fat-tree: switch and link counts match a hand count") {
  ClusterSpec c = load_scenario(test::source("scenarios/llama3-405b-h100.yaml"), test::catalog()).cluster;
  ClusterGraph g = build_cluster(c);
  // 2048 DGX nodes; each of the 8 rails is a two-tier Clos of 64-port NDR
  // switches over 2048 endpoints: 64 leaves (32 down, 32 up) and 32 spines.
  CHECK(g.count(NodeKind::accelerator) == 16384);
  CHECK(g.count(NodeKind::leaf) == 8 * 64);
  CHECK(g.count(NodeKind::spine) == 8 * 32);
  CHECK(g.switches() == 768);
  CHECK(g.count(NodeKind::scale_up_switch) == 2048);
  CHECK(g.count(LinkKind::scale_up) == 16384);
  CHECK(g.count(LinkKind::scale_out) == 16384 + 8 * 64 * 32);
}

TEST_CASE("24,000 H100 at 2:1: the model, the count and the graph see the same three-tier fabric") {
  // Hand count. 3,000 DGX nodes, 8 rails of 3,000 endpoints on 64-port NDR
  // switches. At 2:1 a leaf has floor(64*2/3) = 42 ports down and 21 up, so
  // a rail needs ceil(3000/42) = 72 leaves: more than the 64 a spine can
  // reach, so two tiers cannot hold it. Three tiers: pods of 32 leaves,
  // ceil(72/32) = 3 pods of 32 aggregation switches (96), and 32 core
  // groups of ceil(3*32/64) = 2 (64 cores). Per rail 72 + 96 + 64 = 232
  // switches; links 3000 + 72*21 + 3*32*32 = 7584.
  // (The model once said 3 tiers while the graph built and counted 2: 72
  // leaves and 24 spines a rail, as 72 x 21 uplinks fit 2,048 spine ports.)
  ClusterSpec c =
      cluster("{system: dgx-h100, gpus: 24000, scale_out: {topology: rail-optimized, oversubscription: 2}}");
  CHECK(make_network(c).tiers == 3);
  const FabricCounts counts = fabric_counts(c);
  CHECK(counts.switches == 8 * 232);
  CHECK(counts.links == 8 * 7584);
  CHECK(counts.transceivers == 2 * 8 * 7584);
  ClusterGraph g = build_cluster(c);
  CHECK(g.count(NodeKind::leaf) == 8 * 72);
  CHECK(g.count(NodeKind::spine) == 8 * 96);
  CHECK(g.count(NodeKind::core) == 8 * 64);
  CHECK(g.switches() == counts.switches);
  CHECK(g.count(LinkKind::scale_out) == counts.links);
  // A leaf's 42 nodes hold 42 GPUs of each rail: 336 ranks per leaf span.
  CHECK(make_network(c).gpus_per_leaf() == 42 * 8);
  // At 1:1 the same cluster needs three tiers too (94 leaves of 32 down).
  c.oversubscription = 1;
  CHECK(make_network(c).tiers == 3);
  CHECK(fabric_counts(c).switches == 8 * (94 + 3 * 32 + 32 * 2));
}

TEST_CASE("network: a list of dimensions, innermost first") {
  // DGX H100: one NVSwitch dimension of 8, then a leaf's reach and the whole
  // fabric, where a 2:1 oversubscription applies.
  ClusterSpec h = cluster("{system: dgx-h100, gpus: 1024, scale_out: {oversubscription: 2}}");
  Network net = make_network(h);
  REQUIRE(net.dims.size() == 3);
  CHECK(net.up_dims == 1);
  CHECK(net.dims[0].kind == DimKind::switched);
  CHECK(net.domain() == 8);
  CHECK(net.up_bytes_per_s() == Approx(450e9));
  CHECK(net.dims[1].kind == DimKind::fabric);
  CHECK(net.dims[1].oversubscription == 1);
  CHECK(net.dims[2].size == 1024);
  CHECK(net.dims[2].oversubscription == 2);
  // Beyond one leaf a step crosses three switches (leaf, spine, leaf), under it one.
  CHECK(net.dims[2].step_s - net.dims[1].step_s == Approx(2 * h.fabric.switch_latency_s));

  // MI355X: the scale-up dimension is a full mesh.
  CHECK(make_network(cluster("{system: mi355x-8, gpus: 64}")).dims[0].kind == DimKind::fully_connected);

  // A 4,096-chip TPU v5p slice: three torus axes (16 x 16 x 16) sharing the
  // chip's links, then the data-centre network.
  ClusterSpec t = cluster("{system: tpu-v5p-pod, gpus: 4096}");
  Network tn = make_network(t);
  REQUIRE(tn.up_dims == 3);
  CHECK(tn.torus());
  for (int d = 0; d < 3; ++d) {
    CHECK(tn.dims[static_cast<size_t>(d)].kind == DimKind::torus_axis);
    CHECK(tn.dims[static_cast<size_t>(d)].size == 16);
    CHECK(tn.dims[static_cast<size_t>(d)].bytes_per_s == Approx(t.accelerator.scale_up_bytes_per_s / 3));
  }
  CHECK(tn.domain() == 4096);
  CHECK(tn.up_bytes_per_s() == Approx(t.accelerator.scale_up_bytes_per_s));
  // A group of 256 consecutive chips spans two axes: its ring gets two
  // thirds of the links, and 15 + 15 steps.
  CommOp op{"x", -1, CommKind::dp, Collective::all_gather, 1e9, 256, false};
  CollectivePlan plan = collective_plan(tn, op, 1);
  CHECK(std::string(plan.algorithm) == "torus");
  REQUIRE(plan.phases.n == 1);
  CHECK(plan.phases.items[0].rate == Approx(kScaleUpEfficiency * t.accelerator.scale_up_bytes_per_s * 2 / 3));
  CHECK(plan.phases.items[0].latency_s == Approx(30 * tn.dims[0].step_s));
}

TEST_CASE("a 4x4x4 torus has 192 links, six per chip") {
  ClusterGraph g = build_cluster(cluster("{system: tpu-v4-pod, gpus: 64}"));
  CHECK(g.count(LinkKind::scale_up) == 192);
  for (VertexId r : g.ranks) CHECK(boost::degree(r, g.g) == 6);
  // Opposite corners are 2+2+2 hops apart with wrap-around.
  CHECK(path(g, 0, 63).hops() == 3);
  CHECK(path(g, 0, 2 + 2 * 4 + 2 * 16).hops() == 6);
}

TEST_CASE("bisection bandwidth of a 2:1 oversubscribed tree is half the non-blocking one") {
  // 192 GPUs (24 DGX nodes) on a plain fat-tree of 48-port switches, so that
  // each half of the ranks fills whole leaves at 1:1 (24 down) and at 2:1 (32 down).
  ClusterSpec c = cluster("{system: dgx-h100, gpus: 192, scale_out: {topology: fat-tree}}");
  c.fabric.switch_radix = 48;
  double full = bisection_bytes_per_s(build_cluster(c));
  CHECK(full == Approx(96 * 50e9));
  c.oversubscription = 2;
  double half = bisection_bytes_per_s(build_cluster(c));
  CHECK(half == Approx(full / 2));
}

TEST_CASE("paths: bottleneck and latency, and the closed-form model agrees on leaf spans") {
  ClusterSpec c = cluster("{system: dgx-h100, gpus: 1024}");
  ClusterGraph g = build_cluster(c);
  Network net = make_network(c);
  PathInfo inside = path(g, 0, 1);
  CHECK(inside.hops() == 2);
  CHECK(inside.bottleneck_bytes_per_s == Approx(450e9));
  CHECK(inside.latency_s == Approx(2 * 300e-9));
  // Same rail, same leaf: GPU - leaf - GPU.
  CHECK(net.gpus_per_leaf() == 32 * 8);
  PathInfo leaf = path(g, 0, 8 * 31);
  CHECK(leaf.hops() == 2);
  CHECK(leaf.bottleneck_bytes_per_s == Approx(50e9));
  // The next node is under another leaf: up through a spine.
  CHECK(path(g, 0, 8 * 32).hops() == 4);
  CHECK(group_shape(net, 32, 8).out_dim == net.up_dims);
  CHECK(group_shape(net, 33, 8).out_dim == net.up_dims + 1);
  CHECK(net.tiers == 2);
  // With 2:1 oversubscription the 42 endpoints of a leaf share 21 uplinks.
  c.oversubscription = 2;
  ClusterGraph o = build_cluster(c);
  std::vector<std::pair<int, int>> flows;
  flows.reserve(42);
  for (int node = 0; node < 42; ++node) flows.emplace_back(node * 8, (node + 64) * 8);
  CHECK(max_link_sharing(o, flows) >= 2);
}

TEST_CASE("rail-optimized with shared NICs: one Clos over the ports, and the model agrees") {
  // Gaudi 3 nodes bring 12 ports for 8 chips: no rails to build, so the
  // graph joins all ports in one Clos, and the network model must not
  // assume rails (it did, counting 64 nodes under a leaf instead of 5).
  ClusterSpec c = cluster("{system: gaudi3-8, gpus: 512}");
  REQUIRE(c.topology == "rail-optimized");
  ClusterGraph g = build_cluster(c);
  Network net = make_network(c);
  CHECK_FALSE(net.rails);
  // 128-port RoCE leaves, 64 down: five whole nodes (60 ports) per leaf.
  CHECK(net.gpus_per_leaf() == 40);
  CHECK(path(g, 0, 8 * 4).hops() == 4);  // chip - NIC - leaf - NIC - chip
  CHECK(path(g, 0, 8 * 6).hops() > 4);   // node 6's ports hang from leaf 1
  CHECK(group_shape(net, 5, 8).out_dim == net.up_dims);
  CHECK(group_shape(net, 6, 8).out_dim == net.up_dims + 1);
}

TEST_CASE("dragonfly: a router's endpoints are the leaf the model sees") {
  // 64-port routers give 16 ports to endpoints: two DGX B200 nodes. The
  // model took the span of a Clos leaf (32 ports, four nodes) before.
  ClusterSpec c = cluster("{system: dgx-b200, gpus: 64, scale_out: {topology: dragonfly}}");
  ClusterGraph g = build_cluster(c);
  Network net = make_network(c);
  CHECK(net.gpus_per_leaf() == 16);
  CHECK(path(g, 0, 8).hops() == 2);   // GPU - router - GPU, node 1 on router 0
  CHECK(path(g, 0, 16).hops() >= 3);  // node 2 hangs from router 1
  CHECK(group_shape(net, 2, 8).out_dim == net.up_dims);
  CHECK(group_shape(net, 3, 8).out_dim == net.up_dims + 1);
}

TEST_CASE("collectives: ring closed forms, hierarchy across nodes, latency-bound small messages") {
  ClusterSpec c = cluster("{system: dgx-h100, gpus: 1024}");
  Network net = make_network(c);
  CommOp op{"x", -1, CommKind::tp, Collective::all_gather, 1e9, 8, false};
  CollectiveCost ring = collective_cost(net, op, 1);
  CHECK(std::string(ring.algorithm) == "ring");
  CHECK(ring.time_s ==
        Approx(7.0 / 8 * 1e9 / (kScaleUpEfficiency * 450e9) + 7 * net.dims.front().step_s + kCollectiveLaunch_s));
  op.op = Collective::all_reduce;
  CHECK(collective_cost(net, op, 1).time_s == Approx(2 * (ring.time_s - kCollectiveLaunch_s) + kCollectiveLaunch_s));

  // 1 GB over 64 GPUs in 8 nodes: the hierarchical algorithm beats a flat ring.
  op = {"x", -1, CommKind::dp, Collective::all_reduce, 1e9, 64, true};
  CollectiveCost big = collective_cost(net, op, 1);
  CHECK(std::string(big.algorithm).rfind("hierarchical", 0) == 0);
  const double flat = 2 * 63.0 / 64 * 1e9 / (kScaleOutEfficiency * 50e9) + 2 * 63 * net.leaf().step_s;
  CHECK(big.time_s < 0.5 * flat);
  // The inner reduce-scatter leaves 1/8 of the buffer for the network.
  const double across = 2 * 7.0 / 8 * (1e9 / 8) / (kScaleOutEfficiency * 50e9);
  CHECK(big.time_s > across);

  // A tiny all-reduce over 1024 ranks is latency-bound: the tree's log steps win.
  op = {"x", -1, CommKind::dp, Collective::all_reduce, 1024, 1024, true};
  CollectiveCost tiny = collective_cost(net, op, 1);
  CHECK(std::string(tiny.algorithm) == "hierarchical tree");
  CHECK(tiny.time_s < 200e-6);

  // All-to-all moves (n-1)/n of the buffer per rank.
  op = {"x", -1, CommKind::ep, Collective::all_to_all, 8e6, 8, false};
  CHECK(wire_bytes(op) == Approx(7e6));
  CollectiveCost a2a = collective_cost(net, op, 1);
  CHECK(a2a.time_s > 7e6 / (kScaleUpEfficiency * 450e9));
}

TEST_CASE("expert parallelism: all-to-all sizes follow tokens, top-k and hidden size") {
  Scenario s = test::scenario(
      "name: moe\nmodel: {preset: mixtral-8x7b}\ncluster: {system: dgx-h100, gpus: 64}\n"
      "training: {global_batch: 64, parallelism: {tp: 1, pp: 1, dp: 64, ep: 8}}\n");
  StepSchedule st = build_schedule(s.model, s.training, false);
  int a2a = 0;
  for (const auto& w : st.layer(true).forward)
    if (w.is_comm && w.comm.op == Collective::all_to_all) {
      ++a2a;
      CHECK(w.comm.group == 8);
      CHECK(w.comm.bytes == Approx(4096.0 * 2 * 4096 * 2));  // tokens x top-2 x hidden x bf16
    }
  CHECK(a2a == 2);  // dispatch and combine
}

TEST_CASE("hierarchical MoE dispatch sends a token once per remote domain") {
  // 64 ranks in 8 domains of 8 (DGX H100), top-8 routing over evenly spread
  // experts: pairwise, 7/8 of the copies leave the domain; hierarchical
  // (DeepEP), a token reaches 7 (1 - (7/8)^8) = 4.60 remote domains, 4.60/8
  // of the copies' bytes, and is forwarded inside the destination domain.
  Scenario s = test::scenario("name: t\nmodel: {preset: llama3-8b}\ncluster: {system: dgx-h100, gpus: 64}\n");
  Network net = make_network(s.cluster);
  CommOp op;
  op.kind = CommKind::ep;
  op.op = Collective::all_to_all;
  op.bytes = 1e9;
  op.group = 64;
  op.fanout = 8;
  CollectivePlan flat = collective_plan(net, op, 1);
  op.hierarchical = true;
  CollectivePlan hier = collective_plan(net, op, 1);
  CHECK(std::string(hier.algorithm) == "hierarchical all-to-all");
  const double remote_domains = 7 * (1 - std::pow(7.0 / 8, 8));
  CHECK(remote_domains == doctest::Approx(4.60).epsilon(0.01));
  // The NIC phase sets both times here (400G against 450 GB/s NVLink); an
  // all-to-all holds the link as if its payload were 1/0.75 larger.
  REQUIRE(flat.phases.n == 1);
  REQUIRE(hier.phases.n == 1);
  CHECK(kAllToAllEfficiency == 0.75);
  CHECK(flat.phases.items[0].bytes == doctest::Approx(1e9 * 56 / 64 / 0.75));
  CHECK(hier.phases.items[0].bytes == doctest::Approx(1e9 / 8 * remote_domains / 0.75));
  CHECK(plan_time(net, hier) < 0.7 * plan_time(net, flat));
  // Group-limited routing (DeepSeek-V3: 8 groups, top 4): a token's experts
  // lie in 4 of the 8 domains, so it reaches 4 (1 - (3/4)^8) = 3.60 domains,
  // 7/8 of them remote: 3.15 against 4.60.
  op.reach = 4.0 / 8;
  CollectivePlan limited = collective_plan(net, op, 1);
  const double limited_domains = 4 * (1 - std::pow(3.0 / 4, 8)) * 7 / 8;
  CHECK(limited_domains == doctest::Approx(3.15).epsilon(0.01));
  REQUIRE(limited.phases.n == 1);
  CHECK(limited.phases.items[0].bytes == doctest::Approx(1e9 / 8 * limited_domains / 0.75));
  // Inside one domain there is nothing to limit.
  op.group = 8;
  CHECK(plan_time(net, collective_plan(net, op, 1)) == doctest::Approx(plan_time(net, [&] {
          CommOp all = op;
          all.reach = 1;
          return collective_plan(net, all, 1);
        }())));
}

TEST_CASE("group-limited routing: the DeepSeek-V3 preset routes within 4 of 8 groups, and the loader checks it") {
  const Scenario s = test::scenario("name: t\nmodel: {preset: deepseek-v3}\ncluster: {system: dgx-h100, gpus: 64}\n");
  REQUIRE(s.model.moe);
  CHECK(s.model.moe->router_groups == 8);
  CHECK(s.model.moe->router_group_top_k == 4);
  CHECK(s.model.moe->routable_share() == doctest::Approx(0.5));
  // Without the fields every expert is reachable.
  const Scenario mixtral =
      test::scenario("name: t\nmodel: {preset: mixtral-8x7b}\ncluster: {system: dgx-h100, gpus: 8}\n");
  CHECK(mixtral.model.moe->routable_share() == 1.0);
}
