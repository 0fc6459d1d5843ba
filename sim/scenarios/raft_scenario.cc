#include "sim/scenarios/raft_scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "net/frame_server.h"
#include "raft/network_transport.h"
#include "raft/raft_client.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/world/sim_disk.h"
#include "sim/world/sim_network.h"
#include "sim/world/simulator.h"
#include "util/endian.h"

namespace samsa::sim {

namespace {

constexpr uint16_t kPort = 9093;
constexpr int32_t kObserverId = 100;
constexpr int64_t kOutstandingMax = 2000;          // appended but uncommitted offsets a writer allows
constexpr uint64_t kSnapshotEveryRecords = 150;   // a node snapshots after applying this many more

std::string raft_host(int32_t id) { return id == kObserverId ? "observer" : fmt::format("raft{}", id); }

// The state machine of one incarnation: a count and a running hash of committed records.
class CountingStateMachine final : public raft::RaftListener {
 public:
  void handle_commit(const raft::CommittedBatch& b) override {
    for (const auto& r : b.records) hash_ = hash_ * 31 + hash_bytes(r);
    records_ += b.records.size();
    end_offset_ = b.last_offset + 1;
    epoch_ = b.epoch;
  }
  void handle_load_snapshot(const raft::SnapshotImage& s) override {
    SAMSA_ASSERT(s.image.size() == 16);
    records_ = get_u64_be(&s.image[0]);
    hash_ = get_u64_be(&s.image[8]);
    end_offset_ = s.id.end_offset;
    epoch_ = s.id.epoch;
    snapshot_records_ = records_;
  }
  void handle_leader_change(const raft::LeaderAndEpoch& l) override { leader_ = l; }

  std::vector<std::byte> image() const {
    std::vector<std::byte> out(16);
    put_u64_be(&out[0], records_);
    put_u64_be(&out[8], hash_);
    return out;
  }
  const raft::LeaderAndEpoch& leader() const { return leader_; }
  bool wants_snapshot() const { return end_offset_ > 0 && records_ >= snapshot_records_ + kSnapshotEveryRecords; }
  void snapshotted() { snapshot_records_ = records_; }
  int64_t end_offset() const { return end_offset_; }
  int32_t epoch() const { return epoch_; }

 private:
  uint64_t records_ = 0, hash_ = 0, snapshot_records_ = 0;
  int64_t end_offset_ = 0;
  int32_t epoch_ = 0;
  raft::LeaderAndEpoch leader_;
};

struct Setup {
  raft::RaftConfig base;
  int batch_records = 0;
  int pause_ms = 0;
  RaftChecker* checker = nullptr;
};

// The controller's stand-in: while this node leads (as the state machine was told, which is
// only once it is current), append batches of records.
void writer_loop(Runtime& rt, raft::RaftClient& client, const CountingStateMachine& sm, const Setup& setup, int32_t id) {
  uint64_t seq = 0;
  for (;;) {
    const raft::LeaderAndEpoch l = sm.leader();
    if (l.leader_id == id) {
      const int n = setup.batch_records > 0 ? setup.batch_records : static_cast<int>(in_range(rt.random_u64(), 1, 3));
      std::vector<std::vector<std::byte>> records;
      for (int k = 0; k < n; ++k) {
        const std::string v = fmt::format("n{}-e{}-{}", id, l.epoch, seq++);
        const ConstBytes b = as_bytes(v);
        records.emplace_back(b.begin(), b.end());
      }
      Result<int64_t> r = client.append(l.epoch, std::move(records));
      if (r.ok() && *r - client.high_watermark() > kOutstandingMax) {
        (void)client.wait_committed(*r - kOutstandingMax, rt.after(std::chrono::seconds(1)));
      }
      if (!r.ok() && !rt.sleep(std::chrono::milliseconds(50)).ok()) return;
    }
    const int pause = setup.pause_ms >= 0 ? std::max(setup.pause_ms, 1) : static_cast<int>(in_range(rt.random_u64(), 2, 30));
    if (!rt.sleep(std::chrono::milliseconds(l.leader_id == id ? pause : 20)).ok()) return;
  }
}

void node_main(Runtime& rt, const Setup& setup, int32_t id) {
  raft::RaftConfig config = setup.base;
  config.node_id = id;
  raft::NetworkTransport transport(rt, config.voters, raft_host(id));
  CountingStateMachine sm;
  raft::RaftClient client(rt, config, transport, sm);
  client.set_observer(&setup.checker->observer(id));
  raft::RaftRequestHandler handler(client);
  FrameServer server(rt, handler, FrameServerLimits{});
  if (!client.start().ok()) return;
  const bool voter = config.is_voter(id);
  if (voter && !server.start(Address{raft_host(id), kPort}).ok()) {
    client.stop();
    return;
  }
  const FiberId writer = rt.spawn("writer", [&] { writer_loop(rt, client, sm, setup, id); });
  while (!client.failed() && rt.sleep(std::chrono::milliseconds(200)).ok()) {
    if (sm.wants_snapshot() && sm.end_offset() <= client.high_watermark()) {
      if (client.snapshot(sm.end_offset(), sm.epoch(), sm.image()).ok()) sm.snapshotted();
    }
  }
  // The client failed (a disk error): stop everything before the locals go.
  rt.cancel(writer);
  (void)rt.join(writer, Deadline::never());
  if (voter) server.stop();
  client.stop();
}

// The random nemesis. Its decisions go through two fault scripts (fault_script.h), so a run can
// be recorded and replayed: one for its timer ticks, one for its reactions to new leaders.
class RaftNemesis {
 public:
  enum Kind { crash, crash_leader, pause, isolate, split, one_way, clog, swizzle_clog, reset, kinds };

