#include "sim/world/simulator.h"

#include <malloc.h>

#include <bit>
#include <cstdio>
#include <cstring>

#include "sim/world/sim_disk.h"
#include "sim/world/sim_network.h"
#include "sim/world/sim_runtime.h"
#include "runtime/buggify_sites.h"

namespace samsa::sim {

// Eight bytes a step (FNV-1a's multiply on words, each folded down): byte-wise FNV-1a over every
// disk write and network segment was 5% of a simulated cluster's time. The words are read
// little-endian on any host, so that a trace hash does not depend on it.
uint64_t hash_bytes(ConstBytes data) {
  uint64_t h = 0xcbf29ce484222325ULL ^ data.size();
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, data.data() + i, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < data.size(); ++i) h = (h ^ std::to_integer<uint64_t>(data[i])) * 0x100000001b3ULL;
  return h;
}

void keep_freed_memory_for_simulation() {
  constexpr int kMmapThresholdBytes = 32 << 20;  // glibc's maximum on 64-bit hosts
  constexpr int kTrimThresholdBytes = 1 << 30;
  (void)mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  (void)mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
}

Simulator::Simulator(const SimOptions& options)
    : options_(options), rng_(options.seed), trace_(options.seed), network_(std::make_unique<SimNetwork>(*this)) {}

Simulator::~Simulator() {
  // Unwind every node's fibers while the runtimes they reference still exist.
  killing_ = true;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) kill_node(it->first);
}

void Simulator::trace(Trace kind, uint64_t a, uint64_t b, std::string_view label) {
  trace_.fold(static_cast<uint64_t>(kind));
  trace_.fold(a);
  trace_.fold(b);
  if (options_.trace_sink) options_.trace_sink(TraceEvent{now_, last_fiber_node_.value, kind, a, b, label});
}

bool Simulator::buggify(std::string_view site) {
  SAMSA_ASSERT_MSG(known_buggify_site(site), "buggify site missing from src/runtime/buggify_sites.h");
  if (!options_.buggify || buggify_quiet_) return false;
  auto it = buggify_sites_.find(site);
  if (it == buggify_sites_.end()) {
    // Each site is on for a quarter of the seeds, decided the first time it is reached.
    it = buggify_sites_.emplace(std::string(site), BuggifyStats{chance(1, 4), 0}).first;
  }
  if (!it->second.enabled) return false;
  bool fire = chance(1, 20);
  if (fire) {
    ++buggify_fired_;
    ++it->second.fired;
    trace(Trace::buggify, hash_bytes(std::as_bytes(std::span(site.data(), site.size()))));
  }
  return fire;
}

size_t Simulator::buggify_sites_enabled() const {
  size_t n = 0;
  for (const auto& [site, stats] : buggify_sites_) n += stats.enabled ? 1 : 0;
  return n;
}

void Simulator::schedule_at(Instant at, std::function<void()> fn) {
  SAMSA_ASSERT_MSG(events_.size() < kEventsMax, "simulator event queue limit");
  SAMSA_ASSERT(fn != nullptr);
  if (at < now_) at = now_;
  uint32_t slot;
  if (free_actions_.empty()) {
    slot = static_cast<uint32_t>(actions_.size());
    actions_.push_back(std::move(fn));
  } else {
    slot = free_actions_.back();
    free_actions_.pop_back();
    actions_[slot] = std::move(fn);
  }
  events_.push(Event{.at = at, .seq = event_seq_++, .action = slot});
}

void Simulator::arm_timer(Instant at, FiberId id, uint64_t generation) {
  SAMSA_ASSERT_MSG(events_.size() < kEventsMax, "simulator event queue limit");
  if (at < now_) at = now_;
  events_.push(Event{.at = at, .seq = event_seq_++, .timer_fiber = id, .timer_generation = generation});
}

