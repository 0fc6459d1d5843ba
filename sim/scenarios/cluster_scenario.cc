#include "sim/scenarios/cluster_scenario.h"

#include <fmt/format.h>

#include <optional>
#include <set>

#include "client/admin.h"
#include "server/node.h"
#include "sim/checkers/controller_checker.h"
#include "sim/scenarios/cluster_data.h"
#include "sim/scenarios/cluster_nodes.h"
#include "sim/scenarios/nemesis.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/world/sim_disk.h"
#include "sim/world/sim_network.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

namespace {

constexpr uint16_t kBrokerPort = kClusterBrokerPort;
constexpr uint16_t kControllerPort = kClusterControllerPort;
constexpr uint64_t kSnapshotBytes = 512;   // small: snapshots and log truncation happen often

std::string host_of(int32_t id) { return cluster_host(id); }

using Registry = ClusterRegistry;

// The admin client's history.
struct AdminHistory {
  std::set<std::string> acked_creates, delete_attempted, acked_deletes;
  std::optional<Instant> first_create_after;  // after `since`
  Instant since = Instant::max();
  uint64_t attempts = 0;
};

void admin_main(Runtime& rt, AdminHistory& h, int32_t brokers) {
  for (uint64_t k = 0;; ++k) {
    if (!rt.sleep(std::chrono::milliseconds(in_range(rt.random_u64(), 200, 800))).ok()) return;
    const int32_t via = static_cast<int32_t>(in_range(rt.random_u64(), 1, static_cast<uint64_t>(brokers)));
    client::ClientConfig cc = scenario_client(Address{host_of(via), kBrokerPort}, "admin");
    cc.request_timeout = std::chrono::seconds(10);  // a forwarded creation waits for the quorum's commit
    client::Cluster cluster(rt, cc);
    client::Admin admin(cluster);
    ++h.attempts;
    const bool remove = chance(rt.random_u64(), 1, 4) && h.acked_creates.size() > h.delete_attempted.size();
    if (remove) {
      std::string victim;
      for (const std::string& t : h.acked_creates) {
        if (!h.delete_attempted.count(t)) victim = t;
      }
      h.delete_attempted.insert(victim);
      Result<client::AdminResult> r = admin.delete_topic(victim);
      if (r.ok() && r->error == kafka::Error::none) h.acked_deletes.insert(victim);
      continue;
    }
    const std::string name = fmt::format("t{}", k);
    const int32_t partitions = static_cast<int32_t>(in_range(rt.random_u64(), 1, 3));
    const int16_t rf = static_cast<int16_t>(in_range(rt.random_u64(), 1, 3));
    Result<client::AdminResult> r = admin.create_topic(name, partitions, rf, {});
    if (r.ok() && r->error == kafka::Error::none) {
      h.acked_creates.insert(name);
      if (rt.now() >= h.since && !h.first_create_after) h.first_create_after = rt.now();
    }
  }
}

class ClusterNemesis {
 public:
  ClusterNemesis(Simulator& sim, std::map<int32_t, NodeId> nodes, std::vector<NodeId> clients,
                 std::function<void(int32_t)> before_power_loss, const std::vector<FaultEvent>* replay)
      : sim_(sim), nodes_(std::move(nodes)), clients_(std::move(clients)), before_power_loss_(std::move(before_power_loss)),
        script_(replay != nullptr ? FaultScript(*replay) : FaultScript()),
        mix_(sim, {"power-loss", "process-crash", "crash-controller", "pause", "isolate", "one-way", "clog",
                   "connection-reset", "client-partition", "power-loss-all", "restart-follower-crash-leader",
                   "disk-eio", "disk-full", "slow-disk"}) {
    for (const auto& [id, n] : nodes_) disk_config_[n] = sim_.node(n).disk->config();
  }

