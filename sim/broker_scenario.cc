#include "sim/broker_scenario.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "broker/broker.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/scenario_util.h"
#include "sim/simulator.h"

namespace samsa::sim {

namespace {

const std::string kTopic = "events";
constexpr int32_t kPartitions = 2;
const Address kBroker{"broker", 9092};

struct Ack {
  int32_t partition;
  int64_t offset;
  std::string value;
};

// Outlives every crash: what clients were told and what they read.
struct History {
  std::map<int, std::vector<Ack>> acked;            // by producer
  std::map<int, uint64_t> next_seq;
  std::map<std::pair<int32_t, int64_t>, std::string> consumed;  // by the consumer during faults
  uint64_t failed_sends = 0;
};

void broker_main(Runtime& rt) {
  broker::BrokerConfig config;
  config.listener = kBroker;
  config.log_dir = "data";
  config.log.flush_messages = 1;  // acknowledged means synced
  config.log.segment_bytes = 16 * 1024;
  config.auto_create_topics = false;
  broker::Broker b(rt, config);
  if (!b.start().ok()) return;
  (void)rt.sleep_until(Deadline::never());
}

void ensure_topic(Runtime& rt, client::Cluster& cluster) {
  client::Admin admin(cluster);
  for (;;) {
    Result<client::AdminResult> r = admin.create_topic(kTopic, kPartitions, 1, {});
    if (r.ok() && (r->error == kafka::Error::none || r->error == kafka::Error::topic_already_exists)) return;
    if (!rt.sleep(std::chrono::milliseconds(200)).ok()) return;
  }
}

void producer_main(Runtime& rt, int k, History& h) {
  client::Cluster cluster(rt, scenario_client(kBroker, fmt::format("producer-{}", k)));
  ensure_topic(rt, cluster);
  client::ProducerConfig pc;
  pc.acks = -1;
  pc.retries = 2;
  client::Producer producer(cluster, pc);
  h.next_seq.try_emplace(k, 1);
  for (;;) {
    uint64_t& seq = h.next_seq[k];
    const std::string value = fmt::format("p{}-{}", k, seq++);
    const int32_t partition = static_cast<int32_t>(seq % kPartitions);
    // One initialisation, not assignment after a default: g++ 12 -O3 misreports the latter as a
    // use of an uninitialised vector (-Werror=maybe-uninitialized).
    Result<std::vector<client::DeliveryReport>> r = producer.send(kTopic, partition, std::nullopt, as_bytes(value)).ok()
                                                        ? producer.flush()
                                                        : Result<std::vector<client::DeliveryReport>>(Errc::unavailable);
    if (r.ok() && r->size() == 1 && r->front().error == kafka::Error::none) {
      h.acked[k].push_back(Ack{partition, r->front().offset, value});
    } else {
      ++h.failed_sends;  // indeterminate: may or may not be in the log
      (void)producer.flush();
      if (!rt.sleep(std::chrono::milliseconds(100)).ok()) return;
    }
    if (!rt.sleep(Duration{in_range(rt.random_u64(), 1'000'000, 30'000'000)}).ok()) return;
  }
}

void consumer_main(Runtime& rt, History& h) {
  client::Cluster cluster(rt, scenario_client(kBroker, "consumer"));
  client::ConsumerConfig cc;
  cc.fetch_max_wait_ms = 200;
  cc.auto_offset_reset = client::ConsumerConfig::Reset::earliest;
  client::Consumer consumer(cluster, cc);
  consumer.assign({{kTopic, 0}, {kTopic, 1}});
  for (;;) {
    Result<std::vector<client::ConsumedRecord>> batch = consumer.poll(std::chrono::milliseconds(500));
    if (batch.ok()) {
      for (const auto& r : *batch) {
        h.consumed[{r.partition, r.offset}] = r.value ? std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size()) : "";
      }
    } else if (!rt.sleep(std::chrono::milliseconds(100)).ok()) {
      return;
    }
  }
}

class BrokerNemesis {
 public:
  enum Kind { crash_broker, partition, one_way, clog, reset, sync_eio, kinds };

  BrokerNemesis(Simulator& sim, NodeId broker, std::vector<NodeId> clients, Instant stop_at)
      : sim_(sim),
        broker_(broker),
        clients_(std::move(clients)),
        stop_at_(stop_at),
        mix_(sim, {"crash-broker", "partition", "one-way-partition", "clog", "connection-reset", "fsync-eio"}) {}