NodeId Simulator::add_node(std::string host, std::function<void(Runtime&)> main) {
  NodeId id{static_cast<int32_t>(nodes_.size() + 1)};
  SimNode& n = nodes_[id];
  n.id = id;
  n.host = std::move(host);
  n.main = std::move(main);
  n.disk = std::make_unique<SimDisk>(*this, id);
  return id;
}

SimNode& Simulator::node(NodeId id) {
  auto it = nodes_.find(id);
  SAMSA_ASSERT_MSG(it != nodes_.end(), "unknown node");
  return it->second;
}

Result<NodeId> Simulator::resolve(const std::string& host, NodeId from) const {
  if (host.empty() || host == "localhost" || host == "127.0.0.1" || host == "0.0.0.0" || host == "::1") return from;
  for (const auto& [id, n] : nodes_) {
    if (n.host == host) return id;
  }
  return Errc::host_unreachable;
}

void Simulator::start(NodeId id) {
  SAMSA_ASSERT(!in_fiber());
  SimNode& n = node(id);
  if (n.up) return;
  n.up = true;
  n.paused = false;
  n.main_finished = false;
  ++n.incarnation;
  trace(Trace::node_start, static_cast<uint64_t>(id.value), n.incarnation);
  n.runtime = std::make_unique<SimRuntime>(*this, n);
  n.runtime->set_bugs(options_.bugs);
  SimRuntime* rt = n.runtime.get();
  n.main_fiber = spawn(id, "main", [rt, &n] { n.main(*rt); });
}

void Simulator::crash(NodeId id, CrashKind kind) {
  SAMSA_ASSERT(!in_fiber());
  SimNode& n = node(id);
  if (!n.up) return;
  trace(Trace::node_crash, static_cast<uint64_t>(id.value), n.incarnation << 1 | static_cast<uint64_t>(kind));
  n.up = false;
  // Network and disk first, so that destructors run by the unwinding (sockets closing, files
  // closing) have no visible effect: a crashed machine sends no FIN and writes nothing more.
  network_->node_crashed(id);
  if (kind == CrashKind::machine) {
    n.disk->crash();
    ++n.boots;
  } else {
    n.disk->crash_process();
  }
  killing_ = true;
  kill_node(id);
  killing_ = false;
  n.paused_runnable.clear();
  n.runtime.reset();
  n.open_fds = 0;  // the kernel closed them all
}

int64_t Simulator::wall_clock_ms(NodeId id) {
  const SimNode& n = node(id);
  const int64_t drift_ms = (now_.ns - n.drift_since.ns) / 1'000'000 * n.clock_drift_ppm / 1'000'000;
  return kWallClockEpochMs + now_.ns / 1'000'000 + n.clock_offset_ms + drift_ms;
}

void Simulator::jump_clock(NodeId id, int64_t delta_ms) {
  trace(Trace::fault, 0xA0, static_cast<uint64_t>(delta_ms));
  node(id).clock_offset_ms += delta_ms;
}

void Simulator::set_clock_drift(NodeId id, int64_t ppm) {
  SimNode& n = node(id);
  // Fold the drift so far into the offset, so the clock stays continuous.
  n.clock_offset_ms = wall_clock_ms(id) - kWallClockEpochMs - now_.ns / 1'000'000;
  n.clock_drift_ppm = ppm;
  n.drift_since = now_;
  trace(Trace::fault, 0xA1, static_cast<uint64_t>(ppm));
}

bool Simulator::acquire_fd(NodeId id) {
  SimNode& n = node(id);
  if (n.open_fds >= n.open_fds_max) return false;
  ++n.open_fds;
  return true;
}

void Simulator::release_fd(NodeId id, uint64_t incarnation) {
  SimNode& n = node(id);
  if (n.incarnation != incarnation || !n.up) return;
  SAMSA_ASSERT(n.open_fds > 0);
  --n.open_fds;
}

