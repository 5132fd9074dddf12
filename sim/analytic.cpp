// The analytic engine: closed-form step time from the schedule's per-layer
// work, in microseconds per scenario.
//
// Per stage and microbatch it adds up the roofline time of every compute op
// and the exposed part of every collective (overlappable collectives hide
// under the compute of their own layer); the pipeline formula for the
// schedule turns per-stage times into the step; the data-parallel reduction
// and the optimizer follow, with the reduction hidden behind the last
// backward where overlap is on.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "sim/engine.hpp"

namespace danlu {

namespace {

// Time of one pass over some work for one microbatch, split the way the
// report and the power model need it.
struct PassCost {
  double total = 0;         // wall time of the pass
  double compute = 0;       // compute ops
  double matmul = 0;        // of which on the matrix units
  PerKind<double> exposed;  // exposed communication by kind
  double host_wait = 0;     // of compute: the GPU waiting for the host
  // A repeated layer: what the first of a run of them takes over the
  // others, its host starting level with the GPU (no lead carried in).
  double first_extra = 0;

  void add(const PassCost& o, double times) {
    total += o.total * times;
    compute += o.compute * times;
    matmul += o.matmul * times;
    host_wait += o.host_wait * times;
    for (CommKind k : kCommKinds) exposed[k] += o.exposed[k] * times;
  }
  // `times` of the layers of `o` are the first of their run.
  void add_first(const PassCost& o, double times) {
    total += o.first_extra * times;
    compute += o.first_extra * times;
    host_wait += o.first_extra * times;
  }
};

// Costs passes over work items: kernels from the compute model, collectives
// from the network model, and what the overlapped ones expose.
class PassCoster {
 public:
  PassCoster(const Scenario& s, const Network& net)
      : net_(net),
        kc_(kernel_context(s)),
        slowdown_(s.constants.overlap_slowdown),
        strides_(comm_strides(s.training.par)) {}

  // The last costed op per (kind, operation) is kept: a stage's gradient
  // buckets (and a layer's repeated collectives) are identical.
  double comm_time(const CommOp& op) {
    Last& l = last_[op.kind][static_cast<size_t>(op.op)];
    if (l.time_s >= 0 && l.op.bytes == op.bytes && l.op.group == op.group && l.op.stride == op.stride &&
        l.op.fanout == op.fanout && l.op.hierarchical == op.hierarchical && l.op.reach == op.reach)
      return l.time_s;
    CollectiveCost c = collective_cost(net_, op, op.stride ? op.stride : strides_[op.kind]);
    chosen_[op.kind][static_cast<size_t>(op.op)] = c.algorithm;
    l = {op, c.time_s};
    return c.time_s;
  }

  // Collectives that may overlap hide under the compute of the same pass.
  // A pass's compute is its kernels' GPU time and the GPU's waits for the
  // host to launch them (LaunchPipeline). Overlapped collectives slow the
  // compute they hide under, and what compute cannot hide is exposed.
  // `repeated`: the items are one of many identical layers in a row, and the
  // host's lead (or lag) at the end of one carries into the next, as in the
  // DES: the layer costs what a layer takes once that has settled.
  PassCost cost(const std::vector<WorkItem>& items, bool repeated = false) {
    PassCost pc;
    PerKind<double> hideable;
    line_.clear();
    line_.reserve(items.size());
    double copies = 0, blocking = 0, kernels = 0;
    bool host_work = false;
    for (const WorkItem& w : items) {
      if (w.is_comm) {
        double t = comm_time(w.comm);
        if (w.comm.overlappable) {
          hideable[w.comm.kind] += t;
        } else {
          pc.exposed[w.comm.kind] += t;
          line_.push_back({Step::busy, t, 0, 0});
          blocking += t;
        }
      } else if (w.compute.kind == OpKind::host_transfer) {
        copies += op_time(w.compute, kc_);
      } else if (w.compute.kind == OpKind::host_sync) {
        line_.push_back({Step::sync, op_time(w.compute, kc_), 0, 0});
      } else {
        double t = op_time(w.compute, kc_);
        const double host = op_host_time(w.compute, kc_);
        host_work = host_work || host > 0;
        line_.push_back({Step::compute, t, host, op_kernels(w.compute, kc_)});
        kernels += t;
        if (w.compute.on_matrix_units()) pc.matmul += t;
      }
    }
    LaunchPipeline line;
    auto run = [&]() {
      for (const Step& st : line_) switch (st.kind) {
          case Step::compute: line.compute(st.gpu_s, st.host_s, st.pieces); break;
          case Step::busy: line.busy(st.gpu_s); break;
          case Step::sync: line.sync(st.gpu_s); break;
        }
    };
    run();
    double gpu_s = line.gpu_s;
    if (repeated && host_work) {
      // Two more layers settle the lead; the last one's increment is the
      // steady state. (With no host time, every layer is the first.)
      const double first = gpu_s;
      run();
      const double before = line.gpu_s;
      run();
      gpu_s = line.gpu_s - before;
      pc.first_extra = first - gpu_s;
    }
    pc.compute = gpu_s - blocking;
    pc.host_wait = std::max(0.0, pc.compute - kernels);
    // Copies to and from host memory run on copy engines beside the
    // compute; the GPU waits only for what the compute does not cover.
    pc.compute = std::max(pc.compute, copies);
    double hidden_total = 0;
    for (double h : hideable) hidden_total += h;
    const double compute = pc.compute;
    pc.compute += slowdown_ * std::min(hidden_total, compute);
    if (hidden_total > compute) {
      double spill = (hidden_total - compute) / hidden_total;
      for (CommKind k : kCommKinds) pc.exposed[k] += hideable[k] * spill;
    }
    pc.total = pc.compute;
    for (double e : pc.exposed) pc.total += e;
    return pc;
  }

