// Setting up a replay (the ranks' groups, mailboxes and collective plans)
// and summing it up (the step's breakdown from the last rank's timeline).
#include <algorithm>
#include <limits>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "models/power.hpp"
#include "sim/des_sim.hpp"
#include "topologies/topology.hpp"

namespace danlu::des {

std::atomic<long> g_recorded{0};
std::atomic<double> g_clock{0};

double host_speed(const Accelerator& acc, Precision p) {
  double peak = acc.peak(p);
  if (peak <= 0) p = Precision::bf16;
  return acc.peak(p) * acc.kernels.gemm(p);
}

void Sim::make_group(RankState& me, CommKind kind) {
  GroupInfo& g = me.group[static_cast<size_t>(kind)];
  std::vector<int> m = layout.members(me.rank, kind);
  g.size = static_cast<int>(m.size());
  if (!full)
    for (int l = 0; l < 3; ++l) g.peer[l] = platform->standins(me.rank)[static_cast<size_t>(l)];
  else
    for (int k = 0; k < 2; ++k) {
      int peer = layout.ring_peer(me.rank, kind, k == 0);
      g.in[k] = sg::Mailbox::by_name(fmt::format("c{}-{}-{}", me.rank, static_cast<int>(kind), k));
      g.out[k] = sg::Mailbox::by_name(fmt::format("c{}-{}-{}", peer, static_cast<int>(kind), k));
      state(peer).group[static_cast<size_t>(kind)].in_count[k] += 1;
    }
  // Tensor and context groups run in lock-step on private scale-up ports;
  // data-parallel and expert groups can drift apart under contention, and a
  // collective ends for all when its slowest member is done.
  if (full && (kind == CommKind::dp || kind == CommKind::ep)) {
    auto& b = barriers[fmt::format("{}-{}", static_cast<int>(kind), m.front())];
    if (!b) b = sg::Barrier::create(static_cast<unsigned>(m.size()));
    g.barrier = b;
  }
}

void Sim::start_phase(const RankState& me, const GroupInfo& g, const Phase& ph, std::vector<sg::CommPtr>& out) const {
  static int payload = 0;
  static int* received = nullptr;
  const auto bytes = static_cast<uint64_t>(ph.bytes);
  if (!full) {
    // The rate cap must be set before the hosts: SimGrid 3.32 counts a
    // sendto with both ends as started.
    sg::CommPtr c = sg::Comm::sendto_init();
    c->set_rate(ph.rate);
    c->set_source(me.host);
    c->set_destination(g.peer[DesPlatform::link_class(net, ph.dim)]);
    c->set_payload_size(bytes);
    out.push_back(c->start());
    return;
  }
  const int k = DesPlatform::link_class(net, ph.dim) == 0 ? 0 : 1;
  sg::CommPtr c = g.out[k]->put_init(&payload, bytes);
  c->set_rate(ph.rate);
  out.push_back(c->start());
  for (int i = 0; i < g.in_count[k]; ++i) out.push_back(g.in[k]->get_async(&received));
}

void Sim::prepare(const std::vector<sg::ActorPtr>& actors) {
  for (size_t i = 0; i < ranks.size(); ++i) {
    RankState& me = rank_state[i];
    me.host = platform->host(me.rank);
    for (CommKind k : {CommKind::tp, CommKind::cp, CommKind::ep, CommKind::dp}) make_group(me, k);
    const StageSchedule& stage = sched.stages[static_cast<size_t>(layout.coord(me.rank, RankLayout::pp))];
    for (const Slot& slot : stage.order) {
      if (slot.pass == Pass::W) continue;
      char dir = slot.pass == Pass::F ? 'f' : 'b';
      sg::Mailbox* m = sg::Mailbox::by_name(fmt::format("{}{}-{}-{}", dir, me.rank, slot.microbatch, slot.chunk));
      // Transfers start when sent (as NCCL's point-to-point does), not when
      // the receiver asks: the rank is the permanent receiver of its mailboxes.
      m->set_receiver(actors[i]);
      me.inbox[{dir, slot.microbatch, slot.chunk}] = m;
    }
  }
  auto plan = [this](const CommOp& op) {
    plans.try_emplace(&op, collective_plan(net, op, op.stride ? op.stride : kind_stride[op.kind]));
  };
  for (const StageSchedule& st : sched.stages) {
    for (const ChunkWork& c : st.chunks)
      for (const auto* items : {&c.forward, &c.backward, &c.weight_grad})
        for (const WorkItem& w : *items)
          if (w.is_comm) plan(w.comm);
    for (const auto* b : {&st.dp_comm, &st.dp_after})
      for (const Buckets& bucket : *b) plan(bucket.bucket);
  }
}

StepResult Sim::run() {
  platform = std::make_unique<DesPlatform>(net, layout, ranks, full, speed);
  std::vector<sg::ActorPtr> actors;
  for (RankState& me : rank_state)
    actors.push_back(
        sg::Actor::create(fmt::format("rank{}", me.rank), platform->host(me.rank), [this, &me]() { stage_actor(me); }));
  prepare(actors);
  sg::Engine::get_instance()->run();
  // SimGrid stops when every actor waits forever: that is a deadlock of the
  // replay, never a result.
  const auto done =
      std::count_if(rank_state.begin(), rank_state.end(), [](const RankState& r) { return r.finish_s >= 0; });
  if (done != static_cast<long>(rank_state.size()))
    throw std::runtime_error(fmt::format("the replay deadlocked: {} of {} ranks finished", done, rank_state.size()));
  StepResult out;
  // Every figure is per step: the replay's total over sim.steps.
  const double steps = s.sim.steps, replay_s = sg::Engine::get_clock();
  out.time_s = replay_s / steps;
  // The breakdown is the last rank to finish: its timeline covers the replay.
  const RankState* last = &rank_state.front();
  for (const RankState& r : rank_state)
    if (r.finish_s > last->finish_s) last = &r;
  double by_cat[kCategories] = {};
  for (const Interval& iv : last->timeline) by_cat[iv.cat] += (iv.end - iv.start) / steps;
  out.host_wait_s = by_cat[kHost];
  out.compute_s = by_cat[kMatmul] + by_cat[kMemory] + out.host_wait_s;
  out.optimizer_s = by_cat[kOptimizer];
  for (CommKind k : kCommKinds) out.comm_s[k] = by_cat[comm_category(k)];
  for (double c : out.comm_s) out.exposed_comm_s += c;
  out.bubble_s = std::max(0.0, out.time_s - out.compute_s - out.exposed_comm_s - out.optimizer_s);
  out.activity.matmul_s = last->matmul_s / steps;
  out.activity.memory_s = out.compute_s - out.host_wait_s - out.activity.matmul_s + out.optimizer_s;
  out.activity.comm_s = out.exposed_comm_s;
  out.activity.idle_s = out.bubble_s + out.host_wait_s;
  std::set<std::string> algs;
  for (const auto& [op, p] : plans)
    algs.insert(std::string(to_string(op->kind)) + " " + std::string(to_string(op->op)) + ": " + p.algorithm);
  out.algorithms.assign(algs.begin(), algs.end());
  out.gpu_power_profile_w = power_profile(acc, timelines(), replay_s);
  return out;
}

std::vector<RankTimeline> Sim::timelines() const {
  std::vector<RankTimeline> out;
  out.reserve(rank_state.size());
  for (const RankState& r : rank_state) out.push_back({r.rank, layout.coord(r.rank, RankLayout::pp), &r.timeline});
  return out;
}

}  // namespace danlu::des