void Simulator::pause(NodeId id) {
  SimNode& n = node(id);
  if (n.up && !n.paused) trace(Trace::node_pause, static_cast<uint64_t>(id.value), 1);
  if (n.up) n.paused = true;
}

void Simulator::resume(NodeId id) {
  SimNode& n = node(id);
  if (n.paused) trace(Trace::node_pause, static_cast<uint64_t>(id.value), 0);
  n.paused = false;
  for (FiberId f : n.paused_runnable) runnable_.push_back(f);
  n.paused_runnable.clear();
}

void Simulator::on_fiber_exit(FiberId id, NodeId node_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || killing_) return;
  SimNode& n = it->second;
  if (id == n.main_fiber && n.up) {
    // A node lives as long as its main fiber, as on Linux (run_real): the rest are unwound.
    n.main_finished = true;
    killing_ = true;
    kill_node(node_id);
    killing_ = false;
  }
}

bool Simulator::run_one_fiber(size_t index) {
  FiberId id = runnable_[index];
  runnable_[index] = runnable_.back();
  runnable_.pop_back();
  NodeId owner = node_of(id);
  if (owner.value < 0) return false;  // killed while queued
  SimNode& n = node(owner);
  if (n.paused) {
    n.paused_runnable.push_back(id);
    return false;
  }
  last_fiber_node_ = owner;
  trace(Trace::schedule, id.value, 0, options_.trace_sink ? name_of(id) : std::string_view{});
  return run_fiber(id);
}

void Simulator::run_event() {
  const Event ev = events_.top();
  events_.pop();
  if (ev.at > now_) now_ = ev.at;
  trace(Trace::event, static_cast<uint64_t>(now_.ns), 0,
        options_.trace_sink && ev.action == kNoAction ? name_of(ev.timer_fiber) : std::string_view{});
  if (ev.action != kNoAction) {
    std::function<void()> fn = std::move(actions_[ev.action]);
    actions_[ev.action] = nullptr;
    free_actions_.push_back(ev.action);  // before fn runs: it may schedule more
    fn();
  } else {
    on_timer(ev.timer_fiber, ev.timer_generation);
  }
}

// A timer whose fiber woke otherwise (its wait ended early) or died does nothing when it fires:
// dropping it neither moves the clock nor takes a step, as a kernel cancels a disarmed timer.
void Simulator::drop_stale_timers() {
  while (!events_.empty()) {
    const Event& top = events_.top();
    if (top.action != kNoAction || timer_live(top.timer_fiber, top.timer_generation)) return;
    events_.pop();
  }
}

bool Simulator::step() {
  SAMSA_ASSERT(!in_fiber());
  last_fiber_node_ = NodeId{-1};
  drop_stale_timers();
  const bool event_due = !events_.empty() && events_.top().at <= now_;
  if (!runnable_.empty()) {
    // Choose among the runnable fibers and one due event, so that neither can starve the other.
    const size_t choices = runnable_.size() + (event_due ? 1 : 0);
    const size_t pick = bounded(random_u64(), choices);
    if (pick < runnable_.size()) {
      run_one_fiber(pick);
    } else {
      run_event();
    }
    ++steps_;
    return true;
  }
  if (events_.empty()) return false;
  run_event();
  ++steps_;
  return true;
}

void Simulator::run_until(Instant t) {
  for (;;) {
    drop_stale_timers();
    if (runnable_.empty() && (events_.empty() || events_.top().at > t)) break;
    if (!step()) break;
  }
  if (now_ < t) now_ = t;
}

void Simulator::log_line(NodeId node_id, LogLevel level, std::string_view message) const {
  if (level < options_.log_level) return;
  static constexpr const char* kNames[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
  std::fprintf(stderr, "[%12.6f] n%d %-5s %.*s\n", static_cast<double>(now_.ns) / 1e9, node_id.value,
               kNames[static_cast<int>(level)], static_cast<int>(message.size()), message.data());
}

}  // namespace samsa::sim
