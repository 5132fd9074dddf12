// The discrete-event engine: one training step replayed on SimGrid.
//
// The platform (sim/des_platform.hpp) is built from the same network
// description the analytic engine uses. Actors replay their stage's slots:
// compute ops as executions (timed by the same compute model as the analytic
// engine), each collective phase as one flow, pipeline sends through
// mailboxes, the gradient reduction in a helper actor that overlaps the last
// backward. Contention, overlap and bubbles come out of the simulation
// instead of formulas. Observers (sim/des_observers.hpp) turn the ranks'
// timelines into the power profile and the trace.
//
// Folded mode simulates one rank per pipeline stage (of data-parallel replica
// 0, tensor and context peer 0): the folded peers do the same at the same
// time, so a ring phase is a flow to a stand-in peer, and the leaf uplink a
// representative crosses gets its fair share of the bundle (1/oversubscription
// of its NIC). Full mode makes every GPU an actor with real peers, per-leaf
// shared uplinks and barriers per group; a ring phase there is a send to the
// next rank and a receive from the previous one, matched through mailboxes.
//
// SimGrid 3.32 keeps global state across engines in one process, so every
// simulation runs in a forked child that sends its result back on a pipe.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simgrid/s4u.hpp>

#include "models/power.hpp"
#include "sim/des_observers.hpp"
#include "sim/des_platform.hpp"
#include "sim/engine.hpp"
#include "topologies/topology.hpp"

namespace danlu {

namespace {
// What the replay has done, for the progress reporter thread of the forked
// simulation process (one replay per process, so process-wide is enough).
std::atomic<long> g_recorded{0};
std::atomic<double> g_clock{0};
}  // namespace

namespace {

namespace sg = simgrid::s4u;
using Json = nlohmann::json;

// A GPU host's speed is its achievable large-GEMM rate in the run's
// precision (FLOP/s). An op's time comes from the compute model the analytic
// engine uses (models/kernels.hpp); it executes as the work that rate does
// in that time, and the DES decides when.
double host_speed(const Accelerator& acc, Precision p) {
  double peak = acc.peak(p);
  if (peak <= 0) p = Precision::bf16;
  return acc.peak(p) * acc.kernels.gemm(p);
}

struct Sim {
  const Scenario& s;
  const StepSchedule& sched;
  const Network& net;
  const bool full;
  const Accelerator& acc;
  const KernelContext kc;
  const double speed;  // FLOP/s of every GPU host
  const RankLayout layout;
  PerKind<int> kind_stride;
  std::vector<int> ranks;                 // simulated ranks; ranks[i] is the rank of actor i
  std::unique_ptr<DesPlatform> platform;  // built when the run starts

  // What a rank needs about each of its groups, computed once. Folded: the
  // stand-in peer host at each level (up, leaf, far). Full: per level
  // (scale-up, beyond), the ring peer's inbox, its own inbox and how many
  // flows reach it per phase.
  struct GroupInfo {
    int size = 0;
    sg::Host* peer[3] = {nullptr, nullptr, nullptr};
    sg::Mailbox* out[2] = {nullptr, nullptr};
    sg::Mailbox* in[2] = {nullptr, nullptr};
    int in_count[2] = {0, 0};
    sg::BarrierPtr barrier;
  };

  // Everything a simulated rank's actors touch, by actor index: made before
  // the run, so that actor code only reads shared state.
  struct RankState {
    int rank = 0;
    sg::Host* host = nullptr;
    std::array<GroupInfo, 5> group;                            // by CommKind (pp unused)
    std::map<std::tuple<char, int, int>, sg::Mailbox*> inbox;  // pipeline: (dir, microbatch, chunk)
    std::vector<Interval> timeline;
    double matmul_s = 0;
    double finish_s = -1;  // set when its step is done
  };
  std::vector<RankState> rank_state;  // by actor index
  std::map<int, int> actor_of;        // rank -> actor index
  RankState& state(int rank) { return rank_state[static_cast<size_t>(actor_of.at(rank))]; }

  std::map<std::string, sg::BarrierPtr> barriers;
  std::unordered_map<const CommOp*, CollectivePlan> plans;  // by op address (the schedule outlives the run)

