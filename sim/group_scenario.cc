#include "sim/group_scenario.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "broker/broker.h"
#include "client/admin.h"
#include "client/group_consumer.h"
#include "client/producer.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "log/record_batch.h"
#include "util/endian.h"
#include "sim/scenario_util.h"
#include "sim/simulator.h"

namespace samsa::sim {

namespace {

const std::string kTopic = "work";
const std::string kGroup = "workers";
constexpr int32_t kPartitions = 4;
const Address kBroker{"broker", 9092};

struct History {
  std::set<std::pair<int32_t, int64_t>> produced;   // acknowledged records
  std::set<std::pair<int32_t, int64_t>> processed;  // by any member, any number of times
  // generation -> member -> partitions, as SyncGroup returned them
  std::map<int32_t, std::map<std::string, std::vector<int32_t>>> assignments;
  std::map<int32_t, std::vector<int64_t>> commits;  // acknowledged commits per partition, in order
  std::vector<std::string> trace;                    // who committed what when (for SAMSA_GROUP_TRACE)
  uint64_t commit_failures = 0;
};

void broker_main(Runtime& rt) {
  broker::BrokerConfig c;
  c.listener = kBroker;
  c.log_dir = "data";
  c.log.flush_messages = 1;
  c.auto_create_topics = false;
  c.group_initial_rebalance_delay_ms = 300;
  c.group_min_session_timeout_ms = 1000;
  broker::Broker b(rt, c);
  if (!b.start().ok()) return;
  (void)rt.sleep_until(Deadline::never());
}

void producer_main(Runtime& rt, History& h) {
  client::Cluster cluster(rt, scenario_client(kBroker, "producer"));
  client::Admin admin(cluster);
  for (;;) {
    Result<client::AdminResult> r = admin.create_topic(kTopic, kPartitions, 1, {});
    if (r.ok() && (r->error == kafka::Error::none || r->error == kafka::Error::topic_already_exists)) break;
    if (!rt.sleep(std::chrono::milliseconds(200)).ok()) return;
  }
  client::ProducerConfig pc;
  pc.retries = 1;
  client::Producer producer(cluster, pc);
  for (uint64_t seq = 0;; ++seq) {
    const int32_t partition = static_cast<int32_t>(seq % kPartitions);
    const std::string value = fmt::format("w{}", seq);
    if (producer.send(kTopic, partition, std::nullopt, as_bytes(value)).ok()) {
      Result<std::vector<client::DeliveryReport>> r = producer.flush();
      if (r.ok() && r->size() == 1 && r->front().error == kafka::Error::none) h.produced.insert({partition, r->front().offset});
    }
    if (!rt.sleep(Duration{in_range(rt.random_u64(), 5'000'000, 40'000'000)}).ok()) return;
  }
}

void member_main(Runtime& rt, int k, History& h) {  // NOLINT(readability-function-size)
  client::Cluster cluster(rt, scenario_client(kBroker, fmt::format("member{}", k)));
  client::GroupConsumerConfig gc;
  gc.group_id = kGroup;
  gc.session_timeout_ms = 3000;
  gc.rebalance_timeout_ms = 5000;
  gc.heartbeat_interval_ms = 300;
  gc.assignor = client::Assignor::range;  // one protocol for the whole group
  gc.consumer.auto_offset_reset = client::ConsumerConfig::Reset::earliest;
  gc.consumer.fetch_max_wait_ms = 200;
  client::GroupConsumer consumer(cluster, gc);
  consumer.subscribe({kTopic});
  int32_t recorded_generation = -1;
  for (;;) {
    Result<std::vector<client::ConsumedRecord>> batch = consumer.poll(std::chrono::milliseconds(500));
    if (consumer.generation() != recorded_generation && consumer.generation() >= 0) {
      recorded_generation = consumer.generation();
      std::string parts;
      for (const auto& tp : consumer.assignment()) parts += std::to_string(tp.partition) + " ";
      h.trace.push_back(fmt::format("t={} member{} gen={} assigned [{}]", rt.now().ns / 1000000, k, recorded_generation, parts));
      auto& mine = h.assignments[recorded_generation][consumer.member_id()];
      for (const auto& tp : consumer.assignment()) mine.push_back(tp.partition);
    }
    if (!batch.ok()) {
      if (batch.error() == Errc::cancelled) return;
      continue;
    }
    std::map<client::TopicPartition, int64_t> next;
    for (const auto& r : *batch) {
      h.processed.insert({r.partition, r.offset});  // process, then commit: at least once
      next[{r.topic, r.partition}] = r.offset + 1;
    }
    if (next.empty()) continue;
    if (consumer.commit(next).ok()) {
      for (const auto& [tp, offset] : next) {
        h.commits[tp.partition].push_back(offset);
        h.trace.push_back(fmt::format("t={} member{} gen={} commit p{}={}", rt.now().ns / 1000000, k, consumer.generation(), tp.partition, offset));
      }
    } else {
      ++h.commit_failures;
    }
  }
}

class GroupNemesis {
 public:
  enum Kind { crash_member, pause_member, partition_member, crash_broker, kinds };