  // The nemesis' draws are the same whether it records or replays (fault_script.h): replaying
  // only replaces the values drawn with the file's, or skips a tick the file has no event for.
  void tick(const Registry& registry) {
    const bool act = script_.begin_tick(sim_.now());
    const int32_t drawn_a = pick().first;
    const int32_t drawn_b = pick().first;
    const int drawn_kind = mix_.pick();
    if (act) apply(registry, drawn_kind, drawn_a, drawn_b);
    script_.end_tick();
  }
  void apply(const Registry& registry, int drawn_kind, int32_t drawn_a, int32_t drawn_b) {
    const int kind = mix_.index_of(script_.kind(mix_.name(drawn_kind)));
    const int32_t ida = static_cast<int32_t>(script_.value("node", drawn_a));
    if (kind < 0 || !nodes_.count(ida)) return script_.cancel_tick();  // a file naming no such kind or node
    const NodeId a = nodes_.at(ida);
    auto other = [&] {
      return nodes_.at(static_cast<int32_t>(script_.value("other", drawn_b, [this](int64_t id) {
        return nodes_.count(static_cast<int32_t>(id)) != 0;
      })));
    };
    SimNetwork& net = sim_.network();
    switch (kind) {
      case 0: power_loss(ida, a); break;
      case 1: sim_.crash(a, CrashKind::process); break;
      case 2:
        for (const auto& [id, node] : registry.live) {
          if (node->quorum_controller() != nullptr && node->quorum_controller()->active()) {
            power_loss(id, nodes_.at(id));
            break;
          }
        }
        break;
      case 3:
        sim_.pause(a);
        sim_.schedule_after(duration("for_ns", sim_.random_duration(200ms, 4s)), [this, a] { sim_.resume(a); });
        break;
      case 4:
        for (const auto& [id, n] : nodes_) {
          if (n != a) net.partition(a, n);
        }
        heal_later();
        break;
      case 5:
        if (const NodeId b = other(); a != b) net.block(a, b);
        heal_later();
        break;
      case 6:
        if (const NodeId b = other(); a != b) net.clog(a, b, duration("for_ns", sim_.random_duration(100ms, 3s)));
        break;
      case 7:
        if (const NodeId b = other(); a != b) net.reset_between(a, b);
        break;
      case 8:
        if (!clients_.empty()) {
          const size_t n = clients_.size();
          const int64_t c = script_.value("client", static_cast<int64_t>(bounded(sim_.random_u64(), n)),
                                          [n](int64_t v) { return v >= 0 && static_cast<size_t>(v) < n; });
          net.partition(clients_[static_cast<size_t>(c)], a);
        }
        heal_later();
        break;
      case 9:  // every broker loses power at once: outside Kafka's envelope, reported apart
        for (const auto& [id, n] : nodes_) power_loss(id, n);
        break;
      case 10: restart_follower_crash_leader(registry); break;
      default: disk_fault(a, mix_.name(kind)); break;
    }
  }
  // A node that is down (crashed) starts again; one whose process ended (it halted on a disk
  // error, or could not start) is restarted as a process: the machine keeps what was written.
  void supervise() {
    for (const auto& [id, n] : nodes_) {
      if ((!sim_.up(n) || sim_.node(n).main_finished) && sim_.chance(1, 3)) sim_.restart(n, CrashKind::process);
    }
  }
  void heal_all() {
    healed_ = true;
    sim_.network().heal_all();
    for (const auto& [id, n] : nodes_) restore(n);
    for (const auto& [id, n] : nodes_) {
      sim_.resume(n);
      if (!sim_.up(n) || sim_.node(n).main_finished) sim_.restart(n, CrashKind::process);
    }
  }
  // After the heal too (systemd, not a fault): a node that halted on a disk error just before
  // the disks healed, whose main noticed only afterwards, comes back.
  void restart_halted() {
    for (const auto& [id, n] : nodes_) {
      if (sim_.up(n) && sim_.node(n).main_finished) sim_.restart(n, CrashKind::process);
    }
  }
  // What it did: while recording, the mix (kinds enabled and how often drawn); replaying, the
  // kinds the file's events applied.
  std::vector<std::string> summary() const { return script_.replaying() ? script_.applied() : mix_.summary(); }
  std::vector<std::string> schedule() const { return script_.lines(); }