  RaftNemesis(Simulator& sim, RaftChecker& checker, std::map<int32_t, NodeId> nodes, bool random_faults,
              const std::vector<FaultEvent>* replay)
      : sim_(sim),
        checker_(checker),
        nodes_(std::move(nodes)),
        script_(replay != nullptr ? FaultScript(*replay) : FaultScript()),
        leader_script_(replay != nullptr ? FaultScript(*replay, FaultScript::kStreamTicks) : FaultScript(FaultScript::kStreamTicks)),
        mix_(sim, {"crash", "crash-leader", "pause", "isolate", "split-halves", "one-way", "clog", "swizzle-clog", "connection-reset"}),
        kill_new_leaders_(sim.chance(1, 3) && random_faults) {}

  // The draws are the same whether recording or replaying; replaying only swaps in the file's
  // values, or skips a tick the file has no event for.
  void tick() {
    const bool act = script_.begin_tick(sim_.now());
    const int drawn_kind = mix_.pick();
    const int32_t drawn_a = pick();
    const int32_t drawn_b = pick();
    if (act) apply(drawn_kind, drawn_a, drawn_b);
    script_.end_tick();
  }

  void supervise() {
    for (const auto& [id, n] : nodes_) {
      if ((!sim_.up(n) || sim_.node(n).main_finished) && sim_.chance(1, 3)) sim_.restart(n);
    }
  }

  void crash_node(int32_t id) {
    const NodeId n = nodes_.at(id);
    if (!sim_.up(n)) return;
    const std::optional<std::pair<int32_t, int32_t>> leader = checker_.current_leader();
    if (leader && leader->first == id && !failover_from_) failover_from_ = {sim_.now(), leader->second};
    checker_.on_crash(id);
    sim_.crash(n);
  }

  // Called after every step: a new leader after a leader's crash ends a failover measurement;
  // with kill-new-leaders on, a leader is sometimes crashed soon after it is elected (leaders
  // that die before their first entry commits are where Raft's subtle rules matter).
  void measure() {
    if (kill_new_leaders_ && !stopped_) {
      const std::optional<std::pair<int32_t, int32_t>> leader = checker_.current_leader();
      if (leader && leader->second > last_leader_epoch_) {
        last_leader_epoch_ = leader->second;
        react_to_leader(leader->first);
      }
    }
    if (!failover_from_) return;
    const std::optional<std::pair<int32_t, int32_t>> leader = checker_.current_leader();
    if (leader && leader->second > failover_from_->second) {
      failover_ms_.push_back(to_ms(sim_.now() - failover_from_->first));
      failover_from_.reset();
    }
  }

  void heal_all() {
    stopped_ = true;
    sim_.network().heal_all();
    for (const auto& [id, n] : nodes_) {
      sim_.resume(n);
      if (!sim_.up(n) || sim_.node(n).main_finished) sim_.restart(n);
    }
  }

