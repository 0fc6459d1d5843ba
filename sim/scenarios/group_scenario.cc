#include "sim/scenarios/group_scenario.h"

#include <fmt/format.h>

#include "broker/broker.h"
#include "client/group_consumer.h"
#include "protocol/group_messages.h"
#include "sim/checkers/group_checker.h"
#include "sim/scenarios/nemesis.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/scenarios/workload.h"

namespace samsa::sim {

namespace {

const Address kBroker{"broker", 9092};
const std::string kGroup = "workers";

constexpr Fault kGroupFaults[] = {
    Fault::machine_crash, Fault::process_crash, Fault::pause_server, Fault::partition,   Fault::one_way,
    Fault::clog,          Fault::swizzle_clog,  Fault::reset,        Fault::lose_and_reset, Fault::latency,
    Fault::disk_eio,      Fault::disk_full,     Fault::slow_disk,    Fault::clock_jump,  Fault::clock_drift,
    Fault::crash_client,  Fault::pause_client,
};

struct Histories {
  QueueHistory queue;
  GroupHistory group;
};

broker::BrokerConfig draw_config(Simulator& sim) {
  broker::BrokerConfig c;
  c.listener = kBroker;
  c.log_dir = "data";
  c.log.flush_messages = 1;  // records acknowledged are durable: every one must be processed
  c.auto_create_topics = false;
  c.group_initial_rebalance_delay_ms = static_cast<int32_t>(sim.in_range(0, 500));
  c.group_min_session_timeout_ms = 1000;
  static constexpr uint64_t kSegmentBytes[] = {4096, 64 * 1024, 1 << 20};
  c.log.segment_bytes = kSegmentBytes[sim.in_range(0, 2)];
  return c;
}

void broker_main(Runtime& rt, const broker::BrokerConfig& config) {
  broker::Broker b(rt, config);
  if (!b.start().ok()) return;
  (void)b.wait_for_failure(Deadline::never());
  b.stop();
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
  client::Cluster cluster(rt, scenario_client(kBroker, fmt::format("member{}", k)));
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
  client::Cluster cluster(rt, scenario_client(kBroker, "rogue"));
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
    Result<client::Connection*> c = cluster.any();
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
    client::Cluster cluster(rt, scenario_client(kBroker, "observer"));
    for (int tries = 0; tries < 100 && !done; ++tries, (void)rt.sleep(std::chrono::milliseconds(300))) {
      Result<client::Connection*> c = cluster.any();
      if (!c.ok()) continue;
      kafka::OffsetFetchRequest of;
      of.group_id = kGroup;
      of.topics.emplace();
      of.topics->push_back({w.topic, {}});
      for (int32_t p = 0; p < w.partitions; ++p) of.topics->back().partition_indexes.push_back(p);
      Result<kafka::OffsetFetchResponse> offsets = (*c)->call<kafka::OffsetFetchRequest, kafka::OffsetFetchResponse>(
          kafka::ApiKey::offset_fetch, (*c)->version(kafka::ApiKey::offset_fetch, 5).value_or(1), of, cluster.request_deadline());
      if (!offsets.ok() || offsets->topics.size() != 1) continue;
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

}  // namespace

RunResult run_group_scenario(const GroupScenarioOptions& o) {
  Simulator sim(SimOptions{o.seed, o.log_level, true, o.bugs});
  const broker::BrokerConfig config = draw_config(sim);
  WorkloadProfile w = WorkloadProfile::draw(sim, {kBroker}, static_cast<int32_t>(sim.in_range(2, 6)),
                                            static_cast<uint32_t>(config.log.max_batch_bytes));
  w.topic = "work";
  w.pause_min = std::chrono::milliseconds(5);
  w.pause_max = std::chrono::milliseconds(60);
  Histories h;
  h.queue.partitions = h.group.partitions = w.partitions;
  const NodeId broker = sim.add_node("broker", [&config](Runtime& rt) { broker_main(rt, config); });
  std::vector<NodeId> clients, producers;
  producers.push_back(sim.add_node("producer", [&](Runtime& rt) { producer_main(rt, w, 1, h.queue); }));
  clients.push_back(producers.back());
  for (int k = 1; k <= o.members; ++k) {
    clients.push_back(sim.add_node(fmt::format("member{}", k), [&, k](Runtime& rt) { member_main(rt, w, 10 + k, h); }));
  }
  clients.push_back(sim.add_node("rogue", [&](Runtime& rt) { rogue_main(rt, w, h); }));
  for (const auto& [id, n] : sim.nodes()) sim.start(id);
  const std::vector<Fault> allowed = o.faults.empty() ? std::vector<Fault>(std::begin(kGroupFaults), std::end(kGroupFaults)) : o.faults;
  Nemesis nemesis(sim, NemesisTargets{{broker}, clients, "", {}}, NemesisPlan::draw(sim, allowed), sim.now() + o.fault_time);
  nemesis.start();
  sim.run_until(sim.now() + o.fault_time);
  // Heal; stop producing; the group must settle and work off its lag.
  nemesis.heal();
  sim.run_for(std::chrono::seconds(2));
  for (NodeId p : producers) sim.crash(p);
  sim.run_for(o.quiet_time);
  observe_group(sim, w, h.group, false);
  h.group.owned_at_end = owned_in_newest(h.group);
  for (NodeId c : clients) sim.crash(c);
  nemesis.retire();
  // Every seed ends with a power loss that keeps nothing unsynced: the strictest test of what
  // was acknowledged (torn writes are the business of the crashes during the run).
  sim.node(broker).disk->force_next_crash_mode(CrashMode::lose_all);
  nemesis.crash_server(broker, CrashKind::machine);
  sim.start(broker);
  observe_group(sim, w, h.group, true);
  final_read(sim, w, h.queue, std::chrono::seconds(120));
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
  RunResult result;
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
  for (const std::string& s : w.describe()) result.settings.push_back(s);
  for (const std::string& s : nemesis.plan().describe()) result.settings.push_back(s);
  result.faults = nemesis.summary();
  stamp_result(sim, o.seed, result);
  return result;
}

}  // namespace samsa::sim