  GroupNemesis(Simulator& sim, NodeId broker, std::vector<NodeId> members, Instant stop_at)
      : sim_(sim),
        broker_(broker),
        members_(std::move(members)),
        stop_at_(stop_at),
        mix_(sim, {"crash-member", "pause-member", "partition-member", "crash-broker"}) {}
  void start() {
    sim_.schedule_after(sim_.random_duration(1s, 3s), [this] { tick(); });
  }
  std::vector<std::string> summary() const { return mix_.summary(); }

 private:
  void tick() {
    if (sim_.now() >= stop_at_) return;
    const int kind = mix_.pick();
    const NodeId m = members_[bounded(sim_.random_u64(), members_.size())];
    const Duration d = sim_.random_duration(500ms, 6s);  // sometimes past the session timeout
    switch (static_cast<Kind>(kind)) {
      case crash_member:
        sim_.crash(m);
        sim_.schedule_after(d, [this, m] { sim_.start(m); });
        break;
      case pause_member:  // a zombie: it wakes up believing it still owns its partitions
        sim_.pause(m);
        sim_.schedule_after(d, [this, m] { sim_.resume(m); });
        break;
      case partition_member:
        sim_.network().partition(m, broker_);
        sim_.schedule_after(d, [this, m] { sim_.network().heal(m, broker_); });
        break;
      case crash_broker:
        sim_.crash(broker_);
        sim_.schedule_after(sim_.random_duration(200ms, 2s), [this] { sim_.start(broker_); });
        break;
      case kinds: break;
    }
    sim_.schedule_after(sim_.random_duration(1s, 4s), [this] { tick(); });
  }

