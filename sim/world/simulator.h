// Simulator: the deterministic world in which whole clusters run on one thread.
//
// - A virtual clock that only moves when nothing can run now: it jumps to the next event.
// - Each step the seeded generator picks what happens next among every runnable fiber of every
//   node and the earliest due event, so different seeds explore different interleavings and the
//   same seed replays the same run bit for bit.
// - Nodes have their own fibers, disk and host name; crash() unwinds a node's fibers and applies
//   the disk's crash model; start() runs its main again on whatever the disk kept.
// - Every scheduling choice, event, delivery, disk operation and fault is folded into a 64-bit
//   trace hash.
//
// Threading: one thread. Methods marked "scheduler context" must not be called from inside a
// fiber (schedule an event instead).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/fiber_scheduler.h"
#include "runtime/random.h"
#include "runtime/runtime.h"

namespace samsa::sim {

class SimNetwork;
class SimDisk;
class SimRuntime;

// Tags folded into the trace with each record, so different kinds of record never collide.
enum class Trace : uint64_t {
  schedule = 1, event, net_segment, net_deliver, net_reset, net_connect, disk_op, disk_crash,
  fault, node_start, node_crash, buggify, node_pause,
};

class TraceHash {
 public:
  explicit TraceHash(uint64_t seed) : h_(seed ^ 0x6a09e667f3bcc909ULL) {}
  void fold(uint64_t x) {
    h_ ^= x + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2);
    h_ ^= h_ >> 33;
    h_ *= 0xff51afd7ed558ccdULL;
    h_ ^= h_ >> 33;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_;
};

uint64_t hash_bytes(ConstBytes data);

// For a process that runs many simulations (samsa-sim calls it): keeps the memory freed by
// simulated disks in the heap instead of returning it to the kernel. Their file images of up
// to megabytes are grown, copied and freed all the time; with glibc's defaults (mmap for large
// blocks, trim of the heap's top) each new one page-faults in zeroed pages again: a million
// faults and a sixth of the CPU in ten cluster seeds. Call once, before any simulation.
void keep_freed_memory_for_simulation();

// One record of the trace as it is folded into the hash (samsa-sim --trace): simulated time,
// the node whose fiber ran (-1: an event of the scheduler itself), kind and its two values
// (describe_trace() in trace_text.h names them).
struct TraceEvent {
  Instant at{};
  int32_t node = -1;
  Trace kind{};
  uint64_t a = 0, b = 0;
  // Not folded into the trace hash; valid during the sink's call only. A schedule step: the
  // fiber's name; a timer's event: the name of the fiber it wakes (empty: a scheduled action).
  std::string_view label;
};
using TraceSink = std::function<void(const TraceEvent&)>;

struct SimOptions {
  uint64_t seed = 1;
  LogLevel log_level = LogLevel::warn;
  bool buggify = true;
  BugSet bugs;  // planted bugs switched on in every node's runtime
  TraceSink trace_sink;  // sees every traced record (empty: none); never changes the run
};

// A process crash (kill -9) loses the process but not the machine: the kernel keeps every write,
// synced or not. A machine crash (power loss) also loses or tears what was not synced.
enum class CrashKind : uint8_t { machine, process };

struct SimNode {
  NodeId id;
  std::string host;
  std::function<void(Runtime&)> main;
  bool up = false;
  bool paused = false;
  bool main_finished = false;
  int64_t clock_offset_ms = 0;  // wall clock skew of this node
  int64_t clock_drift_ppm = 0;  // wall clock runs this many parts per million fast (or slow)
  Instant drift_since{0};       // when the current drift began
  uint64_t open_fds = 0;        // files and sockets of this incarnation
  uint64_t open_fds_max = 4096; // RLIMIT_NOFILE
  uint64_t incarnation = 0;
  uint64_t boots = 0;  // machine crashes so far: a process crash keeps the boot (and page cache)
  FiberId main_fiber = kNoFiber;
  std::unique_ptr<SimRuntime> runtime;  // one per incarnation
  std::unique_ptr<SimDisk> disk;        // survives crashes
  std::vector<FiberId> paused_runnable;
};

class Simulator final : public FiberScheduler {
 public:
  static constexpr size_t kEventsMax = 10'000'000;

  explicit Simulator(const SimOptions& options);
  ~Simulator() override;

