// The actors' replay of a stage's slots: compute as executions, each
// collective phase as flows, pipeline sends through mailboxes, and the
// data-parallel reduction on a helper actor beside the last backward.
#include <algorithm>
#include <limits>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "models/power.hpp"
#include "sim/des_sim.hpp"
#include "topologies/topology.hpp"

namespace danlu::des {

void Sim::collective(const RankState& me, const CommOp& op, Recorder& rec) {
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

void Sim::collective_async(const RankState& me, const CommOp& op, std::vector<sg::CommPtr>& pending) const {
  const GroupInfo& g = me.group[static_cast<size_t>(op.kind)];
  for (const Phase& ph : plans.at(&op).phases)
    if (ph.bytes > 0) start_phase(me, g, ph, pending);
}

void Sim::run_items(const RankState& me, const std::vector<WorkItem>& items, Recorder& rec, double& matmul_s) {
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

void Sim::join_overlapped(const sg::ActorPtr& actor, double overlapped_s, const char* slowed_name,
                          const char* tail_name, Recorder& rec, double& matmul_s) {
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

void Sim::stage_actor(RankState& me) {
  Recorder rec{me.timeline};
  double matmul_s = 0;
  for (int step = 0; step < s.sim.steps; ++step) replay_step(me, rec, matmul_s);
  me.matmul_s = matmul_s;
  me.finish_s = sg::Engine::get_clock();
}

void Sim::replay_step(RankState& me, Recorder& rec, double& matmul_s) {
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
        join_overlapped(gatherer, std::min(gather_planned, overlapped_s), "forward slowed by the parameter all-gather",
                        "parameter all-gather (overlapped) tail", rec, matmul_s);
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

}  // namespace danlu::des
