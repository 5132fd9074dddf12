// The discrete-event replay of one training step, inside the simulation
// process (sim/des.cpp runs it in a forked child): the simulated ranks, their
// groups and the actors that replay their stage's slots. Setting up and
// summing up are in des_setup.cpp, the actors' replay in des_replay.cpp.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/des_observers.hpp"
#include "sim/des_platform.hpp"
#include "sim/engine.hpp"

namespace danlu::des {

namespace sg = simgrid::s4u;

// What the replay has done, for the progress reporter thread of the forked
// simulation process (one replay per process, so process-wide is enough).
extern std::atomic<long> g_recorded;
extern std::atomic<double> g_clock;

// A GPU host's speed is its achievable large-GEMM rate in the run's
// precision (FLOP/s). An op's time comes from the compute model the analytic
// engine uses (models/kernels.hpp); it executes as the work that rate does
// in that time, and the DES decides when.
double host_speed(const Accelerator& acc, Precision p);

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
  void make_group(RankState& me, CommKind kind);

  // One phase's transfers, started, appended to `out`. Folded: a flow to the
  // stand-in peer. Full: the send to the ring peer and the receives from the
  // ranks whose peer this rank is, matched through mailboxes, so a flow starts
  // when both ends have reached the phase. (Host-to-host flows would do, but
  // SimGrid 3.32 keeps all of them on one list that every completion walks:
  // quadratic with thousands of ranks. Mailbox transfers belong to their actors.)
  void start_phase(const RankState& me, const GroupInfo& g, const Phase& ph, std::vector<sg::CommPtr>& out) const;

  // A collective, blocking: launch cost, then each phase's latency and flow.
  void collective(const RankState& me, const CommOp& op, Recorder& rec);

  // An overlappable collective: its flows start now; the pass waits for them at its end.
  void collective_async(const RankState& me, const CommOp& op, std::vector<sg::CommPtr>& pending) const;

  // The items of one pass: consecutive compute merges into one execution.
  // The host launches ahead of the GPU, across collectives, until a host
  // sync drains its queue; the GPU waits where the host has not yet issued
  // what comes next (LaunchPipeline, as the analytic engine's passes).
  // Overlapped collectives slow the compute they run under: at the wait, the
  // compute done since the first of them started is stretched by
  // overlap_slowdown over the part their planned time covers.
  void run_items(const RankState& me, const std::vector<WorkItem>& items, Recorder& rec, double& matmul_s);

  // Everything actors look up, made before they run, so that actor code only
  // reads shared state (SimGrid may run actors in parallel threads).
  void prepare(const std::vector<sg::ActorPtr>& actors);

  // Waits for a data-parallel collective that ran on its own actor beside
  // `overlapped_s` of compute: that compute is stretched by overlap_slowdown,
  // then whatever the collective still has left is exposed.
  void join_overlapped(const sg::ActorPtr& actor, double overlapped_s, const char* slowed_name, const char* tail_name,
                       Recorder& rec, double& matmul_s);

  // Replays sim.steps steps back to back: a step's parameter all-gather
  // and first forward may then overlap the previous step's tail on other
  // stages, as they do in a run.
  void stage_actor(RankState& me);

  void replay_step(RankState& me, Recorder& rec, double& matmul_s);

  StepResult run();

  // The simulated ranks' timelines, for the observers (sim/des_observers.hpp).
  std::vector<RankTimeline> timelines() const;
};

}  // namespace danlu::des