 private:
  std::pair<int32_t, NodeId> pick() {
    auto it = nodes_.begin();
    std::advance(it, static_cast<long>(bounded(sim_.random_u64(), nodes_.size())));
    return *it;
  }
  // A rolling restart gone wrong (KIP-101's scenario): a follower of a data partition restarts
  // (kill -9) and, before it has caught up, its leader is killed too.
  void restart_follower_crash_leader(const Registry& registry) {
    if (registry.live.empty()) return script_.cancel_tick();
    const controller::TopicImage* t = registry.live.begin()->second->metadata()->image().topic(ClusterData::kAcksAllTopic);
    if (t == nullptr || t->partitions.empty()) return script_.cancel_tick();
    // Copies: restarting a follower destroys its broker, whose metadata image `t` may belong to.
    const size_t n = t->partitions.size();
    const int64_t i = script_.value("partition", static_cast<int64_t>(bounded(sim_.random_u64(), n)),
                                    [n](int64_t v) { return v >= 0 && static_cast<size_t>(v) < n; });
    const controller::PartitionState p = t->partitions[static_cast<size_t>(i)];
    if (p.leader < 0 || !nodes_.count(p.leader)) return;  // no leader to kill: recorded as a tick that did nothing
    const NodeId leader = nodes_.at(p.leader);
    for (int32_t f : p.replicas) {
      if (f == p.leader || !nodes_.count(f)) continue;
      sim_.restart(nodes_.at(f), CrashKind::process);
      sim_.schedule_after(duration("delay_ns", sim_.random_duration(100ms, 3s)), [this, leader] {
        if (!healed_) sim_.crash(leader, CrashKind::process);  // no fault after the heal
      });
      return;
    }
  }
  // A window of EIO (a failed fsync drops what was unsynced in that file, and the broker halts as
  // Kafka's does), of a full disk, or of a slow one, on one node; undone after it.
  void disk_fault(NodeId n, std::string_view kind) {
    const DiskValueFn chosen = [this](const char* name, int64_t drawn) { return script_.value(name, drawn); };
    start_disk_window(sim_, *sim_.node(n).disk, *fault_by_name(kind), 100'000, chosen);
    sim_.schedule_after(duration("for_ns", sim_.random_duration(500ms, 5s)), [this, n] { restore(n); });
  }
  void restore(NodeId n) { restore_disk(*sim_.node(n).disk, disk_config_.at(n)); }
  void power_loss(int32_t id, NodeId n) {
    if (!sim_.up(n)) return;
    before_power_loss_(id);
    sim_.crash(n, CrashKind::machine);
  }
  void heal_later() {
    sim_.schedule_after(duration("heal_after_ns", sim_.random_duration(500ms, 5s)), [this] { sim_.network().heal_all(); });
  }
  Duration duration(const char* name, Duration drawn) { return script_.duration(name, drawn); }

  Simulator& sim_;
  std::map<int32_t, NodeId> nodes_;
  std::vector<NodeId> clients_;
  std::function<void(int32_t)> before_power_loss_;
  FaultScript script_;
  FaultMix mix_;
  std::map<NodeId, DiskConfig> disk_config_;  // as the nodes started, to undo full and slow disks
  bool healed_ = false;
};

// Shows the checker every node whose applied metadata offset moved.
class Observer {
 public:
  Observer(Simulator& sim, const std::map<int32_t, NodeId>& nodes, const Registry& registry, ControllerChecker& checker)
      : sim_(sim), nodes_(nodes), registry_(registry), checker_(checker) {}
  // (`nodes`: every node of the cluster, brokers and controller-only nodes.)
  // Only a node's own fibers move its metadata: after any other step there is nothing to see.
  void after_step() {
    const NodeId ran = sim_.last_fiber_node();
    if (ran.value < 0) return;
    for (const auto& [id, node] : registry_.live) {
      if (nodes_.at(id) != ran) continue;
      const server::MetadataPublisher* m = node->metadata();
      if (m == nullptr) continue;
      const uint64_t incarnation = sim_.node(nodes_.at(id)).incarnation;
      const std::pair<uint64_t, int64_t> now{incarnation, m->applied_end()};
      auto it = seen_.find(id);
      if (it != seen_.end() && it->second == now) continue;
      if (it == seen_.end() || it->second.first != incarnation) incarnations_seen_.insert({id, incarnation});
      seen_[id] = now;
      snapshots_written_[{id, incarnation}] = m->snapshots_written();
      snapshots_loaded_[{id, incarnation}] = m->snapshots_loaded();
      if (m->refused_records() > refused_[{id, incarnation}]) {
        checker_.refused(id, m->refused_records() - refused_[{id, incarnation}]);
        refused_[{id, incarnation}] = m->refused_records();
      }
      checker_.observe(id, incarnation, m->applied_end(), m->image());
    }
  }
  std::string snapshot_note() const {
    uint64_t written = 0, loaded = 0;
    for (const auto& [k, n] : snapshots_written_) written += n;
    for (const auto& [k, n] : snapshots_loaded_) loaded += n;
    return fmt::format("metadata snapshots: {} written, {} loaded at restarts; {} node incarnations", written, loaded,
                       incarnations_seen_.size());
  }
  // Every node is up, and the most advanced image has each broker unfenced under the registration
  // (broker epoch) its running incarnation holds: not an old incarnation's that did not expire.
  bool all_unfenced() const {
    const controller::MetadataImage* image = most_applied();
    if (image == nullptr || registry_.live.size() < nodes_.size()) return false;
    for (const auto& [id, node] : registry_.live) {
      if (node->broker() == nullptr) continue;  // a controller-only node registers nothing
      const controller::BrokerRegistration* b = image->broker(id);
      const server::BrokerLifecycle* lifecycle = node->lifecycle();
      if (b == nullptr || b->fenced || lifecycle == nullptr || b->epoch.value != lifecycle->broker_epoch()) return false;
    }
    return true;
  }
  // The image of the live node that applied the most.
  const controller::MetadataImage* most_applied() const { return most_applied_image(registry_); }