  double compute_time(const ComputeOp& op) const { return op_time(op, kc_); }

  // "tp all-gather: ring", ... for every (kind, operation) costed.
  std::vector<std::string> algorithms() const {
    std::vector<std::string> out;
    for (CommKind k : kCommKinds)
      for (size_t o = 0; o < kCollectives; ++o)
        if (chosen_[k][o])
          out.push_back(std::string(to_string(k)) + " " + std::string(to_string(static_cast<Collective>(o))) + ": " +
                        chosen_[k][o]);
    return out;
  }

 private:
  struct Last {
    CommOp op;
    double time_s = -1;
  };
  const Network& net_;
  const KernelContext kc_;
  const double slowdown_;
  const PerKind<int> strides_;
  PerKind<std::array<const char*, kCollectives>> chosen_{};
  PerKind<std::array<Last, kCollectives>> last_;
  // A pass's items as the launch pipeline sees them (reused between passes).
  struct Step {
    enum Kind { compute, busy, sync } kind;
    double gpu_s, host_s, pieces;
  };
  std::vector<Step> line_;
};

class AnalyticEngine final : public Engine {
 public:
  bool needs_expanded_schedule() const override { return false; }

  StepResult run(const Scenario& s, const StepSchedule& sched, const Network& net) const override {
    const Parallelism& par = s.training.par;
    const double slowdown = s.constants.overlap_slowdown;
    StepResult r;
    PassCoster coster(s, net);

    std::vector<std::array<PassCost, 3>> variant(sched.variants.size());
    PassCost head[3], tail[3];
    const Pass passes[3] = {Pass::F, Pass::B, Pass::W};
    for (int i = 0; i < 3; ++i) {
      for (size_t v = 0; v < sched.variants.size(); ++v)
        variant[v][static_cast<size_t>(i)] = coster.cost(sched.variants[v].work.work(passes[i]), true);
      head[i] = coster.cost(sched.head.work(passes[i]));
      tail[i] = coster.cost(sched.tail.work(passes[i]));
    }

    // Per stage, per microbatch (all chunks): forward, backward, weight-grad.
    const int pp = par.pp;
    std::vector<PassCost> per_stage(static_cast<size_t>(pp));
    std::vector<double> f(static_cast<size_t>(pp)), b(static_cast<size_t>(pp)), w(static_cast<size_t>(pp));
    for (int st = 0; st < pp; ++st) {
      const StageSchedule& stage = sched.stages[static_cast<size_t>(st)];
      PassCost pass[3];
      // Each of the stage's chunks starts a run of layers afresh (after a
      // stage-to-stage transfer): the first layer of each is spread over
      // the variants by their share.
      double layers = 0;
      for (int c : stage.variant_count) layers += c;
      const double first_share = layers > 0 ? std::min(1.0, par.vpp / layers) : 0.0;
      for (int i = 0; i < 3; ++i) {
        for (size_t v = 0; v < stage.variant_count.size(); ++v) {
          pass[i].add(variant[v][static_cast<size_t>(i)], stage.variant_count[v]);
          pass[i].add_first(variant[v][static_cast<size_t>(i)], stage.variant_count[v] * first_share);
        }
        if (st == 0) pass[i].add(head[i], 1);
        if (st == pp - 1) pass[i].add(tail[i], 1);
        per_stage[static_cast<size_t>(st)].add(pass[i], 1);
      }
      f[static_cast<size_t>(st)] = pass[0].total;
      b[static_cast<size_t>(st)] = pass[1].total;
      w[static_cast<size_t>(st)] = pass[2].total;
    }

    const double m = sched.microbatches;
    const double v = par.vpp;
    auto mean = [&](auto fn) {
      double sum = 0;
      for (int st = 0; st < pp; ++st) sum += fn(static_cast<size_t>(st));
      return sum / pp;
    };
    size_t slow = 0;
    for (size_t st = 1; st < per_stage.size(); ++st)
      if (per_stage[st].total > per_stage[slow].total) slow = st;
    const double t_max = per_stage[slow].total;

    // Pipeline: the slowest stage works m microbatches; the schedule adds its
    // fill and drain.
    const double fill = s.training.schedule->fill_s(pp, par.vpp, mean([&](size_t i) { return per_stage[i].total; }),
                                                    mean([&](size_t i) { return f[i] + b[i] - w[i]; }));
    const double t_pipe = m * t_max + fill;

    // Stage-to-stage sends: the fill and drain wait on 2(p-1) of them; in the
    // steady state they hide under compute only when pp_comm overlaps.
    double pp_exposed = 0;
    if (pp > 1) {
      CommOp send;
      send.kind = CommKind::pp;
      send.op = Collective::send_recv;
      send.bytes = sched.pp_send_bytes;
      send.group = 2;
      double t_send = coster.comm_time(send);
      pp_exposed = 2.0 * (pp - 1) * t_send + (s.training.overlap.pp_comm ? 0.0 : 2.0 * m * v * t_send);
    }

    // Each stage then reduces its gradients and steps its optimizer; stage s
    // ends its last backward about s backward-chunk times before stage 0.
    double t_end = 0, dp_exposed = 0, opt = 0;
    for (int st = 0; st < pp; ++st) {
      const StageSchedule& stage = sched.stages[static_cast<size_t>(st)];
      double t_dp = 0, t_after = 0;
      int buckets = 0;
      for (const Buckets& c : stage.dp_comm) t_dp += c.count * coster.comm_time(c.bucket), buckets += c.count;
      for (const Buckets& c : stage.dp_after) t_after += c.count * coster.comm_time(c.bucket);
      buckets = std::max(1, buckets);
      double exposed = t_dp + t_after;
      if (s.training.overlap.dp_comm) {
        // Buckets fill during the last microbatch's backward; the parameter
        // all-gather but its first bucket runs under the next step's forward
        // of the first microbatch, and what outlasts that is exposed.
        const double fwd = f[static_cast<size_t>(st)], bwd = b[static_cast<size_t>(st)];
        exposed = std::max(t_dp - bwd, t_dp / buckets) + slowdown * std::min(t_dp, bwd) +
                  std::max(t_after - fwd, t_after / buckets) + slowdown * std::min(t_after - t_after / buckets, fwd);
      }
      double t_opt = coster.compute_time(stage.optimizer);
      double drain = st * mean([&](size_t i) { return b[i]; }) / v;
      double end = t_pipe + pp_exposed - drain + exposed + t_opt;
      if (end > t_end) t_end = end, dp_exposed = exposed, opt = t_opt;
    }

    const PassCost& ps = per_stage[slow];
    r.time_s = t_end;
    r.compute_s = m * ps.compute;
    r.host_wait_s = m * ps.host_wait;
    r.optimizer_s = opt;
    for (CommKind k : kCommKinds) r.comm_s[k] = m * ps.exposed[k];
    r.comm_s[CommKind::pp] += pp_exposed;
    r.comm_s[CommKind::dp] += dp_exposed;
    for (double c : r.comm_s) r.exposed_comm_s += c;
    r.bubble_s = std::max(0.0, r.time_s - r.compute_s - r.exposed_comm_s - r.optimizer_s);

    r.algorithms = coster.algorithms();

    r.activity.matmul_s = m * ps.matmul;
    r.activity.memory_s = m * (ps.compute - ps.matmul - ps.host_wait) + opt;
    r.activity.comm_s = r.exposed_comm_s;
    r.activity.idle_s = r.bubble_s + r.host_wait_s;
    return r;
  }
};

}  // namespace

std::unique_ptr<Engine> make_analytic_engine(const EngineOptions&) { return std::make_unique<AnalyticEngine>(); }

}  // namespace danlu