  Simulator& sim_;
  NodeId broker_;
  std::vector<NodeId> members_;
  Instant stop_at_;
  FaultMix mix_;
};

void check(const History& h, const std::vector<std::pair<int32_t, int64_t>>& coordinator_log, DemoResult& result) {
  CheckVerdict exclusive{"exclusive-ownership", true, ""};
  for (const auto& [generation, members] : h.assignments) {
    std::map<int32_t, std::string> owner;
    for (const auto& [member, parts] : members) {
      for (int32_t p : parts) {
        auto [it, fresh] = owner.emplace(p, member);
        if (!fresh && exclusive.ok) {
          exclusive.ok = false;
          exclusive.detail = fmt::format("generation {}: partition {} owned by {} and {}", generation, p, it->second, member);
        }
      }
    }
  }
  if (exclusive.ok) exclusive.detail = fmt::format("{} generations, each partition owned by at most one member", h.assignments.size());
  // The order that counts is the coordinator's: the sequence of commit records in its
  // __consumer_offsets log. (Clients' acknowledgements can arrive late, after a pause or a
  // partition, so their order says nothing.) Every acknowledged commit must be in that log.
  CheckVerdict monotonic{"monotonic-commits", true, ""};
  std::map<int32_t, std::vector<int64_t>> applied;
  for (const auto& [partition, offset] : coordinator_log) applied[partition].push_back(offset);
  uint64_t commits = 0;
  for (const auto& [p, offsets] : applied) {
    for (size_t i = 1; i < offsets.size(); ++i) {
      if (offsets[i] < offsets[i - 1] && monotonic.ok) {
        monotonic.ok = false;
        monotonic.detail = fmt::format("partition {}: the coordinator applied commit {} after {}", p, offsets[i], offsets[i - 1]);
      }
    }
    commits += offsets.size();
  }
  for (const auto& [p, offsets] : h.commits) {
    for (int64_t o : offsets) {
      const auto& log = applied[p];
      if (std::find(log.begin(), log.end(), o) == log.end() && monotonic.ok) {
        monotonic.ok = false;
        monotonic.detail = fmt::format("partition {}: commit {} was acknowledged but is not in the coordinator's log", p, o);
      }
    }
  }
  if (monotonic.ok) monotonic.detail = fmt::format("{} commits applied in order, every acknowledged one durable", commits);
  CheckVerdict once{"at-least-once", true, ""};
  uint64_t missing = 0;
  for (const auto& rec : h.produced) {
    if (h.processed.count(rec) == 0) {
      if (missing++ == 0) once.detail = fmt::format("record {}-{} was acknowledged but never processed", rec.first, rec.second);
      once.ok = false;
    }
  }
  if (once.ok) once.detail = fmt::format("all {} acknowledged records processed", h.produced.size());
  result.acked = h.produced.size();
  result.records = h.processed.size();
  result.checks = {exclusive, monotonic, once};
  result.notes.push_back(fmt::format("{} commits refused (fenced or during a rebalance)", h.commit_failures));
}

// The group's commits in the order the coordinator applied them, read off the broker's disk.
std::vector<std::pair<int32_t, int64_t>> coordinator_commits(Simulator& sim, NodeId broker) {
  std::vector<std::pair<int32_t, int64_t>> out;
  Result<std::vector<std::byte>> log = sim.node(broker).disk->current_contents("data/__consumer_offsets-0/00000000000000000000.log");
  if (!log.ok()) return out;
  size_t pos = 0;
  const std::string prefix = "o\x1f" + kGroup + "\x1f" + kTopic + "\x1f";
  while (log->size() - pos >= kBatchHeaderBytes) {
    Result<BatchHeader> h = parse_batch_header(ConstBytes(*log).subspan(pos));
    if (!h.ok() || h->total_bytes() > log->size() - pos) break;
    Result<std::vector<Record>> records = decode_records(ConstBytes(*log).subspan(pos, h->total_bytes()));
    pos += h->total_bytes();
    if (!records.ok()) break;
    for (const Record& r : *records) {
      if (!r.key || !r.value || r.value->size() < 8) continue;
      const std::string key(reinterpret_cast<const char*>(r.key->data()), r.key->size());
      if (key.rfind(prefix, 0) != 0) continue;
      out.push_back({std::atoi(key.c_str() + prefix.size()), get_i64_be(r.value->data())});
    }
  }
  return out;
}

}  // namespace

DemoResult run_group_scenario(const GroupScenarioOptions& options) {
  Simulator sim(SimOptions{options.seed, options.log_level, true});
  History h;
  const NodeId broker = sim.add_node("broker", [](Runtime& rt) { broker_main(rt); });
  sim.add_node("producer", [&h](Runtime& rt) { producer_main(rt, h); });
  std::vector<NodeId> members;
  for (int k = 1; k <= options.members; ++k) {
    members.push_back(sim.add_node(fmt::format("member{}", k), [&h, k](Runtime& rt) { member_main(rt, k, h); }));
  }
  for (const auto& [id, n] : sim.nodes()) sim.start(id);
  const Instant stop_at = sim.now() + options.fault_time;
  GroupNemesis nemesis(sim, broker, members, stop_at);
  nemesis.start();
  sim.run_until(stop_at);
  // Heal; stop producing; give the group time to settle and work off its lag.
  sim.network().heal_all();
  for (const auto& [id, n] : sim.nodes()) {
    sim.resume(id);
    if (!n.up) sim.start(id);
  }
  sim.run_for(std::chrono::seconds(2));
  sim.crash(NodeId{2});  // the producer
  sim.run_for(options.quiet_time);
  DemoResult result;
  check(h, coordinator_commits(sim, broker), result);
  if (std::getenv("SAMSA_GROUP_TRACE") != nullptr) {
    for (const std::string& line : h.trace) std::fprintf(stderr, "%s\n", line.c_str());
  }
  stamp_result(sim, options.seed, result);
  result.faults = nemesis.summary();
  return result;
}

}  // namespace samsa::sim