  std::vector<std::string> summary() const {
    if (script_.replaying()) {
      std::vector<std::string> out = script_.applied();
      for (std::string& s : leader_script_.applied()) out.push_back(std::move(s));
      return out;
    }
    std::vector<std::string> out = mix_.summary();
    if (kill_new_leaders_) out.push_back(fmt::format("kill-new-leaders x{}", new_leaders_killed_));
    return out;
  }
  // Both scripts' events, in the order they happened.
  std::vector<std::string> schedule() const {
    std::vector<FaultEvent> all = script_.recorded();
    all.insert(all.end(), leader_script_.recorded().begin(), leader_script_.recorded().end());
    return schedule_lines(std::move(all));
  }
  const std::vector<int64_t>& failover_ms() const { return failover_ms_; }

 private:
  void apply(int drawn_kind, int32_t drawn_a, int32_t drawn_b) {
    const int kind = mix_.index_of(script_.kind(mix_.name(drawn_kind)));
    if (kind < 0) return script_.cancel_tick();  // a file naming no such kind
    auto node_id = [this](const char* name, int32_t drawn) {
      return static_cast<int32_t>(script_.value(name, drawn, [this](int64_t id) { return nodes_.count(static_cast<int32_t>(id)) != 0; }));
    };
    auto node = [&](const char* name, int32_t drawn) { return nodes_.at(node_id(name, drawn)); };
    SimNetwork& net = sim_.network();
    switch (static_cast<Kind>(kind)) {
      case crash: crash_node(node_id("node", drawn_a)); break;
      case crash_leader:
        if (const std::optional<std::pair<int32_t, int32_t>> leader = checker_.current_leader()) crash_node(leader->first);
        break;
      case swizzle_clog: swizzle(); break;
      case pause: {
        const NodeId a = node("node", drawn_a);
        sim_.pause(a);
        sim_.schedule_after(script_.duration("for_ns", sim_.random_duration(200ms, 4s)), [this, a] { sim_.resume(a); });
        break;
      }
      case isolate: cut_off(node("node", drawn_a), script_); break;
      case split: split_halves(); break;
      case one_way: {
        const NodeId a = node("node", drawn_a), b = node("other", drawn_b);
        if (a != b) net.block(a, b);
        heal_later(script_);
        break;
      }
      case clog: {
        const NodeId a = node("node", drawn_a), b = node("other", drawn_b);
        if (a != b) net.clog(a, b, script_.duration("for_ns", sim_.random_duration(100ms, 3s)));
        break;
      }
      case reset: {
        const NodeId a = node("node", drawn_a), b = node("other", drawn_b);
        if (a != b) net.reset_between(a, b);
        break;
      }
      case kinds: break;
    }
  }
  // FoundationDB's swizzle: clog a random subset of nodes' paths, each for its own time.
  void swizzle() {
    const uint64_t mask = static_cast<uint64_t>(script_.value("nodes", static_cast<int64_t>(draw_mask())));
    size_t i = 0;
    for (const auto& [id, n] : nodes_) {
      if ((mask >> i++ & 1) == 0) continue;
      for (const auto& [other_id, m] : nodes_) {
        if (m == n) continue;
        const std::string name = fmt::format("clog_{}_{}_ns", id, other_id);
        sim_.network().clog(n, m, script_.duration(name.c_str(), sim_.random_duration(200ms, 3s)));
      }
    }
  }
  void split_halves() {
    const uint64_t mask = static_cast<uint64_t>(script_.value("side", static_cast<int64_t>(draw_mask())));
    std::vector<NodeId> side, other;
    size_t i = 0;
    for (const auto& [id, n] : nodes_) ((mask >> i++ & 1) != 0 ? side : other).push_back(n);
    for (NodeId x : side) {
      for (NodeId y : other) sim_.network().partition(x, y);
    }
    heal_later(script_);
  }
  // One bit per node, in node order: each set with probability 1/2.
  uint64_t draw_mask() {
    uint64_t mask = 0;
    for (size_t i = 0; i < nodes_.size(); ++i) mask |= sim_.chance(1, 2) ? uint64_t{1} << i : 0;
    return mask;
  }
  // A new leader: half the time, soon after (often within its first round trips, before its
  // LeaderChange record has spread) it is crashed, or cut off for a while (it comes back with a
  // log whose last epoch is high). Replaying, the file's events decide.
  void react_to_leader(int32_t id) {
    const bool act = leader_script_.begin_tick(sim_.now());
    const bool drawn = sim_.chance(1, 2);
    if (act && (leader_script_.replaying() || drawn)) {
      ++new_leaders_killed_;
      const bool crash_it = leader_script_.kind(sim_.chance(1, 2) ? "cut-off-new-leader" : "crash-new-leader") == "crash-new-leader";
      const Duration delay = leader_script_.duration(
          "delay_ns", sim_.chance(1, 2) ? sim_.random_duration(0ms, 10ms) : sim_.random_duration(0ms, 200ms));
      const Duration heal = crash_it ? Duration{0} : leader_script_.duration("heal_after_ns", sim_.random_duration(500ms, 5s));
      sim_.schedule_after(delay, [this, id, crash_it, heal] {
        if (stopped_) return;
        if (crash_it) return crash_node(id);
        for (const auto& [other, n] : nodes_) {
          if (other != id) sim_.network().partition(nodes_.at(id), n);
        }
        sim_.schedule_after(heal, [this] { sim_.network().heal_all(); });
      });
    }
    leader_script_.end_tick();
  }
  void cut_off(NodeId a, FaultScript& script) {
    for (const auto& [id, n] : nodes_) {
      if (n != a) sim_.network().partition(a, n);
    }
    heal_later(script);
  }
  void heal_later(FaultScript& script) {
    sim_.schedule_after(script.duration("heal_after_ns", sim_.random_duration(500ms, 5s)), [this] { sim_.network().heal_all(); });
  }
  int32_t pick() {
    auto it = nodes_.begin();
    std::advance(it, static_cast<long>(bounded(sim_.random_u64(), nodes_.size())));
    return it->first;
  }

