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
// simulation runs in a forked child that sends its result back on a pipe:
// this file is that engine (budgets, the child, its result); the replay
// itself is sim/des_sim.hpp.
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
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simgrid/s4u.hpp>

#include "sim/des_sim.hpp"

namespace danlu {

namespace {

using des::g_clock;
using des::g_recorded;
using des::Sim;
using Json = nlohmann::json;
namespace sg = simgrid::s4u;

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

// What a failed child wrote to stderr, on one line: SimGrid's message
// comes first, then a backtrace, which is left out.
std::string child_said(std::FILE* f) {
  if (!f || std::fseek(f, 0, SEEK_SET) != 0) return "";
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  if (const size_t trace = text.find("Backtrace"); trace != std::string::npos) text.resize(trace);
  if (text.size() > 600) text.resize(600);
  for (char& c : text)
    if (c == '\n' || c == '\t') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// A child that ended without a result. Killed (the kernel's OOM killer
// sends SIGKILL) or out of memory or memory mappings: a resource limit, so a
// budget error with what to change, exit 4. Anything else is a defect and
// says what the child said.
[[noreturn]] void failed_child(int status, const std::string& said) {
  const std::string how = WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                              : fmt::format("exit status {}", WEXITSTATUS(status));
  const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  const bool out_of_memory = said.find("bad_alloc") != std::string::npos ||
                             said.find("Cannot allocate memory") != std::string::npos ||
                             said.find("mmap") != std::string::npos;
  const std::string quoted = said.empty() ? "" : fmt::format("; it said: {}", said);
  if (killed || out_of_memory)
    throw BudgetError(
        fmt::format("the discrete-event replay ran out of memory ({}{}); use sim.fidelity: folded, "
                    "fewer GPUs or fewer micro-batches",
                    how, quoted));
  throw std::runtime_error(fmt::format("DES: the simulation process ended without a result ({}{})", how, quoted));
}

// The actors' stack size (see run()); AddressSanitizer's redzones make
// frames several times larger.
#ifdef DANLU_ASAN
constexpr const char* kStackSizeCfg = "--cfg=contexts/stack-size:512";
#else
constexpr const char* kStackSizeCfg = "--cfg=contexts/stack-size:64";
#endif

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
      throw BudgetError(
          fmt::format("the discrete-event replay would take ~{:.2g} activities (~{:.3g} GB), over the "
                      "{:.3g} GB memory budget ({}); {}",
                      activities, activities * kBytesPerActivity / 1e9, budget / 1e9,
                      options_.max_memory_bytes > 0 ? "--max-memory" : "half of this machine's memory", smaller),
          /*one_evaluation=*/true);
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
    // The child's stderr (SimGrid's own message when it aborts) goes to an
    // unnamed file the parent reads if the child ends without a result.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> child_err(std::tmpfile(), &std::fclose);
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
      // Actor stacks come from the heap (no guard pages, below): without
      // this, transparent huge pages back each touched stack with 2 MiB.
      prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
      if (getppid() != parent) _exit(1);
      close(fds[0]);
      // SimGrid reports its own failures on stderr: kept for the parent,
      // which quotes them when no result comes back.
      if (child_err) {
        dup2(fileno(child_err.get()), 2);
      } else if (int devnull = open("/dev/null", O_WRONLY); devnull >= 0) {
        dup2(devnull, 2);
      }
      int code = 0;
      std::string out;
      try {
        // Actor stacks: with a guard page, each is two memory mappings, and
        // full fidelity at 16K GPUs (up to three actors a rank) crosses
        // Linux's default vm.max_map_count (65,530). Without one, SimGrid
        // takes them from the heap, which touches what it hands out, so they
        // must be small: the replay's actors ran in 16 KiB at 1,024 GPUs;
        // 64 KiB leaves 4x that (128 KiB cost 40% more time and memory).
        const char* args[] = {"danlu",
                              "--log=root.thres:critical",
                              "--cfg=network/model:CM02",
                              "--cfg=network/crosstraffic:0",
                              "--cfg=contexts/guard-size:0",
                              kStackSizeCfg,
                              nullptr};
        int argc = 6;
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
        // Bad input stays bad input on the parent's side: exit status 2 and
        // its location, not "internal"; a trace that cannot be written stays
        // an output failure (exit 1).
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
      } catch (const OutputError& e) {
        out = Json{{"output_error", e.what()}}.dump();
        code = 1;
      } catch (const std::bad_alloc&) {
        out = Json{{"out_of_memory", true}}.dump();
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
    if (j.is_discarded() || !j.is_object()) failed_child(status, child_said(child_err.get()));
    if (const auto e = j.find("input_error"); e != j.end() && e->is_object()) {
      InputError error(Location{e->value("file", ""), e->value("line", 0), e->value("column", 0)}, e->value("path", ""),
                       e->value("detail", ""));
      if (e->value("constraint", false)) error.as_constraint();
      throw error;
    }
    if (const auto e = j.find("output_error"); e != j.end() && e->is_string()) throw OutputError(e->get<std::string>());
    if (j.contains("out_of_memory")) failed_child(status, "std::bad_alloc");
    if (j.contains("error")) throw std::runtime_error("DES: " + j.value("error", std::string("unknown")));
    return from_json(j);
  }

 private:
  EngineOptions options_;
};

}  // namespace

std::unique_ptr<Engine> make_des_engine(const EngineOptions& options) { return std::make_unique<DesEngine>(options); }

}  // namespace danlu