  void start() {
    sim_.schedule_after(sim_.random_duration(500ms, 2s), [this] { tick(); });
    sim_.schedule_after(1s, [this] { supervise(); });
  }
  void stop() { stopped_ = true; }

  std::vector<std::string> summary() const { return mix_.summary(); }

 private:
  void tick() {
    if (sim_.now() >= stop_at_) return;
    const int kind = mix_.pick();
    SimNetwork& net = sim_.network();
    const NodeId c = clients_[bounded(sim_.random_u64(), clients_.size())];
    auto heal_later = [&] { sim_.schedule_after(sim_.random_duration(500ms, 4s), [this, c] { sim_.network().heal(c, broker_); }); };
    switch (static_cast<Kind>(kind)) {
      case crash_broker: sim_.crash(broker_); break;
      case partition: net.partition(c, broker_); heal_later(); break;
      case one_way:
        if (sim_.chance(1, 2)) net.block(c, broker_); else net.block(broker_, c);
        heal_later();
        break;
      case clog: net.clog(c, broker_, sim_.random_duration(100ms, 2s)); break;
      case reset: net.reset_between(c, broker_); break;
      case sync_eio:
        // The log goes offline; an operator restarts the broker a little later.
        sim_.node(broker_).disk->fail_next(DiskOp::sync, "data/" + kTopic);
        sim_.schedule_after(sim_.random_duration(1s, 3s), [this] { sim_.restart(broker_); });
        break;
      case kinds: break;
    }
    sim_.schedule_after(sim_.random_duration(300ms, 3s), [this] { tick(); });
  }

  void supervise() {
    if (stopped_) return;
    const bool down = !sim_.up(broker_) || sim_.node(broker_).main_finished;  // crashed, or failed to start
    if (down && sim_.chance(1, 2)) sim_.restart(broker_);
    sim_.schedule_after(sim_.random_duration(300ms, 2s), [this] { supervise(); });
  }

  Simulator& sim_;
  NodeId broker_;
  std::vector<NodeId> clients_;
  Instant stop_at_;
  bool stopped_ = false;
  FaultMix mix_;
};

// Reads both partitions from the start after the faults: the final state the checkers judge.
std::map<std::pair<int32_t, int64_t>, std::string> read_everything(Simulator& sim, bool* complete) {
  std::map<std::pair<int32_t, int64_t>, std::string> log;
  bool done = false;
  NodeId reader = sim.add_node("final-reader", [&](Runtime& rt) {
    client::Cluster cluster(rt, scenario_client(kBroker, "final-reader"));
    client::Consumer consumer(cluster, client::ConsumerConfig{});
    std::map<int32_t, int64_t> end;
    for (int32_t p = 0; p < kPartitions; ++p) {
      int64_t log_end = -1;
      for (int tries = 0; tries < 50 && log_end < 0; ++tries) {
        Result<int64_t> e = consumer.list_offset({kTopic, p}, client::Consumer::kLatest);
        if (e.ok()) log_end = e.value(); else (void)rt.sleep(std::chrono::milliseconds(200));
      }
      if (log_end < 0) return;
      end[p] = log_end;
      consumer.assign({{kTopic, 0}, {kTopic, 1}});
      consumer.seek({kTopic, p}, 0);
    }
    for (int round = 0; round < 2000; ++round) {
      bool all = true;
      for (int32_t p = 0; p < kPartitions; ++p) all = all && consumer.position({kTopic, p}).value_or(0) >= end[p];
      if (all) break;
      Result<std::vector<client::ConsumedRecord>> batch = consumer.poll(std::chrono::milliseconds(500));
      if (!batch.ok()) continue;
      for (const auto& r : *batch) {
        log[{r.partition, r.offset}] = r.value ? std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size()) : "";
      }
    }
    done = true;
  });
  sim.start(reader);
  const Instant give_up = sim.now() + std::chrono::seconds(120);
  while (!done && sim.now() < give_up && sim.step()) {
  }
  *complete = done;
  sim.crash(reader);
  return log;
}