  Simulator& sim_;
  RaftChecker& checker_;
  std::map<int32_t, NodeId> nodes_;
  FaultScript script_;
  FaultScript leader_script_;
  FaultMix mix_;
  bool kill_new_leaders_;
  bool stopped_ = false;
  int32_t last_leader_epoch_ = 0;
  uint64_t new_leaders_killed_ = 0;
  std::optional<std::pair<Instant, int32_t>> failover_from_;
  std::vector<int64_t> failover_ms_;
};

// The figure-8 schedule (see raft_scenario.h), driven after every step by what the checker saw.
class Figure8Schedule {
 public:
  Figure8Schedule(Simulator& sim, RaftChecker& checker, std::map<int32_t, NodeId> nodes)
      : sim_(sim), checker_(checker), nodes_(std::move(nodes)) {}

  void after_step() {
    switch (phase_) {
      case 0: {  // a leader with some committed data: cut it off while its writer appends
        const auto leader = checker_.current_leader();
        if (!leader || checker_.committed_batches() < 5) return;
        a_ = leader->first;
        a_end_ = checker_.view(a_).log_end;
        isolate(a_);
        phase_ = 1;
        return;
      }
      case 1: {  // A has appended more; the next leader B is cut off at once
        const auto leader = checker_.current_leader();
        if (checker_.view(a_).log_end < a_end_ + 20 || !leader || leader->first == a_) return;
        b_ = leader->first;
        isolate(b_);
        sim_.network().heal(nodes_.at(a_), nodes_.at(third()));
        commits_ = checker_.committed_batches();
        phase_ = 2;
        return;
      }
      case 2: {  // A leads again; crash it as soon as anything more commits
        const NodeView_ a = checker_.view(a_);
        if (a.role != raft::RaftRole::leader || checker_.committed_batches() == commits_) return;
        sim_.crash(nodes_.at(a_));
        checker_.on_crash(a_);
        sim_.network().heal_all();
        phase_ = 3;
        return;
      }
      default: return;
    }
  }
  std::vector<std::string> summary() const { return {fmt::format("figure-8 schedule reached phase {} of 3", phase_)}; }

 private:
  using NodeView_ = RaftChecker::NodeView;
  void isolate(int32_t id) {
    for (const auto& [other, n] : nodes_) {
      if (other != id) sim_.network().partition(nodes_.at(id), n);
    }
  }
  int32_t third() const {
    for (const auto& [id, n] : nodes_) {
      if (id != a_ && id != b_ && id != kObserverId) return id;
    }
    return a_;
  }