  Sim(const Scenario& sc, const StepSchedule& st, const Network& n, bool f)
      : s(sc),
        sched(st),
        net(n),
        full(f),
        acc(sc.cluster.accelerator),
        kc(kernel_context(sc)),
        speed(host_speed(acc, sc.training.precision)),
        layout(sc.training.par, n.domain()) {
    const Parallelism& p = s.training.par;
    kind_stride = comm_strides(p);
    if (full) {
      for (int r = 0; r < s.cluster.gpus; ++r) ranks.push_back(r);
    } else {
      for (int st_i = 0; st_i < p.pp; ++st_i) ranks.push_back(layout.with(0, RankLayout::pp, st_i));
    }
    rank_state.resize(ranks.size());
    for (size_t i = 0; i < ranks.size(); ++i) {
      rank_state[i].rank = ranks[i];
      actor_of[ranks[i]] = static_cast<int>(i);
    }
  }

  // ---------------------------------------------------------------- actors

  struct Recorder {
    std::vector<Interval>& out;
    void add(double t0, Category c, const char* name) {
      double t1 = sg::Engine::get_clock();
      if (t1 > t0) out.push_back({t0, t1, c, name});
      g_recorded.fetch_add(1, std::memory_order_relaxed);
      g_clock.store(t1, std::memory_order_relaxed);
    }
  };