  uint64_t seed() const { return options_.seed; }
  const SimOptions& options() const { return options_; }
  Instant now() const { return now_; }
  // Wall clock of a node: a fixed epoch (2026-01-01T00:00:00Z) plus simulated time plus the
  // node's offset, which clock faults may move (drift and jumps).
  static constexpr int64_t kWallClockEpochMs = 1'767'225'600'000;
  int64_t wall_clock_ms(NodeId node);
  // Clock faults: a jump moves a node's wall clock at once; a drift makes it run fast or slow
  // from now on. Monotonic time (now()) is never affected.
  void jump_clock(NodeId node, int64_t delta_ms);
  void set_clock_drift(NodeId node, int64_t ppm);
  uint64_t random_u64() { return rng_.next_u64(); }
  bool chance(uint64_t numerator, uint64_t denominator) { return samsa::chance(random_u64(), numerator, denominator); }
  int64_t in_range(int64_t lo, int64_t hi) { return samsa::in_range(random_u64(), lo, hi); }
  Duration random_duration(Duration lo, Duration hi) { return Duration{in_range(lo.count(), hi.count())}; }
  void trace(Trace kind, uint64_t a = 0, uint64_t b = 0, std::string_view label = {});
  uint64_t trace_hash() const { return trace_.value(); }
  uint64_t rng_digest() const { return rng_.state_digest(); }
  uint64_t steps() const { return steps_; }
  // The node whose fiber the last step ran (-1: it ran an event). Only a fiber changes what a
  // node's software holds, so observers may skip the other steps.
  NodeId last_fiber_node() const { return last_fiber_node_; }
  bool buggify(std::string_view site);
  // Turns every buggify site off from now on: when the faults heal, the system must converge,
  // and rare-but-legal behaviour at a fixed rate could keep it from ever settling.
  void quiesce_buggify() { buggify_quiet_ = true; }
  // Per site reached in this run: whether this seed enabled it and how often it fired.
  struct BuggifyStats {
    bool enabled = false;
    uint64_t fired = 0;
  };
  const std::map<std::string, BuggifyStats, std::less<>>& buggify_sites() const { return buggify_sites_; }
  size_t buggify_sites_enabled() const;
  uint64_t buggify_fired() const { return buggify_fired_; }

  // Events run in scheduler context at their time; ties keep scheduling order.
  void schedule_at(Instant at, std::function<void()> fn);
  void schedule_after(Duration d, std::function<void()> fn) { schedule_at(now_ + d, std::move(fn)); }

  // --- nodes ---
  NodeId add_node(std::string host, std::function<void(Runtime&)> main);
  SimNode& node(NodeId id);
  const std::map<NodeId, SimNode>& nodes() const { return nodes_; }
  Result<NodeId> resolve(const std::string& host, NodeId from) const;
  void start(NodeId id);    // scheduler context
  void crash(NodeId id, CrashKind kind = CrashKind::machine);  // scheduler context; no-op if down
  void restart(NodeId id, CrashKind kind = CrashKind::machine) { crash(id, kind); start(id); }
  void pause(NodeId id);
  void resume(NodeId id);
  bool up(NodeId id) { return node(id).up; }
  // File descriptor accounting (files and sockets), as Linux's RLIMIT_NOFILE: false when the
  // node is at its limit. release_fd ignores handles from an earlier incarnation.
  bool acquire_fd(NodeId id);
  void release_fd(NodeId id, uint64_t incarnation);

  SimNetwork& network() { return *network_; }

  // --- running (scheduler context) ---
  bool step();                       // false when nothing is left to do
  void run_until(Instant t);         // stops early if nothing is left
  void run_for(Duration d) { run_until(now_ + d); }

  void log_line(NodeId node, LogLevel level, std::string_view message) const;

 protected:
  void make_runnable(FiberId id) override { runnable_.push_back(id); }
  void arm_timer(Instant at, FiberId id, uint64_t generation) override;
  Instant clock_now() const override { return now_; }
  void on_fiber_exit(FiberId id, NodeId node) override;

 private:
  // Either a scheduled action (its closure in actions_[action]) or a fiber's timer: timers are
  // most events, so they carry no closure, and a stale one is dropped before it can cost a step.
  // Small and trivially copyable, as the heap moves events on every push and pop.
  static constexpr uint32_t kNoAction = UINT32_MAX;
  struct Event {
    Instant at;
    uint64_t seq;
    FiberId timer_fiber = kNoFiber;
    uint64_t timer_generation = 0;
    uint32_t action = kNoAction;
  };
  struct EventLater {
    bool operator()(const Event& a, const Event& b) const { return a.at != b.at ? a.at > b.at : a.seq > b.seq; }
  };

  bool run_one_fiber(size_t index);
  void run_event();
  void drop_stale_timers();

  SimOptions options_;
  Prng rng_;
  TraceHash trace_;
  Instant now_{0};
  uint64_t steps_ = 0;
  NodeId last_fiber_node_{-1};
  uint64_t event_seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, EventLater> events_;
  std::vector<std::function<void()>> actions_;  // slots of scheduled actions, reused
  std::vector<uint32_t> free_actions_;          // empty slots of actions_
  std::vector<FiberId> runnable_;
  std::map<NodeId, SimNode> nodes_;
  std::map<std::string, BuggifyStats, std::less<>> buggify_sites_;
  std::unique_ptr<SimNetwork> network_;
  bool killing_ = false;
  bool buggify_quiet_ = false;
  uint64_t buggify_fired_ = 0;
};

}  // namespace samsa::sim