  Simulator& sim_;
  RaftChecker& checker_;
  std::map<int32_t, NodeId> nodes_;
  int phase_ = 0;
  int32_t a_ = -1, b_ = -1;
  int64_t a_end_ = 0;
  uint64_t commits_ = 0;
};

// Runs until `until`, giving the nemesis a look after every step.
void run_measured(Simulator& sim, RaftNemesis& nemesis, Figure8Schedule* script, Instant until) {
  while (sim.now() < until && sim.step()) {
    nemesis.measure();
    if (script != nullptr) script->after_step();
  }
  if (sim.now() < until) sim.run_until(until);
}

Setup make_setup(Simulator& sim, const RaftScenarioOptions& options, RaftChecker& checker) {
  Setup setup;
  setup.checker = &checker;
  const bool figure8 = options.schedule == RaftScenarioOptions::Schedule::figure8;
  const int voters = figure8 ? 3 : options.voters > 0 ? options.voters : (sim.chance(1, 2) ? 3 : 5);
  for (int32_t id = 1; id <= voters; ++id) setup.base.voters[id] = Address{raft_host(id), kPort};
  setup.base.bugs = options.bugs;
  setup.base.log.segment_bytes = 4096;  // snapshots then delete whole segments
  // Small fetches (about one batch each) make catching up take many round trips.
  static constexpr uint32_t kFetchBytesChoices[] = {1024 * 1024, 300, 1};
  setup.base.fetch_max_bytes = figure8 ? 1 : kFetchBytesChoices[bounded(sim.random_u64(), 3)];
  setup.base.snapshot_chunk_bytes = 24;  // several FetchSnapshot rounds per snapshot
  setup.batch_records = options.writer_batch_records;
  setup.pause_ms = options.writer_pause_ms;
  return setup;
}

// Faults stop: heal, resume, restart everything; then a leader and a new commit are due.
RaftVerdict check_liveness(Simulator& sim, RaftNemesis& nemesis, RaftChecker& checker, const std::map<int32_t, NodeId>& nodes,
                           const RaftScenarioOptions& options) {
  nemesis.heal_all();
  for (const auto& [id, n] : nodes) sim.node(n).disk->clear_faults();
  const Instant healed = sim.now();
  const uint64_t batches_at_heal = checker.committed_batches();
  std::optional<Instant> leader_at, commit_at;
  const Duration bound = std::min(options.liveness_bound, options.quiet_time);
  const Instant quiet_end = healed + options.quiet_time;
  while (sim.now() < quiet_end && sim.step()) {
    nemesis.measure();
    if (!leader_at && checker.current_leader()) leader_at = sim.now();
    if (!commit_at && checker.committed_batches() > batches_at_heal) commit_at = sim.now();
  }
  if (sim.now() < quiet_end) sim.run_until(quiet_end);
  RaftVerdict live;
  live.name = "liveness";
  live.examined = 1;
  const bool elected = leader_at && *leader_at - healed <= bound;
  const bool committed = commit_at && *commit_at - healed <= bound;
  live.status = elected && committed ? RaftVerdict::Status::pass : RaftVerdict::Status::fail;
  live.detail = fmt::format("after healing: leader {}, new record committed {} (bound {} ms)",
                            leader_at ? fmt::format("in {} ms", to_ms(*leader_at - healed)) : "never",
                            commit_at ? fmt::format("in {} ms", to_ms(*commit_at - healed)) : "never", to_ms(bound));
  return live;
}

}  // namespace

bool RaftScenarioResult::ok() const {
  for (const RaftVerdict& v : verdicts) {
    if (v.status == RaftVerdict::Status::fail) return false;
  }
  return !verdicts.empty();
}

RaftScenarioResult run_raft_scenario(const RaftScenarioOptions& options) {
  Simulator sim(SimOptions{options.seed, options.log_level, true, {}, options.trace_sink});
  RaftChecker checker;
  const bool figure8 = options.schedule == RaftScenarioOptions::Schedule::figure8;
  const Setup setup = make_setup(sim, options, checker);
  const int voters = static_cast<int>(setup.base.voters.size());
  std::map<int32_t, NodeId> nodes;
  for (int32_t id = 1; id <= voters; ++id) {
    nodes[id] = sim.add_node(raft_host(id), [&setup, id](Runtime& rt) { node_main(rt, setup, id); });
  }
  nodes[kObserverId] = sim.add_node(raft_host(kObserverId), [&setup](Runtime& rt) { node_main(rt, setup, kObserverId); });
  for (const auto& [id, n] : nodes) sim.start(n);

  RaftNemesis nemesis(sim, checker, nodes, options.faults && options.schedule == RaftScenarioOptions::Schedule::random,
                      options.replay_events);
  const Instant stop_at = sim.now() + (options.faults ? options.fault_time : Duration{0});
  // Outlive every event that refers to them (the events copy, these are referenced).
  std::function<void()> tick = [&] {
    if (sim.now() >= stop_at) return;
    nemesis.tick();
    sim.schedule_after(sim.random_duration(300ms, 3s), tick);
  };
  std::function<void()> supervise = [&] {
    if (sim.now() >= stop_at) return;
    nemesis.supervise();
    sim.schedule_after(sim.random_duration(300ms, 2s), supervise);
  };
  Figure8Schedule script(sim, checker, nodes);
  const bool failover = options.schedule == RaftScenarioOptions::Schedule::failover;
  std::function<void()> crash_leader = [&] {
    if (sim.now() >= stop_at) return;
    if (const std::optional<std::pair<int32_t, int32_t>> leader = checker.current_leader()) {
      const int32_t id = leader->first;
      nemesis.crash_node(id);
      sim.schedule_after(2s, [&sim, &nodes, id] { sim.start(nodes.at(id)); });
    }
    sim.schedule_after(8s, crash_leader);
  };
  if (failover) sim.schedule_after(8s, crash_leader);
  if (options.faults && !figure8 && !failover) {
    sim.schedule_after(sim.random_duration(1s, 3s), tick);
    sim.schedule_after(1s, supervise);
  }
  run_measured(sim, nemesis, figure8 ? &script : nullptr, stop_at);

  RaftScenarioResult result;
  const RaftVerdict live = check_liveness(sim, nemesis, checker, nodes, options);
  if (std::optional<std::pair<int32_t, int32_t>> leader = checker.current_leader()) checker.check_final_leader(leader->first);
  result.verdicts = checker.verdicts();
  result.verdicts.push_back(live);
  result.seed = options.seed;
  result.trace_hash = sim.trace_hash();
  result.end_time = sim.now();
  result.steps = sim.steps();
  result.voters = voters;
  result.faults = figure8 ? script.summary() : failover ? std::vector<std::string>{"leader crashed every 8 s"} : nemesis.summary();
  result.schedule = nemesis.schedule();
  result.failover_ms = nemesis.failover_ms();
  result.committed_batches = checker.committed_batches();
  for (const auto& [offset, e] : checker.committed()) result.committed_records += e.control ? 0 : static_cast<uint64_t>(e.last_offset - offset + 1);
  result.committed_records_per_s = static_cast<double>(result.committed_records) / (static_cast<double>(sim.now().ns) / 1e9);
  result.max_epoch = checker.max_epoch();
  result.notes.push_back(fmt::format("{} voters + 1 observer; fetch max bytes {}; {} state changes checked; highest epoch {}", voters,
                                     setup.base.fetch_max_bytes, checker.changes(), checker.max_epoch()));
  for (const auto& [site, stats] : sim.buggify_sites()) result.buggify[site] = {stats.enabled, stats.fired};
  result.notes.push_back("buggify: " + std::to_string(sim.buggify_sites_enabled()) + " sites enabled by this seed, fired " +
                         std::to_string(sim.buggify_fired()) + " times");
  return result;
}

void print_raft_result(const RaftScenarioResult& r) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(r.seed));
  std::printf("  simulated time: %.3f s, steps: %llu, committed: %llu batches, %llu records (%.0f records/s simulated)\n",
              static_cast<double>(r.end_time.ns) / 1e9, static_cast<unsigned long long>(r.steps),
              static_cast<unsigned long long>(r.committed_batches), static_cast<unsigned long long>(r.committed_records),
              r.committed_records_per_s);
  std::string faults;
  for (const auto& f : r.faults) faults += (faults.empty() ? "" : ", ") + f;
  std::printf("  faults: %s\n", faults.empty() ? "none" : faults.c_str());
  static constexpr const char* kStatus[] = {"ok  ", "FAIL", "none"};
  for (const RaftVerdict& v : r.verdicts) {
    std::printf("  property %-22s %s  %s\n", v.name.c_str(), kStatus[static_cast<int>(v.status)], v.detail.c_str());
  }
  std::string failovers;
  for (int64_t ms : r.failover_ms) failovers += (failovers.empty() ? "" : ",") + std::to_string(ms);
  std::printf("  failover ms (leader crash -> new leader): %s\n", failovers.empty() ? "-" : failovers.c_str());
  for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
  std::printf("  trace hash: %016llx\n", static_cast<unsigned long long>(r.trace_hash));
  std::printf("  verdict: %s\n", r.ok() ? "PASS" : "FAIL");
}

}  // namespace samsa::sim