  // A rank's view of its group of `kind`: ring peers (or stand-ins), and a
  // barrier for the groups that can drift apart.
  void make_group(RankState& me, CommKind kind) {
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

  // One phase's transfers, started, appended to `out`. Folded: a flow to the
  // stand-in peer. Full: the send to the ring peer and the receives from the
  // ranks whose peer this rank is, matched through mailboxes, so a flow starts
  // when both ends have reached the phase. (Host-to-host flows would do, but
  // SimGrid 3.32 keeps all of them on one list that every completion walks:
  // quadratic with thousands of ranks. Mailbox transfers belong to their actors.)
  void start_phase(const RankState& me, const GroupInfo& g, const Phase& ph, std::vector<sg::CommPtr>& out) const {
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

  // A collective, blocking: launch cost, then each phase's latency and flow.
  void collective(const RankState& me, const CommOp& op, Recorder& rec) {
    const CollectivePlan& p = plans.at(&op);
    if (p.phases.empty()) return;
    double t0 = sg::Engine::get_clock();
    const GroupInfo& g = me.group[static_cast<size_t>(op.kind)];
    // Expert-parallel sub-groups of data parallelism do not sync as the whole group.
    if (g.barrier && g.size == op.group) g.barrier->wait();
    // One flow per phase. Its fixed costs (launch, per-step latency) ride on
    // the flow as the bytes they would take at its rate: exact alone on the
    // path, and a third as many simulation events as separate waits.
    double fixed = p.launch_s;
    std::vector<sg::CommPtr> comms;
    comms.reserve(4);
    for (const Phase& ph : p.phases) {
      fixed += ph.latency_s;
      if (ph.bytes <= 0) continue;
      Phase padded = ph;
      padded.bytes += fixed * ph.rate;
      fixed = 0;
      start_phase(me, g, padded, comms);
      sg::Comm::wait_all(comms);
      comms.clear();
    }
    if (fixed > 0) sg::this_actor::sleep_for(fixed);
    rec.add(t0, comm_category(op.kind), op.name);
  }

  // An overlappable collective: its flows start now; the pass waits for them at its end.
  void collective_async(const RankState& me, const CommOp& op, std::vector<sg::CommPtr>& pending) const {
    const GroupInfo& g = me.group[static_cast<size_t>(op.kind)];
    for (const Phase& ph : plans.at(&op).phases)
      if (ph.bytes > 0) start_phase(me, g, ph, pending);
  }

  // The items of one pass: consecutive compute merges into one execution.
  // The host launches ahead of the GPU, across collectives, until a host
  // sync drains its queue; the GPU waits where the host has not yet issued
  // what comes next (LaunchPipeline, as the analytic engine's passes).
  // Overlapped collectives slow the compute they run under: at the wait, the
  // compute done since the first of them started is stretched by
  // overlap_slowdown over the part their planned time covers.
  void run_items(const RankState& me, const std::vector<WorkItem>& items, Recorder& rec, double& matmul_s) {
    std::vector<sg::CommPtr> pending;
    Category pending_cat = kCommTp;  // the kind of the first overlapped collective
    double compute_t = 0, mm_t = 0, copies_t = 0, pass_compute_t = 0;
    double overlapped_comm_t = 0, compute_under_comm = 0;
    // When the host has issued everything so far (simulated time), and the
    // compute merged since the last execution, timed from its start.
    double host_at = sg::Engine::get_clock();
    LaunchPipeline chunk;
    bool open = false;
    auto run = [&](double t, Category cat, const char* what) {
      double t0 = sg::Engine::get_clock();
      sg::this_actor::execute(t * speed);
      rec.add(t0, cat, what);
      if (!pending.empty()) compute_under_comm += t;
      pass_compute_t += t;
    };
    auto flush = [&]() {
      if (!open) return;
      open = false;
      const double t0 = sg::Engine::get_clock();
      if (compute_t > 0) run(compute_t, mm_t >= compute_t / 2 ? kMatmul : kMemory, "compute");
      if (chunk.gpu_s > compute_t) run(chunk.gpu_s - compute_t, kHost, "waiting for kernel launches");
      matmul_s += mm_t;
      host_at = t0 + chunk.host_s;
      compute_t = mm_t = 0;
    };
    // The GPU cannot start what the host has not issued.
    auto wait_for_host = [&]() {
      const double behind = host_at - sg::Engine::get_clock();
      if (behind > 0) run(behind, kHost, "waiting for kernel launches");
    };
    for (const WorkItem& w : items) {
      if (!w.is_comm && w.compute.kind == OpKind::host_transfer) {
        copies_t += op_time(w.compute, kc);
        continue;
      }
      if (!w.is_comm && w.compute.kind == OpKind::host_sync) {
        flush();
        wait_for_host();
        double t0 = sg::Engine::get_clock();
        sg::this_actor::execute(op_time(w.compute, kc) * speed);
        rec.add(t0, kHost, "host sync");
        host_at = sg::Engine::get_clock();
        continue;
      }
      if (!w.is_comm) {
        if (!open) {
          chunk = LaunchPipeline{};
          chunk.host_s = host_at - sg::Engine::get_clock();
          open = true;
        }
        double t = op_time(w.compute, kc);
        issue(chunk, w.compute, kc, t, op_host_time(w.compute, kc));
        compute_t += t;
        if (w.compute.on_matrix_units()) mm_t += t;
        continue;
      }
      if (w.comm.overlappable) {
        flush();
        if (pending.empty()) pending_cat = comm_category(w.comm.kind);
        collective_async(me, w.comm, pending);
        overlapped_comm_t += plan_time(net, plans.at(&w.comm));
      } else {
        flush();
        wait_for_host();
        collective(me, w.comm, rec);
      }
    }
    flush();
    // Host copies run on copy engines beside the pass's compute; the GPU
    // waits for what the compute did not cover.
    if (copies_t > pass_compute_t) {
      double t0 = sg::Engine::get_clock();
      sg::this_actor::execute((copies_t - pass_compute_t) * speed);
      rec.add(t0, kMemory, "waiting for host copies");
    }
    if (!pending.empty()) {
      const double slowed = s.constants.overlap_slowdown * std::min(overlapped_comm_t, compute_under_comm);
      if (slowed > 0) {
        double t0 = sg::Engine::get_clock();
        sg::this_actor::execute(slowed * speed);
        rec.add(t0, kMatmul, "compute slowed by overlapped comm");
        matmul_s += slowed;
      }
      double t0 = sg::Engine::get_clock();
      sg::Comm::wait_all(pending);
      rec.add(t0, pending_cat, "overlapped comm tail");
    }
  }

  // Everything actors look up, made before they run, so that actor code only
  // reads shared state (SimGrid may run actors in parallel threads).
  void prepare(const std::vector<sg::ActorPtr>& actors) {
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

  // Waits for a data-parallel collective that ran on its own actor beside
  // `overlapped_s` of compute: that compute is stretched by overlap_slowdown,
  // then whatever the collective still has left is exposed.
  void join_overlapped(const sg::ActorPtr& actor, double overlapped_s, const char* slowed_name, const char* tail_name,
                       Recorder& rec, double& matmul_s) {
    double t0 = sg::Engine::get_clock();
    const double slowed = s.constants.overlap_slowdown * overlapped_s;
    if (slowed > 0) {
      sg::this_actor::execute(slowed * speed);
      rec.add(t0, kMatmul, slowed_name);
      matmul_s += slowed;
      t0 = sg::Engine::get_clock();
    }
    actor->join();
    rec.add(t0, kCommDp, tail_name);
  }

  // Replays sim.steps steps back to back: a step's parameter all-gather
  // and first forward may then overlap the previous step's tail on other
  // stages, as they do in a run.
  void stage_actor(RankState& me) {
    Recorder rec{me.timeline};
    double matmul_s = 0;
    for (int step = 0; step < s.sim.steps; ++step) replay_step(me, rec, matmul_s);
    me.matmul_s = matmul_s;
    me.finish_s = sg::Engine::get_clock();
  }

  void replay_step(RankState& me, Recorder& rec, double& matmul_s) {
    const int rank = me.rank;
    const int pp = s.training.par.pp, v = s.training.par.vpp;
    const int st = layout.coord(rank, RankLayout::pp);
    const StageSchedule& stage = sched.stages[static_cast<size_t>(st)];
    static int token = 0;
    const bool block_sends = !s.training.overlap.pp_comm;
    auto send = [&](char dir, int to_rank, int mb, int chunk) {
      double t0 = sg::Engine::get_clock();
      sg::Mailbox* to = state(to_rank).inbox.at({dir, mb, chunk});
      const auto bytes = static_cast<uint64_t>(sched.pp_send_bytes);
      if (block_sends) {
        to->put(&token, bytes);
        rec.add(t0, kCommPp, "pipeline send");
      } else {
        // Nobody but the receiver waits for an overlapped send: detached, it
        // is reclaimed when received instead of piling up on this actor's
        // list of pending activities (which SimGrid walks at every completion).
        to->put_init(&token, bytes)->detach();
      }
    };
    auto recv = [&](char dir, int mb, int chunk) {
      double t0 = sg::Engine::get_clock();
      me.inbox.at({dir, mb, chunk})->get<int>();
      rec.add(t0, kIdle, "waiting for a neighbour stage");
    };

    // The gradient reduction overlaps the last backward when allowed.
    size_t last_b = 0;
    for (size_t i = 0; i < stage.order.size(); ++i)
      if (stage.order[i].pass == Pass::B) last_b = i;
    sg::ActorPtr reducer;
    std::vector<Interval> reducer_log;
    double last_backward_s = 0;
    auto reduce = [this, &me, &stage](std::vector<Interval>* log) {
      Recorder r{*log};
      for (const Buckets& b : stage.dp_comm)
        for (int i = 0; i < b.count; ++i) collective(me, b.bucket, r);
    };

    // ZeRO's parameter all-gather belongs to the next step's forward: its
    // first bucket is exposed and, with overlap, the rest runs beside this
    // stage's forward of the first microbatch (Megatron's overlapped
    // parameter gather), slowing it. Replayed at the start of the step, the
    // period is the same.
    const bool gather_overlap = s.training.overlap.dp_comm && !stage.dp_after.empty();
    size_t gather_join = 0;
    for (size_t i = 0; i < stage.order.size(); ++i)
      if (stage.order[i].pass == Pass::F && stage.order[i].microbatch == 0) gather_join = i;
    sg::ActorPtr gatherer;
    std::vector<Interval> gatherer_log;
    // The forward is slowed only while the gather still runs: a later stage
    // often finishes it while waiting for its first activations.
    double gather_planned = 0, overlapped_s = 0, gather_done_at = std::numeric_limits<double>::infinity();
    if (gather_overlap) {
      const Buckets& first = stage.dp_after.front();
      collective(me, first.bucket, rec);
      std::vector<std::pair<const CommOp*, int>> rest;
      for (const Buckets& b : stage.dp_after) {
        int n = &b == &first ? b.count - 1 : b.count;
        if (n > 0) rest.emplace_back(&b.bucket, n), gather_planned += n * plan_time(net, plans.at(&b.bucket));
      }
      if (!rest.empty())
        gatherer = sg::Actor::create(fmt::format("gatherer{}", rank), me.host,
                                     [this, &me, rest, &gatherer_log, &gather_done_at]() {
                                       Recorder r{gatherer_log};
                                       for (const auto& [op, n] : rest)
                                         for (int k = 0; k < n; ++k) collective(me, *op, r);
                                       gather_done_at = sg::Engine::get_clock();
                                     });
    }

    for (size_t i = 0; i < stage.order.size(); ++i) {
      const Slot& slot = stage.order[i];
      const ChunkWork& chunk = stage.chunks[static_cast<size_t>(slot.chunk)];
      const bool first_virtual = st == 0 && slot.chunk == 0;
      const bool last_virtual = st == pp - 1 && slot.chunk == v - 1;
      if (slot.pass == Pass::F) {
        if (!first_virtual) recv('f', slot.microbatch, slot.chunk);
        const double f0 = sg::Engine::get_clock();
        run_items(me, chunk.forward, rec, matmul_s);
        if (slot.microbatch == 0 && gatherer)
          overlapped_s += std::max(0.0, std::min(sg::Engine::get_clock(), gather_done_at) - f0);
        if (gatherer && i == gather_join) {
          join_overlapped(gatherer, std::min(gather_planned, overlapped_s),
                          "forward slowed by the parameter all-gather", "parameter all-gather (overlapped) tail", rec,
                          matmul_s);
          gatherer = nullptr;
        }
        if (!last_virtual) {
          int to = st == pp - 1 ? layout.with(rank, RankLayout::pp, 0) : layout.with(rank, RankLayout::pp, st + 1);
          send('f', to, slot.microbatch, st == pp - 1 ? slot.chunk + 1 : slot.chunk);
        }
      } else if (slot.pass == Pass::B) {
        if (i == last_b && s.training.overlap.dp_comm && !stage.dp_comm.empty())
          reducer = sg::Actor::create(fmt::format("reducer{}", rank), me.host,
                                      [reduce, &reducer_log]() { reduce(&reducer_log); });
        if (!last_virtual) recv('b', slot.microbatch, slot.chunk);
        const double b0 = sg::Engine::get_clock();
        run_items(me, chunk.backward, rec, matmul_s);
        if (i == last_b) last_backward_s = sg::Engine::get_clock() - b0;
        if (!first_virtual) {
          int to = st == 0 ? layout.with(rank, RankLayout::pp, pp - 1) : layout.with(rank, RankLayout::pp, st - 1);
          send('b', to, slot.microbatch, st == 0 ? slot.chunk - 1 : slot.chunk);
        }
      } else {
        run_items(me, chunk.weight_grad, rec, matmul_s);
      }
    }
    if (reducer) {
      // The reduction's kernels slowed the backward they ran under.
      double planned = 0;
      for (const Buckets& b : stage.dp_comm) planned += b.count * plan_time(net, plans.at(&b.bucket));
      join_overlapped(reducer, std::min(planned, last_backward_s), "backward slowed by the gradient reduction",
                      "gradient reduction (overlapped) tail", rec, matmul_s);
    } else {
      reduce(&me.timeline);
    }
    const double t0 = sg::Engine::get_clock();
    sg::this_actor::execute(op_time(stage.optimizer, kc) * speed);
    rec.add(t0, kOptimizer, "optimizer");
    if (!gather_overlap)
      for (const Buckets& b : stage.dp_after)
        for (int k = 0; k < b.count; ++k) collective(me, b.bucket, rec);
  }

  StepResult run() {
    platform = std::make_unique<DesPlatform>(net, layout, ranks, full, speed);
    std::vector<sg::ActorPtr> actors;
    for (RankState& me : rank_state)
      actors.push_back(sg::Actor::create(fmt::format("rank{}", me.rank), platform->host(me.rank),
                                         [this, &me]() { stage_actor(me); }));
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

  // The simulated ranks' timelines, for the observers (sim/des_observers.hpp).
  std::vector<RankTimeline> timelines() const {
    std::vector<RankTimeline> out;
    out.reserve(rank_state.size());
    for (const RankState& r : rank_state) out.push_back({r.rank, layout.coord(r.rank, RankLayout::pp), &r.timeline});
    return out;
  }
};

Json to_json(const StepResult& r) {
  return {{"time_s", r.time_s},
          {"compute_s", r.compute_s},
          {"host_wait_s", r.host_wait_s},
          {"exposed_comm_s", r.exposed_comm_s},
          {"bubble_s", r.bubble_s},
          {"optimizer_s", r.optimizer_s},
          {"comm_s", std::vector<double>(r.comm_s.begin(), r.comm_s.end())},
          {"algorithms", r.algorithms},
          {"activity", {r.activity.matmul_s, r.activity.memory_s, r.activity.comm_s, r.activity.idle_s}},
          {"profile", r.gpu_power_profile_w}};
}

StepResult from_json(const Json& j) {
  StepResult r;
  r.time_s = j["time_s"];
  r.compute_s = j["compute_s"];
  r.host_wait_s = j["host_wait_s"];
  r.exposed_comm_s = j["exposed_comm_s"];
  r.bubble_s = j["bubble_s"];
  r.optimizer_s = j["optimizer_s"];
  for (CommKind k : kCommKinds) r.comm_s[k] = j["comm_s"][static_cast<size_t>(k)];
  r.algorithms = j["algorithms"].get<std::vector<std::string>>();
  r.activity.matmul_s = j["activity"][0];
  r.activity.memory_s = j["activity"][1];
  r.activity.comm_s = j["activity"][2];
  r.activity.idle_s = j["activity"][3];
  r.gpu_power_profile_w = j["profile"].get<std::vector<double>>();
  return r;
}

class DesEngine final : public Engine {
 public:
  explicit DesEngine(EngineOptions o) : options_(std::move(o)) {}
  bool needs_expanded_schedule() const override { return true; }

  // What a replay would take, estimated from the scenario before the
  // schedule is even expanded: about 60 activities per layer per micro-batch
  // on every simulated rank. Measured on the flagship at full fidelity (16
  // micro-batches, 2 cores shared with other work): 256 GPUs, 2.0M estimated
  // activities in 1.2 s; 1,024 GPUs, 7.9M in 6.8 s and 0.17 GB; 2,048 GPUs,
  // 15.7M in 18 s and 0.33 GB. So ~21 bytes and 0.6-1.7 us per estimated
  // activity; the budgets take 30 bytes and 5M per second, so the time
  // check refuses only what could not finish even on a much faster machine.
  static constexpr double kActivitiesPerLayer = 60;
  static constexpr double kBytesPerActivity = 30;
  static constexpr double kFastestActivitiesPerS = 5e6;
  static double default_memory_budget() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? 0.5 * static_cast<double>(pages) * static_cast<double>(page) : 8e9;
  }
  void check(const Scenario& s) const override {
    const Parallelism& p = s.training.par;
    const double layers_per_stage = std::ceil(static_cast<double>(s.model.layers) / p.pp);
    const double per_rank = static_cast<double>(s.training.microbatches()) * layers_per_stage * kActivitiesPerLayer;
    const bool full = s.sim.fidelity == Fidelity::full;
    const double activities = per_rank * (full ? s.cluster.gpus : p.pp) * s.sim.steps;
    const char* smaller = full ? "use sim.fidelity: folded, fewer GPUs or fewer micro-batches"
                               : "use the analytic engine or fewer micro-batches";
    const double budget = options_.max_memory_bytes > 0 ? options_.max_memory_bytes : default_memory_budget();
    if (activities * kBytesPerActivity > budget)
      throw InputError(
          Location{s.file, 0, 0}, "sim",
          fmt::format("the discrete-event replay would take ~{:.2g} activities (~{:.3g} GB), over the "
                      "{:.3g} GB memory budget ({}); {}",
                      activities, activities * kBytesPerActivity / 1e9, budget / 1e9,
                      options_.max_memory_bytes > 0 ? "--max-memory" : "half of this machine's memory", smaller));
    // Over the time left: a budget stop like one mid-replay (a sweep then
    // stops too, instead of writing the point as invalid).
    if (options_.max_seconds > 0 && activities / kFastestActivitiesPerS > options_.max_seconds)
      throw BudgetError(
          fmt::format("the discrete-event replay would take ~{:.2g} activities, at least {:.0f} s, "
                      "over the {:g} s left of --max-seconds; {}",
                      activities, activities / kFastestActivitiesPerS, options_.max_seconds, smaller));
  }

  StepResult run(const Scenario& s, const StepSchedule& sched, const Network& net) const override {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("DES: cannot create a pipe");
    // The child must not inherit (and later write) the parent's pending output.
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("DES: cannot fork");
    if (pid == 0) {
      // The simulation dies with the process that asked for it: a killed
      // run or sweep must not leave it running at 100% CPU.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      close(fds[0]);
      // SimGrid reports its own failures with backtraces on stderr; the user
      // gets our message instead (the result on the pipe says what failed).
      if (int devnull = open("/dev/null", O_WRONLY); devnull >= 0) dup2(devnull, 2);
      int code = 0;
      std::string out;
      try {
        const char* args[] = {"danlu", "--log=root.thres:critical", "--cfg=network/model:CM02",
                              "--cfg=network/crosstraffic:0", nullptr};
        int argc = 4;
        sg::Engine engine(&argc, const_cast<char**>(args));
        Sim sim(s, sched, net, s.sim.fidelity == Fidelity::full);
        // Progress, once a second, as "#P seconds activities" lines ahead of
        // the result on the same pipe.
        std::atomic<bool> running{true};
        std::thread reporter;
        if (options_.progress)
          reporter = std::thread([&running, fd = fds[1]]() {
            while (running) {
              for (int i = 0; i < 10 && running; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
              if (!running) break;
              const std::string line = fmt::format("#P {} {}\n", g_clock.load(), g_recorded.load());
              if (write(fd, line.data(), line.size()) < 0) break;
            }
          });
        StepResult r;
        try {
          r = sim.run();
        } catch (...) {
          running = false;
          if (reporter.joinable()) reporter.join();
          throw;
        }
        running = false;
        if (reporter.joinable()) reporter.join();
        if (!options_.trace_path.empty()) write_trace(options_, sim.timelines());
        out = to_json(r).dump();
      } catch (const InputError& e) {
        // Bad input (a trace path that cannot be written) stays bad input on
        // the parent's side: exit status 2 and its location, not "internal".
        const Location& at = e.location();
        out = Json{{"input_error",
                    {{"file", at.file},
                     {"line", at.line},
                     {"column", at.column},
                     {"path", e.path()},
                     {"detail", e.detail()},
                     {"constraint", e.constraint()}}}}
                  .dump();
        code = 1;
      } catch (const std::exception& e) {
        out = Json{{"error", e.what()}}.dump();
        code = 1;
      }
      size_t done = 0;
      while (done < out.size()) {
        ssize_t n = write(fds[1], out.data() + done, out.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      close(fds[1]);
      _exit(code);
    }
    close(fds[1]);
    // The result, read until the child closes the pipe, or until the time
    // budget ends: then the child is killed and reaped before we report.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options_.max_seconds);
    std::string buf;
    char chunk[65536];
    bool timed_out = false;
    while (true) {
      int wait_ms = -1;
      if (options_.max_seconds > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          timed_out = true;
          break;
        }
        wait_ms = static_cast<int>(std::min<long long>(left.count(), 60'000));
      }
      pollfd pfd{fds[0], POLLIN, 0};
      const int ready = poll(&pfd, 1, wait_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) continue;  // the deadline is checked again above
      const ssize_t n = read(fds[0], chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      // Progress lines come first, each whole; the result follows them.
      while (buf.rfind("#P ", 0) == 0) {
        const size_t nl = buf.find('\n');
        if (nl == std::string::npos) break;
        double simulated = 0;
        long activities = 0;
        if (std::sscanf(buf.c_str(), "#P %lf %ld", &simulated, &activities) == 2 && options_.progress)
          options_.progress(simulated, activities);
        buf.erase(0, nl + 1);
      }
    }
    close(fds[0]);
    int status = 0;
    if (timed_out) kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
      throw BudgetError(fmt::format("the discrete-event replay was stopped at --max-seconds {:g} before it finished",
                                    options_.max_seconds));
    Json j = Json::parse(buf, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw std::runtime_error(fmt::format("DES: the simulation process ended without a result ({})",
                                           WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                                               : fmt::format("exit status {}", WEXITSTATUS(status))));
    if (const auto e = j.find("input_error"); e != j.end() && e->is_object()) {
      InputError error(Location{e->value("file", ""), e->value("line", 0), e->value("column", 0)}, e->value("path", ""),
                       e->value("detail", ""));
      if (e->value("constraint", false)) error.as_constraint();
      throw error;
    }
    if (j.contains("error")) throw std::runtime_error("DES: " + j.value("error", std::string("unknown")));
    return from_json(j);
  }

 private:
  EngineOptions options_;
};

}  // namespace

std::unique_ptr<Engine> make_des_engine(const EngineOptions& options) { return std::make_unique<DesEngine>(options); }

}  // namespace danlu