 private:
  Simulator& sim_;
  const std::map<int32_t, NodeId>& nodes_;
  const Registry& registry_;
  ControllerChecker& checker_;
  std::map<int32_t, std::pair<uint64_t, int64_t>> seen_;
  std::set<std::pair<int32_t, uint64_t>> incarnations_seen_;
  std::map<std::pair<int32_t, uint64_t>, uint64_t> snapshots_written_, snapshots_loaded_, refused_;
};

CheckResult check_acknowledged(const AdminHistory& h, const controller::MetadataImage* image) {
  CheckResult c("acknowledged-topics");
  c.unit = "acks";
  if (image == nullptr) {
    c.fail("no node was up at the end to ask");
    return c;
  }
  for (const std::string& t : h.acked_creates) {
    if (h.delete_attempted.count(t)) continue;
    ++c.examined;
    if (image->topic(t) == nullptr) c.fail("topic " + t + " was created (acknowledged) and is gone");
  }
  for (const std::string& t : h.acked_deletes) {
    ++c.examined;
    if (image->topic(t) != nullptr) c.fail("topic " + t + " was deleted (acknowledged) and is back");
  }
  return c;
}

}  // namespace

std::string cluster_host(int32_t id) { return fmt::format("node{}", id); }

std::vector<int32_t> ClusterTopology::voters() const {
  std::vector<int32_t> out;
  for (int32_t k = 0; k < kVoters; ++k) out.push_back(first_voter() + k);
  return out;
}

std::vector<int32_t> ClusterTopology::node_ids() const {
  std::vector<int32_t> out;
  for (int32_t id = 1; id <= brokers; ++id) out.push_back(id);
  if (separate_controllers) {
    for (int32_t v : voters()) out.push_back(v);
  }
  return out;
}

std::string ClusterTopology::describe() const {
  return separate_controllers ? fmt::format("{} brokers + 3 controller-only nodes (the metadata quorum)", brokers)
                              : fmt::format("3 combined nodes (brokers and the metadata quorum) + {} broker-only node(s)", brokers - 3);
}

server::NodeConfig cluster_node_config(int32_t id, const ClusterTopology& topology, const controller::ControllerBugs& bugs) {
  SAMSA_ASSERT(topology.is_broker(id) || topology.is_voter(id));
  server::NodeConfig c;
  c.kraft = true;
  c.broker_role = topology.is_broker(id);
  c.controller_role = topology.is_voter(id);
  for (int32_t v : topology.voters()) c.voters[v] = Address{host_of(v), kControllerPort};
  c.controller_listener = Address{host_of(id), kControllerPort};
  c.metadata_log_dir = "/data";
  c.cluster_id = "sim-cluster";
  c.snapshot_bytes_min = kSnapshotBytes;
  c.controller_bugs = bugs;
  c.broker.node_id = id;
  c.broker.listener = Address{host_of(id), kBrokerPort};
  c.broker.log_dir = "/data";
  c.broker.auto_create_topics = false;
  c.controlled_shutdown_enable = !bugs.skip_controlled_shutdown;
  return c;
}

namespace {
ClusterTopology draw_topology(Simulator& sim) {
  ClusterTopology t;
  t.brokers = static_cast<int32_t>(sim.in_range(ClusterTopology::kBrokersMin, ClusterTopology::kBrokersMax));
  t.separate_controllers = sim.in_range(0, 1) == 1;
  return t;
}
}  // namespace

namespace {
// Tells a watch what each simulator node is (its host name, and its node.id if a broker).
void name_nodes(const Simulator& sim, const std::map<int32_t, NodeId>& brokers, const RunWatch* watch) {
  if (watch == nullptr || !watch->node) return;
  for (const auto& [n, node] : sim.nodes()) {
    int32_t broker = -1;
    for (const auto& [id, b] : brokers) broker = b == n ? id : broker;
    watch->node(n.value, node.host, broker);
  }
}
}  // namespace

RunResult run_cluster_scenario(const ClusterScenarioOptions& options) {
  // Declared before the simulator: its destruction unwinds the nodes, which still use them.
  Registry registry;
  std::map<int32_t, server::NodeConfig> configs;
  AdminHistory history;
  std::optional<ClusterData> data;  // the nodes' halts report to it (registry.on_unclean_halt)
  SimOptions so{options.seed, options.log_level, true, options.node_bugs, options.trace_sink};
  Simulator sim(so);
  const bool scripted = options.schedule != ClusterSchedule::random;
  registry.sigterm_armed = options.schedule == ClusterSchedule::controlled_shutdown;
  registry.on_unclean_halt = [&data](int32_t id) {
    if (data) data->unclean_halt(id);
  };
  // A schedule's brokers hold only data: its kills never take the metadata quorum with them.
  const ClusterTopology topology = options.topology ? *options.topology
                                   : scripted        ? ClusterTopology{3, true}
                                                     : draw_topology(sim);
  std::map<int32_t, NodeId> nodes, brokers;
  for (int32_t id : topology.node_ids()) {
    configs[id] = cluster_node_config(id, topology, options.bugs);
    const server::NodeConfig& config = configs[id];
    nodes[id] = sim.add_node(host_of(id), [&config, &registry](Runtime& rt) { cluster_node_main(rt, config, registry); });
    if (topology.is_broker(id)) brokers[id] = nodes[id];
  }
  const NodeId admin = sim.add_node("admin", [&history, &topology](Runtime& rt) { admin_main(rt, history, topology.brokers); });
  std::vector<Address> bootstrap;
  for (const auto& [id, n] : brokers) bootstrap.push_back(Address{host_of(id), kBrokerPort});
  if (options.data_plane) {
    ClusterDataShape shape;
    if (scripted) shape = {.partitions = 1, .replication_factor = 2, .min_insync = 1, .unclean_acks1 = true};
    shape.send_rate = options.send_rate;
    data.emplace(sim, registry.live, brokers, bootstrap, shape);
    data->set_watch(options.watch);
    data->add_clients();
  }
  name_nodes(sim, brokers, options.watch);
  const std::vector<NodeId> clients = data ? data->clients() : std::vector<NodeId>{};
  for (const auto& [id, n] : nodes) sim.start(n);
  sim.start(admin);
  for (NodeId c : clients) sim.start(c);

  ControllerChecker checker;
  Observer observer(sim, nodes, registry, checker);
  ClusterNemesis nemesis(
      sim, nodes, clients,
      [&data](int32_t id) {
        if (data) data->before_power_loss(id);
      },
      options.replay_events);
  for (const auto& [id, n] : brokers) {
    sim.node(n).disk->on_failed_sync([&data, id = id](const std::string& path) {
      if (data) data->failed_sync(id, path);
    });
  }
  const Instant stop_at = sim.now() + (options.faults ? options.fault_time : Duration{0});
  std::function<void()> tick = [&] {
    if (sim.now() >= stop_at) return;
    nemesis.tick(registry);
    sim.schedule_after(sim.random_duration(500ms, 4s), tick);
  };
  std::function<void()> supervise = [&] {
    if (sim.now() >= stop_at) return;
    nemesis.supervise();
    sim.schedule_after(sim.random_duration(500ms, 3s), supervise);
  };
  std::unique_ptr<ScriptedSchedule> script;
  bool schedule_running = scripted && data;  // a schedule acts on the data plane's topic
  std::function<void()> play = [&] {
    schedule_running = script->tick(registry);
    if (schedule_running) sim.schedule_after(ScriptedSchedule::kTickInterval, play);
  };
  if (scripted && data) {
    script = make_schedule(options.schedule, sim,
                           ScheduleTargets{nodes, ClusterData::kAcksOneTopic, data->acks1_consumer(), clients, &registry});
    sim.schedule_after(ScriptedSchedule::kTickInterval, play);
  } else if (options.faults) {
    sim.schedule_after(sim.random_duration(2s, 5s), tick);
    sim.schedule_after(1s, supervise);
  }
  while ((sim.now() < stop_at || schedule_running) && sim.step()) {
    observer.after_step();
    if (data) data->after_step();
  }

  // Faults stop: heal, restart what is down; the cluster must come back within the bound.
  nemesis.heal_all();
  std::function<void()> systemd = [&] {
    nemesis.restart_halted();
    sim.schedule_after(1s, systemd);
  };
  sim.schedule_after(1s, systemd);
  const Instant healed = sim.now();
  history.since = healed;
  std::optional<Instant> unfenced_at;
  const Instant quiet_end = healed + options.quiet_time;
  if (data) data->healed(healed, healed + options.liveness_bound, quiet_end);
  while (sim.now() < quiet_end && sim.step()) {
    observer.after_step();
    if (data) data->after_step();
    // (What all_unfenced() reads only changes when a fiber ran.)
    if (!unfenced_at && sim.last_fiber_node().value >= 0 && observer.all_unfenced()) unfenced_at = sim.now();
  }
  if (sim.now() < quiet_end) sim.run_until(quiet_end);

  RunResult r;
  r.scenario = "cluster";
  r.checks = {checker.fenced_role(), checker.leader_in_isr(), checker.epoch_grows(), checker.agreement()};
  r.checks.push_back(check_acknowledged(history, observer.most_applied()));
  CheckResult live("cluster-liveness");
  live.unit = "recoveries";
  live.examined = 1;
  const Duration bound = options.liveness_bound;
  const bool unfenced = unfenced_at && *unfenced_at - healed <= bound;
  const bool created = history.first_create_after && *history.first_create_after - healed <= bound;
  if (!unfenced || !created) {
    live.fail(fmt::format("after healing: all brokers unfenced {}, a creation acknowledged {} (bound {} ms)",
                          unfenced_at ? fmt::format("in {} ms", to_ms(*unfenced_at - healed)) : "never",
                          history.first_create_after ? fmt::format("in {} ms", to_ms(*history.first_create_after - healed)) : "never",
                          to_ms(bound)));
  }
  r.checks.push_back(live);
  if (script) r.checks.push_back(script->played());
  if (registry.sigterm_armed) r.checks.push_back(check_controlled_shutdowns(registry));
  if (data) {
    for (CheckResult& c : data->finish(std::chrono::seconds(90))) r.checks.push_back(std::move(c));
    name_nodes(sim, brokers, options.watch);  // and the final readers
  }
  stamp_result(sim, options.seed, r);
  r.acked = data ? data->acked() : history.acked_creates.size() + history.acked_deletes.size();
  r.records = data ? data->records_read() : 0;
  r.faults = script ? script->steps() : options.faults ? nemesis.summary() : std::vector<std::string>{};
  if (!script) r.schedule = nemesis.schedule();
  r.settings = {topology.describe()};
  r.shape = {{"brokers", topology.brokers}, {"separate_controllers", topology.separate_controllers ? 1 : 0}};
  if (data) {
    for (const std::string& line : data->settings()) r.settings.push_back(line);
    for (const std::string& line : data->notes()) r.notes.push_back(line);
  }
  r.notes.push_back(fmt::format("admin: {} requests, {} creations and {} deletions acknowledged; {} images checked",
                                history.attempts, history.acked_creates.size(), history.acked_deletes.size(), checker.observations()));
  r.notes.push_back(observer.snapshot_note());
  r.notes.push_back(fmt::format("nodes halted on a disk error: {}", registry.disk_halts));
  if (unfenced_at) r.notes.push_back(fmt::format("all brokers unfenced {} ms after healing", to_ms(*unfenced_at - healed)));
  return r;
}

}  // namespace samsa::sim
