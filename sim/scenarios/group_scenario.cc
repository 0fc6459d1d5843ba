#include "sim/scenarios/group_scenario.h"

#include <fmt/format.h>

#include "broker/broker.h"
#include "broker/offsets_store.h"
#include "client/group_consumer.h"
#include "groups/group_coordinator.h"
#include "protocol/group_messages.h"
#include "sim/checkers/group_checker.h"
#include "sim/scenarios/cluster_nodes.h"
#include "sim/scenarios/cluster_scenario.h"
#include "sim/scenarios/nemesis.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/scenarios/workload.h"

namespace samsa::sim {

namespace {

const Address kGroupBroker{"broker", 9092};
const std::string kGroup = "workers";

constexpr Fault kGroupFaults[] = {
    Fault::machine_crash, Fault::process_crash, Fault::pause_server, Fault::partition,   Fault::one_way,
    Fault::clog,          Fault::swizzle_clog,  Fault::reset,        Fault::lose_and_reset, Fault::latency,
    Fault::disk_eio,      Fault::disk_full,     Fault::slow_disk,    Fault::clock_jump,  Fault::clock_drift,
    Fault::crash_client,  Fault::pause_client,
};

// On a cluster: no power loss during the run (Kafka's promise holds for fewer than
// min.insync.replicas machine crashes at once; the final one is the scenario's own), no disk
// faults (the metadata log halts a node on them; the broker scenario has them).
constexpr Fault kClusterGroupFaults[] = {
    Fault::process_crash, Fault::pause_server, Fault::partition, Fault::one_way, Fault::clog, Fault::swizzle_clog,
    Fault::reset,         Fault::lose_and_reset, Fault::latency, Fault::clock_jump, Fault::clock_drift,
    Fault::crash_client,  Fault::pause_client,
};
constexpr int32_t kClusterOffsetsPartitions[] = {1, 5, 50};

struct Histories {
  QueueHistory queue;
  GroupHistory group;
};

// The KRaft cluster of the scenario's cluster mode; declared before the Simulator (its nodes
// use it until they unwind).
struct GroupCluster {
  ClusterRegistry registry;
  std::map<int32_t, server::NodeConfig> configs;
  std::map<int32_t, NodeId> nodes;
  int32_t offsets_partitions = 0;
  int32_t last_coordinator = -1;
  int coordinator_moves = 0;         // seen by watch_coordinator
  int coordinator_power_losses = 0;  // by cluster_faults
  // cluster_faults' decisions: a second stream beside the nemesis' (fault_script.h).
  FaultScript script{FaultScript::kStreamTicks};
};

void add_cluster(Simulator& sim, GroupCluster& c, const broker::BrokerConfig& drawn) {
  const ClusterTopology topology{3, false};
  c.offsets_partitions = kClusterOffsetsPartitions[sim.in_range(0, 2)];
  for (int32_t id : topology.node_ids()) {
    server::NodeConfig config = cluster_node_config(id, topology, {});
    config.broker.log = drawn.log;
    config.broker.log.flush_messages = broker::BrokerConfig{}.log.flush_messages;  // Kafka's default: replicas, not fsync
    config.broker.group_initial_rebalance_delay_ms = drawn.group_initial_rebalance_delay_ms;
    config.broker.group_min_session_timeout_ms = drawn.group_min_session_timeout_ms;
    config.broker.min_insync_replicas = 2;
    config.broker.offsets_topic_num_partitions = c.offsets_partitions;
    config.broker.offsets_topic_replication_factor = 3;
    c.configs[id] = std::move(config);
    const server::NodeConfig& kept = c.configs[id];
    c.nodes[id] = sim.add_node(cluster_host(id), [&kept, &c](Runtime& rt) { cluster_node_main(rt, kept, c.registry); });
  }
}

int32_t group_coordinator_now(const GroupCluster& c);
void apply_cluster_fault(Simulator& sim, GroupCluster& c, bool power_loss, int32_t drawn_a, int32_t drawn_b);

// Whether every partition of the data topic and of __consumer_offsets has its whole replica
// set in sync (then one machine may lose its unsynced writes without risking an acknowledged
// one: Kafka's envelope).
bool fully_in_sync(const GroupCluster& c, const std::string& topic) {
  const controller::MetadataImage* image = most_applied_image(c.registry);
  if (image == nullptr || c.registry.live.size() != c.nodes.size()) return false;
  for (const std::string& name : {topic, std::string(groups::GroupCoordinator::kOffsetsTopic)}) {
    const controller::TopicImage* t = image->topic(name);
    if (t == nullptr) return false;
    for (const controller::PartitionState& p : t->partitions) {
      if (p.isr.size() != p.replicas.size()) return false;
    }
  }
  return true;
}

// The cluster's own faults (the nemesis's network faults are between clients and servers):
// brokers cut off from each other, and now and then a power loss of the group's coordinator
// while every replica is in sync, so leaderships of the data and offsets partitions move.
void cluster_faults(Simulator& sim, GroupCluster& c, const std::string& topic, Instant stop_at) {
  if (sim.now() >= stop_at) return;
  FaultScript& s = c.script;
  const bool act = s.begin_tick(sim.now());
  std::vector<int32_t> ids;
  for (const auto& [id, node] : c.nodes) ids.push_back(id);
  const int32_t drawn_a = ids[bounded(sim.random_u64(), ids.size())];
  const int32_t drawn_b = ids[bounded(sim.random_u64(), ids.size())];
  const int32_t coordinator = group_coordinator_now(c);
  const bool drawn_power_loss = sim.chance(1, 3) && c.nodes.count(coordinator) != 0 && fully_in_sync(c, topic);
  if (!s.replaying() && !drawn_power_loss && drawn_a == drawn_b) s.cancel_tick();  // nothing to do: no event
  if (act && (s.replaying() || drawn_power_loss || drawn_a != drawn_b)) apply_cluster_fault(sim, c, drawn_power_loss, drawn_a, drawn_b);
  s.end_tick();
  sim.schedule_after(sim.random_duration(std::chrono::seconds(2), std::chrono::seconds(8)),
                     [&sim, &c, topic, stop_at] { cluster_faults(sim, c, topic, stop_at); });
}

// One of cluster_faults' decisions, drawn or (replaying) the file's: the coordinator's power
// loss, or two brokers cut off from each other.
void apply_cluster_fault(Simulator& sim, GroupCluster& c, bool power_loss, int32_t drawn_a, int32_t drawn_b) {
  FaultScript& s = c.script;
  if (s.kind(power_loss ? "power-loss-coordinator" : "partition-brokers") == "power-loss-coordinator") {
    const Duration down = s.duration("down_ns", sim.random_duration(std::chrono::milliseconds(500), std::chrono::seconds(5)));
    const int32_t coordinator = group_coordinator_now(c);
    if (c.nodes.count(coordinator) == 0) return;  // an edited file's run may have none now
    const NodeId victim = c.nodes.at(coordinator);
    ++c.coordinator_power_losses;
    sim.crash(victim, CrashKind::machine);
    sim.schedule_after(down, [&sim, victim] {
      if (!sim.up(victim)) sim.start(victim);
    });
    return;
  }
  auto valid = [&c](int64_t id) { return c.nodes.count(static_cast<int32_t>(id)) != 0; };
  const NodeId a = c.nodes.at(static_cast<int32_t>(s.value("node", drawn_a, valid)));
  const NodeId b = c.nodes.at(static_cast<int32_t>(s.value("other", drawn_b, valid)));
  const Duration heal = s.duration("heal_after_ns", sim.random_duration(std::chrono::milliseconds(200), std::chrono::seconds(6)));
  if (a == b) return;
  sim.network().partition(a, b);
  sim.schedule_after(heal, [&sim, a, b] { sim.network().heal(a, b); });
}

// Counts the moves of the group's coordinator (one sample every 250 ms).
void watch_coordinator(Simulator& sim, GroupCluster& c) {
  const int32_t now = group_coordinator_now(c);
  if (now > 0 && now != c.last_coordinator) {
    if (c.last_coordinator > 0) ++c.coordinator_moves;
    c.last_coordinator = now;
  }
  sim.schedule_after(std::chrono::milliseconds(250), [&sim, &c] { watch_coordinator(sim, c); });
}

// The node that coordinates kGroup now (the leader of its partition of __consumer_offsets in
// the most-applied image), or -1.
int32_t group_coordinator_now(const GroupCluster& c) {
  const controller::MetadataImage* image = most_applied_image(c.registry);
  int32_t partition = -1;
  const controller::PartitionState* p = image != nullptr ? broker::offsets_partition_of(*image, kGroup, &partition) : nullptr;
  return p != nullptr ? p->leader : -1;
}

broker::BrokerConfig draw_group_config(Simulator& sim) {
  broker::BrokerConfig c;
  c.listener = kGroupBroker;
  c.log_dir = "data";
  c.log.flush_messages = 1;  // records acknowledged are durable: every one must be processed
  c.auto_create_topics = false;
  c.group_initial_rebalance_delay_ms = static_cast<int32_t>(sim.in_range(0, 500));
  c.group_min_session_timeout_ms = 1000;
  static constexpr uint64_t kSegmentBytes[] = {4096, 64 * 1024, 1 << 20};
  c.log.segment_bytes = kSegmentBytes[sim.in_range(0, 2)];
  return c;
}

CommitRecord::Outcome commit_outcome(Status s) {
  if (s.ok()) return CommitRecord::Outcome::ok;
  return s.code() == Errc::unavailable ? CommitRecord::Outcome::failed : CommitRecord::Outcome::indeterminate;
}

// What a member learned this poll: a new generation and assignment, and committed offsets.
void note_membership(Runtime& rt, client::GroupConsumer& c, int32_t& generation, GroupHistory& g,
                     std::map<int32_t, size_t>& awaiting_first_read) {
  for (const auto& r : c.take_resumes()) {
    awaiting_first_read[r.tp.partition] = g.resumes.size();
    g.resumes.push_back(ResumeRecord{c.member_id(), c.generation(), r.tp.partition, r.invoked, r.completed, r.committed, -1});
  }
  if (c.generation() == generation || c.generation() < 0) return;
  generation = c.generation();
  AssignmentRecord a{c.member_id(), generation, rt.now(), {}};
  for (const auto& tp : c.assignment()) a.partitions.push_back(tp.partition);
  g.assignments.push_back(std::move(a));
}

void member_main(Runtime& rt, const WorkloadProfile& w, int k, Histories& h) {
  client::Cluster cluster(rt, scenario_client(w.bootstrap, fmt::format("member{}", k)));
  client::GroupConsumerConfig gc;
  gc.group_id = kGroup;
  gc.session_timeout_ms = 3000;
  gc.rebalance_timeout_ms = 5000;
  gc.heartbeat_interval_ms = 300;
  gc.consumer.auto_offset_reset = client::ConsumerConfig::Reset::earliest;
  gc.consumer.fetch_max_wait_ms = 200;
  gc.consumer.skip_corrupt_batches = true;
  client::GroupConsumer consumer(cluster, gc);
  consumer.subscribe({w.topic});
  int32_t generation = -1;
  std::map<int32_t, size_t> awaiting_first_read;  // partition -> its resume record
  for (;;) {
    const Instant invoked = rt.now();
    Result<std::vector<client::ConsumedRecord>> batch = consumer.poll(std::chrono::milliseconds(500));
    note_membership(rt, consumer, generation, h.group, awaiting_first_read);
    PollRecord p{k, rt.now(), invoked, {}, {}, {}, true};
    for (const client::PositionMove& m : consumer.take_moves()) p.moved.emplace_back(m.tp.partition, m.why);
    std::map<client::TopicPartition, int64_t> next;
    if (batch.ok()) {
      for (const auto& r : *batch) {
        const std::string value = r.value ? std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size()) : "";
        p.records.push_back(Observation{r.partition, r.offset, value.substr(0, value.find('.'))});
        h.group.processed.insert({r.partition, r.offset});  // process, then commit: at least once
        next[{r.topic, r.partition}] = r.offset + 1;
        auto it = awaiting_first_read.find(r.partition);
        if (it != awaiting_first_read.end()) {
          h.group.resumes[it->second].first_read = r.offset;
          awaiting_first_read.erase(it);
        }
      }
    }
    if (!p.records.empty() || !p.moved.empty()) h.queue.polls.push_back(std::move(p));
    if (!batch.ok() && batch.error() == Errc::cancelled) return;
    if (next.empty()) continue;
    CommitRecord c{consumer.member_id(), consumer.generation(), rt.now(), {}, CommitRecord::Outcome::indeterminate, {}, false};
    for (const auto& [tp, o] : next) c.offsets[tp.partition] = o;
    const size_t at = h.group.commits.size();
    h.group.commits.push_back(c);
    const Status s = consumer.commit(next);
    h.group.commits[at].completed = rt.now();
    h.group.commits[at].outcome = commit_outcome(s);
  }
}

// A client that commits with identities it saw earlier: a member id with a generation older
// than the newest one handed out (the member may still be in the group, or long removed). The
// coordinator must refuse every such commit.
void rogue_main(Runtime& rt, const WorkloadProfile& w, Histories& h) {
  client::Cluster cluster(rt, scenario_client(w.bootstrap, "rogue"));
  for (;;) {
    if (!rt.sleep(Duration{in_range(rt.random_u64(), 200'000'000, 2'000'000'000)}).ok()) return;
    int32_t newest = -1;
    for (const AssignmentRecord& a : h.group.assignments) newest = std::max(newest, a.generation);
    std::vector<const AssignmentRecord*> stale, current;
    for (const AssignmentRecord& a : h.group.assignments) {
      (a.generation < newest ? stale : current).push_back(&a);
    }
    if (stale.empty()) continue;
    // Half the time a member of the newest generation with an older generation number (it is
    // still in the group: only the generation can refuse it), else any identity seen before.
    AssignmentRecord who = *stale[bounded(rt.random_u64(), stale.size())];  // a copy: we suspend below
    if (!current.empty() && chance(rt.random_u64(), 1, 2)) {
      who = *current[bounded(rt.random_u64(), current.size())];
      who.generation = newest - static_cast<int32_t>(in_range(rt.random_u64(), 1, std::max(1, newest - 1)));
    }
    Result<client::Connection*> c = cluster.coordinator(kGroup);
    if (!c.ok()) continue;
    kafka::OffsetCommitRequest req;
    req.group_id = kGroup;
    req.generation_id = who.generation;
    req.member_id = who.member;
    const int32_t partition = static_cast<int32_t>(bounded(rt.random_u64(), static_cast<uint64_t>(w.partitions)));
    req.topics.push_back({w.topic, {{partition, in_range(rt.random_u64(), 0, 5), -1, -1, std::string()}}});
    CommitRecord k{who.member, who.generation, rt.now(), {}, CommitRecord::Outcome::indeterminate, {{partition, 0}}, true};
    k.offsets[partition] = req.topics[0].partitions[0].committed_offset;
    Result<kafka::OffsetCommitResponse> resp = (*c)->call<kafka::OffsetCommitRequest, kafka::OffsetCommitResponse>(
        kafka::ApiKey::offset_commit, (*c)->version(kafka::ApiKey::offset_commit, 7).value_or(2), req, cluster.request_deadline());
    k.completed = rt.now();
    if (resp.ok() && !resp->topics.empty() && !resp->topics[0].partitions.empty()) {
      k.outcome = resp->topics[0].partitions[0].error_code == 0 ? CommitRecord::Outcome::ok : CommitRecord::Outcome::failed;
    }
    h.group.commits.push_back(std::move(k));
  }
}

// Looks at the group from a fresh client: its state, who owns what in the newest generation,
// committed offsets and log ends. `final`: only the committed offsets (after the last crash).
void observe_group(Simulator& sim, const WorkloadProfile& w, GroupHistory& g, bool final) {
  bool done = false;
  NodeId node = sim.add_node(fmt::format("observer-{}", sim.nodes().size()), [&](Runtime& rt) {
    client::Cluster cluster(rt, scenario_client(w.bootstrap, "observer"));
    for (int tries = 0; tries < 100 && !done; ++tries, (void)rt.sleep(std::chrono::milliseconds(300))) {
      Result<client::Connection*> c = cluster.coordinator(kGroup);
      if (!c.ok()) continue;
      kafka::OffsetFetchRequest of;
      of.group_id = kGroup;
      of.topics.emplace();
      of.topics->push_back({w.topic, {}});
      for (int32_t p = 0; p < w.partitions; ++p) of.topics->back().partition_indexes.push_back(p);
      Result<kafka::OffsetFetchResponse> offsets = (*c)->call<kafka::OffsetFetchRequest, kafka::OffsetFetchResponse>(
          kafka::ApiKey::offset_fetch, (*c)->version(kafka::ApiKey::offset_fetch, 5).value_or(1), of, cluster.request_deadline());
      if (!offsets.ok() || offsets->error_code != 0 || offsets->topics.size() != 1) continue;
      std::map<int32_t, int64_t>& into = final ? g.final_committed : g.committed_at_end;
      bool loaded = true;
      for (const auto& p : offsets->topics[0].partitions) {
        loaded = loaded && p.error_code == 0;
        if (p.committed_offset >= 0) into[p.partition_index] = p.committed_offset;
      }
      if (!loaded) continue;
      if (final) {
        g.final_committed_read = true;
        done = true;
        return;
      }
      kafka::DescribeGroupsRequest dg;
      dg.groups = {kGroup};
      Result<kafka::DescribeGroupsResponse> desc = (*c)->call<kafka::DescribeGroupsRequest, kafka::DescribeGroupsResponse>(
          kafka::ApiKey::describe_groups, 0, dg, cluster.request_deadline());
      if (!desc.ok() || desc->groups.size() != 1) continue;
      g.stable_at_end = desc->groups[0].group_state == "Stable";
      client::Consumer reader(cluster, client::ConsumerConfig{});
      for (int32_t p = 0; p < w.partitions; ++p) {
        Result<int64_t> end = reader.list_offset({w.topic, p}, client::Consumer::kLatest);
        if (end.ok()) g.log_end[p] = *end;
      }
      done = true;
    }
  });
  sim.start(node);
  const Instant give_up = sim.now() + std::chrono::seconds(60);
  while (!done && sim.now() < give_up && sim.step()) {
  }
  sim.crash(node);
}

// Partitions the newest generation's members own (what SyncGroup handed them).
std::set<int32_t> owned_in_newest(const GroupHistory& g) {
  int32_t newest = -1;
  for (const AssignmentRecord& a : g.assignments) newest = std::max(newest, a.generation);
  std::set<int32_t> owned;
  for (const AssignmentRecord& a : g.assignments) {
    if (a.generation == newest) owned.insert(a.partitions.begin(), a.partitions.end());
  }
  return owned;
}

// The last power loss: the broker (single) or the group's coordinator (cluster) loses every
// unsynced write; then the committed offsets and the logs are read back.
void crash_coordinator_and_read_back(Simulator& sim, Nemesis& nemesis, NodeId single, const GroupCluster& c,
                                     const WorkloadProfile& w, Histories& h, RunResult& result) {
  NodeId victim = single;
  if (!c.nodes.empty()) {
    const int32_t coordinator = group_coordinator_now(c);
    victim = c.nodes.count(coordinator) != 0 ? c.nodes.at(coordinator) : c.nodes.begin()->second;
    result.notes.push_back(coordinator > 0 ? fmt::format("final power loss: node {}, the group's coordinator", coordinator)
                                           : "final power loss: node 1 (no coordinator was known)");
  }
  sim.node(victim).disk->force_next_crash_mode(CrashMode::lose_all);
  nemesis.crash_server(victim, CrashKind::machine);
  sim.start(victim);
  observe_group(sim, w, h.group, true);
  final_read(sim, w, h.queue, std::chrono::seconds(120));
}

}  // namespace

RunResult run_group_scenario(const GroupScenarioOptions& o) {
  GroupCluster cluster;  // before the simulator: its nodes use it until they unwind
  Simulator sim(SimOptions{o.seed, o.log_level, true, o.bugs, o.trace_sink});
  const broker::BrokerConfig config = draw_group_config(sim);
  const bool clustered = o.brokers > 0;
  SAMSA_ASSERT(!clustered || o.brokers == 3);
  std::vector<Address> bootstrap{kGroupBroker};
  if (clustered) {
    bootstrap.clear();
    for (int32_t id = 1; id <= 3; ++id) bootstrap.push_back(Address{cluster_host(id), kClusterBrokerPort});
  }
  WorkloadProfile w = WorkloadProfile::draw(sim, bootstrap, static_cast<int32_t>(sim.in_range(2, 6)),
                                            static_cast<uint32_t>(config.log.max_batch_bytes));
  w.topic = "work";
  w.pause_min = std::chrono::milliseconds(5);
  w.pause_max = std::chrono::milliseconds(60);
  w.pace(o.send_rate);
  if (clustered) {
    w.replication_factor = 3;
    w.acks = -1;  // with min.insync.replicas 2: what is acknowledged survives one lost machine
  }
  Histories h;
  h.queue.partitions = h.group.partitions = w.partitions;
  std::vector<NodeId> servers;
  if (clustered) {
    add_cluster(sim, cluster, config);
    for (const auto& [id, n] : cluster.nodes) servers.push_back(n);
  } else {
    servers.push_back(sim.add_node("broker", [&config](Runtime& rt) { single_broker_main(rt, config); }));
  }
  std::vector<NodeId> clients, producers;
  producers.push_back(sim.add_node("producer", [&](Runtime& rt) { producer_main(rt, w, 1, h.queue); }));
  clients.push_back(producers.back());
  for (int k = 1; k <= o.members; ++k) {
    clients.push_back(sim.add_node(fmt::format("member{}", k), [&, k](Runtime& rt) { member_main(rt, w, 10 + k, h); }));
  }
  clients.push_back(sim.add_node("rogue", [&](Runtime& rt) { rogue_main(rt, w, h); }));
  for (const auto& [id, n] : sim.nodes()) sim.start(id);
  std::vector<Fault> allowed = o.faults;
  if (allowed.empty() && clustered) allowed.assign(std::begin(kClusterGroupFaults), std::end(kClusterGroupFaults));
  if (allowed.empty()) allowed.assign(std::begin(kGroupFaults), std::end(kGroupFaults));
  Nemesis nemesis(sim, NemesisTargets{servers, clients, "", {}}, NemesisPlan::draw(sim, allowed), sim.now() + o.fault_time,
                  o.replay_events);
  nemesis.start();
  if (clustered) {
    if (o.replay_events != nullptr) cluster.script = FaultScript(*o.replay_events, FaultScript::kStreamTicks);
    cluster_faults(sim, cluster, w.topic, sim.now() + o.fault_time);
    watch_coordinator(sim, cluster);
  }
  sim.run_until(sim.now() + o.fault_time);
  // Heal; stop producing; the group must settle and work off its lag.
  nemesis.heal();
  sim.network().heal_all();
  // A cluster needs longer than one broker to elect, unfence and catch up again: its producers
  // keep going for a while, so that even a seed whose faults stopped every write has some.
  sim.run_for(clustered ? std::chrono::seconds(15) : std::chrono::seconds(2));
  for (NodeId p : producers) sim.crash(p);
  sim.run_for(o.quiet_time);
  observe_group(sim, w, h.group, false);
  h.group.owned_at_end = owned_in_newest(h.group);
  for (NodeId c : clients) sim.crash(c);
  nemesis.retire();
  RunResult result;
  // Every seed ends with a power loss that keeps nothing unsynced: the strictest test of what
  // was acknowledged (torn writes are the business of the crashes during the run).
  crash_coordinator_and_read_back(sim, nemesis, servers.front(), cluster, w, h, result);
  for (const SendRecord& s : h.queue.sends) {
    if (s.outcome != SendRecord::Outcome::ok) continue;
    for (int64_t offset : s.offsets) h.group.produced.insert({s.partition, offset});
  }

  if (std::getenv("SAMSA_GROUP_TRACE") != nullptr) {
    for (const PollRecord& p : h.queue.polls) {
      if (p.at.ns < 64'000'000'000) continue;
      std::string recs;
      for (const Observation& ob : p.records) recs += fmt::format(" {}-{}", ob.partition, ob.offset);
      for (const auto& [part, why] : p.moved) recs += fmt::format(" [{} {}]", part, why);
      fmt::print(stderr, "t={:.3f} member{}{}\n", p.at.ns / 1e9, p.consumer, recs);
    }
  }
  result.scenario = "groups";
  result.checks = check_group(h.group);
  for (CheckResult& c : check_queue(h.queue)) {
    // The members are consumers of a group, not of every partition: liveness is the group's.
    if (c.name != "consumer-liveness" && c.name != "producer-liveness") result.checks.push_back(std::move(c));
  }
  result.acked = h.group.produced.size();
  result.records = h.group.processed.size();
  result.settings = {fmt::format("segment.bytes={} group.initial.rebalance.delay.ms={}", config.log.segment_bytes,
                                 config.group_initial_rebalance_delay_ms)};
  if (clustered) {
    result.settings.push_back(fmt::format("KRaft cluster of 3 combined nodes; {} and {}: replication factor 3, "
                                          "min.insync.replicas 2; __consumer_offsets: {} partitions",
                                          w.topic, "the offsets", cluster.offsets_partitions));
    result.notes.push_back(fmt::format("the group's coordinator moved {} times; {} power losses of the coordinator during the run",
                                       cluster.coordinator_moves, cluster.coordinator_power_losses));
  }
  for (const std::string& s : w.describe()) result.settings.push_back(s);
  for (const std::string& s : nemesis.plan().describe()) result.settings.push_back(s);
  result.faults = nemesis.summary();
  std::vector<FaultEvent> events = cluster.script.recorded();
  for (const std::string& line : nemesis.schedule()) events.push_back(FaultEvent::parse(line).value());
  result.schedule = schedule_lines(std::move(events));
  stamp_result(sim, o.seed, result);
  return result;
}

}  // namespace samsa::sim