void check(const History& h, const std::map<std::pair<int32_t, int64_t>, std::string>& log, DemoResult& result) {
  CheckVerdict lost{"lost-write", true, ""}, offsets{"inconsistent-offsets", true, ""}, order{"nonmonotonic-send", true, ""};
  uint64_t acked = 0;
  std::set<std::pair<int32_t, int64_t>> acked_offsets;
  for (const auto& [k, acks] : h.acked) {
    std::map<int32_t, int64_t> last;
    for (const Ack& a : acks) {
      ++acked;
      acked_offsets.insert({a.partition, a.offset});
      auto it = log.find({a.partition, a.offset});
      if (it == log.end()) {
        if (lost.ok) lost.detail = fmt::format("'{}' acknowledged at {}-{} is not in the log", a.value, a.partition, a.offset);
        lost.ok = false;
      } else if (it->second != a.value) {
        if (offsets.ok) offsets.detail = fmt::format("{}-{} acknowledged '{}' but holds '{}'", a.partition, a.offset, a.value, it->second);
        offsets.ok = false;
      }
      if (last.count(a.partition) != 0 && a.offset <= last[a.partition]) {
        if (order.ok) order.detail = fmt::format("producer {}: offset {} after {} on partition {}", k, a.offset, last[a.partition], a.partition);
        order.ok = false;
      }
      last[a.partition] = a.offset;
    }
  }
  uint64_t dirty = 0;
  for (const auto& [at, value] : h.consumed) {
    auto final_value = log.find(at);
    const bool same = final_value != log.end() && final_value->second == value;
    if (same) continue;
    if (acked_offsets.count(at) != 0) {
      if (offsets.ok) offsets.detail = fmt::format("the consumer read '{}' at acknowledged offset {}-{}", value, at.first, at.second);
      offsets.ok = false;
    } else {
      ++dirty;
    }
  }
  std::map<std::string, int> copies;
  for (const auto& [at, value] : log) ++copies[value];
  uint64_t duplicates = 0;
  for (const auto& [value, n] : copies) duplicates += n > 1 ? 1 : 0;
  if (lost.ok) lost.detail = fmt::format("{} acknowledged records all present", acked);
  result.acked = acked;
  result.records = log.size();
  result.checks.push_back(lost);
  result.checks.push_back(offsets);
  result.checks.push_back(order);
  result.notes.push_back(fmt::format("{} sends failed or timed out (indeterminate); {} values duplicated by retries; "
                                     "{} reads of data later lost (served before the crash that lost it)",
                                     h.failed_sends, duplicates, dirty));
}

}  // namespace

DemoResult run_broker_scenario(const BrokerScenarioOptions& options) {
  Simulator sim(SimOptions{options.seed, options.log_level, true});
  History h;
  const NodeId broker = sim.add_node("broker", [](Runtime& rt) { broker_main(rt); });
  std::vector<NodeId> clients;
  for (int k = 1; k <= options.producers; ++k) {
    clients.push_back(sim.add_node(fmt::format("producer{}", k), [&h, k](Runtime& rt) { producer_main(rt, k, h); }));
  }
  clients.push_back(sim.add_node("consumer", [&h](Runtime& rt) { consumer_main(rt, h); }));
  for (const auto& [id, n] : sim.nodes()) sim.start(id);
  const Instant stop_at = sim.now() + options.fault_time;
  BrokerNemesis nemesis(sim, broker, clients, stop_at);
  nemesis.start();
  sim.run_until(stop_at);

  sim.network().heal_all();
  sim.node(broker).disk->clear_faults();
  if (!sim.up(broker) || sim.node(broker).main_finished) sim.restart(broker);
  std::map<int, size_t> acked_at_heal;
  for (int k = 1; k <= options.producers; ++k) acked_at_heal[k] = h.acked[k].size();
  sim.run_for(options.quiet_time);
  CheckVerdict live{"liveness", true, ""};
  for (int k = 1; k <= options.producers; ++k) {
    if (h.acked[k].size() == acked_at_heal[k]) {
      live.ok = false;
      live.detail = fmt::format("producer {} got no acknowledgement in {} ms after the faults healed", k, to_ms(options.quiet_time));
    }
  }
  nemesis.stop();
  for (NodeId c : clients) sim.crash(c);
  bool complete = false;
  const auto log = read_everything(sim, &complete);
  DemoResult result;
  check(h, log, result);
  result.checks.push_back(live);
  result.checks.push_back(CheckVerdict{"final-read", complete, complete ? "read every partition to its end" : "the final reader did not finish"});
  stamp_result(sim, options.seed, result);
  result.faults = nemesis.summary();
  return result;
}

}  // namespace samsa::sim
