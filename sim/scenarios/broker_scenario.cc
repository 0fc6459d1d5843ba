#include "sim/scenarios/broker_scenario.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

#include "broker/broker.h"
#include "log/record_batch.h"
#include "util/endian.h"
#include "sim/scenarios/accounting.h"
#include "sim/scenarios/nemesis.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/scenarios/workload.h"

namespace samsa::sim {

namespace {

const Address kBroker{"broker", 9092};
const std::string kBrokerDataDir = "data";

// After the end-of-run torn crash, time for the broker to recover and the consumers to read on.
constexpr Duration kTornTailReadTime = std::chrono::seconds(8);

constexpr Fault kBrokerFaults[] = {
    Fault::machine_crash, Fault::process_crash, Fault::pause_server, Fault::partition,    Fault::one_way,
    Fault::clog,          Fault::swizzle_clog,  Fault::reset,        Fault::lose_and_reset, Fault::latency,
    Fault::disk_eio,      Fault::disk_full,     Fault::slow_disk,    Fault::bit_flip,     Fault::bad_sector,
    Fault::misdirected_write, Fault::clock_jump, Fault::clock_drift, Fault::crash_client, Fault::pause_client,
};

// The broker's settings for this seed: configurations nobody wrote down get tested.
broker::BrokerConfig draw_config(Simulator& sim) {
  broker::BrokerConfig c;
  c.listener = kBroker;
  c.log_dir = kBrokerDataDir;
  c.auto_create_topics = false;
  static constexpr uint64_t kSegmentBytes[] = {4096, 16 * 1024, 64 * 1024, 1 << 20};
  c.log.segment_bytes = kSegmentBytes[sim.in_range(0, 3)];
  if (sim.chance(3, 5)) {
    c.log.flush_messages = 1;  // acknowledged means synced
  } else {
    c.log.flush_messages = sim.chance(1, 2) ? std::numeric_limits<int64_t>::max() : sim.in_range(2, 100);
    c.log.flush_ms = sim.chance(1, 2) ? std::numeric_limits<int64_t>::max() : sim.in_range(10, 2000);
  }
  static constexpr uint32_t kIndexInterval[] = {64, 4096, 65536};
  c.log.index_interval_bytes = kIndexInterval[sim.in_range(0, 2)];
  c.log.max_batch_bytes = sim.chance(1, 2) ? 64 * 1024 : 1024 * 1024 + 12;
  c.message_max_bytes = static_cast<int32_t>(c.log.max_batch_bytes);
  return c;
}

std::vector<std::string> describe(const broker::BrokerConfig& c) {
  auto num = [](int64_t v) { return v == std::numeric_limits<int64_t>::max() ? std::string("off") : std::to_string(v); };
  return {fmt::format("segment.bytes={} index.interval.bytes={} message.max.bytes={}", c.log.segment_bytes,
                      c.log.index_interval_bytes, c.log.max_batch_bytes),
          fmt::format("flush.messages={} flush.ms={}", num(c.log.flush_messages), num(c.log.flush_ms))};
}

// With acks before fsync allowed, a power loss may take what was acknowledged but not synced:
// exactly the records past each partition's durable prefix right now.
// `partition` -1: every partition (a power loss); else the one whose file lost its pages.
void account_unsynced_loss(Simulator& sim, NodeId broker, const broker::BrokerConfig& c, const WorkloadProfile& w,
                           QueueHistory& h, const char* what, int32_t partition) {
  if (c.log.flush_messages == 1) return;  // acknowledged means synced: nothing may be lost
  const std::string policy = c.log.flush_messages == std::numeric_limits<int64_t>::max() ? std::string("off")
                                                                                         : std::to_string(c.log.flush_messages);
  const std::string fault = fmt::format("{} at {:.3f} s with flush.messages={}", what, sim.now().ns / 1e9, policy);
  const bool dropped_pages = partition >= 0;  // one file's failed fsync, not a power loss
  for (int32_t p = 0; p < w.partitions; ++p) {
    if (partition >= 0 && p != partition) continue;
    const int64_t end = durable_log_end(*sim.node(broker).disk, fmt::format("{}/{}-{}", kBrokerDataDir, w.topic, p));
    h.risks.push_back(RiskWindow{fault, sim.now(), p, end, dropped_pages});
  }
}

// The partition a file under "data/<topic>-<p>/" belongs to, or -1.
int32_t partition_of(const std::string& path, const WorkloadProfile& w) {
  const std::string prefix = fmt::format("{}/{}-", kBrokerDataDir, w.topic);
  if (path.compare(0, prefix.size(), prefix) != 0) return -1;
  return std::atoi(path.c_str() + prefix.size());
}

}  // namespace

bool apply_pins(const std::vector<std::string>& pins, broker::BrokerConfig& c, WorkloadProfile& w, std::string* error) {
  for (const std::string& pin : pins) {
    const size_t eq = pin.find('=');
    const std::string key = pin.substr(0, eq);
    int64_t v = 0;
    const char* digits = eq == std::string::npos ? pin.c_str() + pin.size() : pin.c_str() + eq + 1;
    auto [end, ec] = std::from_chars(digits, pin.c_str() + pin.size(), v);
    if (eq == std::string::npos || ec != std::errc{} || end != pin.c_str() + pin.size() || v <= 0) {
      *error = "bad pin '" + pin + "': want key=positive integer";
      return false;
    }
    if (key == "log.flush.interval.messages") c.log.flush_messages = v;
    else if (key == "log.flush.interval.ms") c.log.flush_ms = v;
    else if (key == "log.segment.bytes") c.log.segment_bytes = static_cast<uint64_t>(v);
    else if (key == "log.index.interval.bytes") c.log.index_interval_bytes = static_cast<uint32_t>(v);
    else if (key == "message.max.bytes") c.message_max_bytes = static_cast<int32_t>(c.log.max_batch_bytes = static_cast<uint32_t>(v));
    else if (key == "partitions") w.partitions = static_cast<int32_t>(v);
    else if (key == "disk.sync.latency.ms") c.log.recovery_checkpoint_interval = c.log.recovery_checkpoint_interval;  // applied to the disk
    else if (key == "records.per.send.max") w.records_max = static_cast<int>(v);
    else {
      *error = "cannot pin '" + key + "'";
      return false;
    }
  }
  return true;
}

RunResult run_broker_scenario(const BrokerScenarioOptions& o) {
  Simulator sim(SimOptions{o.seed, o.log_level, true, o.bugs, o.trace_sink});
  broker::BrokerConfig config = draw_config(sim);
  WorkloadProfile w = WorkloadProfile::draw(sim, {kBroker}, static_cast<int32_t>(sim.in_range(1, 4)),
                                            static_cast<uint32_t>(config.log.max_batch_bytes));
  std::string pin_error;
  SAMSA_ASSERT_MSG(apply_pins(o.pins, config, w, &pin_error), "pins are checked by the caller");
  w.pace(o.send_rate);
  w.batch_bytes_max = static_cast<uint32_t>(config.log.max_batch_bytes);
  QueueHistory h;
  h.partitions = w.partitions;
  const NodeId broker = sim.add_node("broker", [&config](Runtime& rt) { single_broker_main(rt, config); });
  for (const std::string& pin : o.pins) {
    if (pin.rfind("disk.sync.latency.ms=", 0) != 0) continue;
    const Duration sync = std::chrono::milliseconds(std::atoll(pin.c_str() + pin.find('=') + 1));
    sim.node(broker).disk->config().sync_latency_min = sync / 2;
    sim.node(broker).disk->config().sync_latency_max = sync;
  }
  std::vector<NodeId> clients;
  for (int k = 1; k <= o.producers; ++k) {
    clients.push_back(sim.add_node(fmt::format("producer{}", k), [&w, &h, k](Runtime& rt) { producer_main(rt, w, k, h); }));
    h.producers.push_back(k);
  }
  clients.push_back(sim.add_node("raw-producer", [&w, &h](Runtime& rt) { raw_producer_main(rt, w, 100, h); }));
  h.producers.push_back(100);
  for (int k = 0; k < 2; ++k) {
    clients.push_back(sim.add_node(fmt::format("consumer{}", k), [&w, &h, k](Runtime& rt) { consumer_main(rt, w, 200 + k, h); }));
    h.ordered_consumers.push_back(200 + k);
  }
  clients.push_back(sim.add_node("odd-fetcher", [&w, &h](Runtime& rt) { odd_fetcher_main(rt, w, 300, h); }));
  for (const auto& [id, n] : sim.nodes()) sim.start(id);

  NemesisTargets targets{{broker}, clients, fmt::format("{}/{}-", kBrokerDataDir, w.topic),
                         [&](NodeId b) { account_unsynced_loss(sim, b, config, w, h, "power loss", -1); }};
  sim.node(broker).disk->on_failed_sync([&](const std::string& path) {
    const int32_t p = partition_of(path, w);
    if (p >= 0) account_unsynced_loss(sim, broker, config, w, h, "fsync failure", p);
  });
  const std::vector<Fault> allowed = o.faults.empty() ? std::vector<Fault>(std::begin(kBrokerFaults), std::end(kBrokerFaults)) : o.faults;
  Nemesis nemesis(sim, targets, NemesisPlan::draw(sim, allowed), sim.now() + o.fault_time, o.replay_events);
  nemesis.start();
  sim.run_until(sim.now() + o.fault_time);
  nemesis.heal();
  h.healed = sim.now();
  h.live_from = sim.now() + std::chrono::seconds(10);  // room for recovery after a crash
  h.live_until = sim.now() + o.quiet_time;
  sim.run_until(h.live_until);
  // Every seed has a power loss that keeps the unsynced tail's length but not all of its data (the
  // last write of each file has a sector of zeros) while the clients still run and read what
  // recovery kept: recovery must validate every batch it keeps, the last one too.
  sim.node(broker).disk->force_next_crash_mode(CrashMode::size_without_data);
  nemesis.crash_server(broker, CrashKind::machine);
  sim.start(broker);
  sim.run_until(sim.now() + kTornTailReadTime);
  for (NodeId c : clients) sim.crash(c);
  nemesis.retire();
  // Every seed ends with a power loss that keeps nothing unsynced: the strictest test of what
  // was acknowledged (torn writes are the business of the crashes during the run).
  sim.node(broker).disk->force_next_crash_mode(CrashMode::lose_all);
  nemesis.crash_server(broker, CrashKind::machine);
  sim.start(broker);
  final_read(sim, w, h, std::chrono::seconds(120));
  if (const char* dump = std::getenv("SAMSA_DUMP_DIR")) {
    for (const std::string& path : sim.node(broker).disk->files_with_prefix(dump)) {
      Result<std::vector<std::byte>> data = sim.node(broker).disk->current_contents(path);
      fmt::print(stderr, "{} {} bytes\n", path, data.ok() ? data->size() : 0);
      if (data.ok() && path.find(".index") != std::string::npos) {
        for (size_t at = 0; at + 8 <= data->size(); at += 8) {
          fmt::print(stderr, "  idx rel {} pos {}\n", get_u32_be(&(*data)[at]), get_u32_be(&(*data)[at + 4]));
        }
      }
      if (!data.ok() || path.find(".log") == std::string::npos) continue;
      for (size_t at = 0; data->size() - at >= kBatchHeaderBytes;) {
        Result<BatchHeader> bh = parse_batch_header(ConstBytes(*data).subspan(at));
        if (!bh.ok()) { fmt::print(stderr, "  bad header at {}\n", at); break; }
        fmt::print(stderr, "  @{} base {} last {} len {}\n", at, bh->base_offset, bh->last_offset(), bh->total_bytes());
        at += bh->total_bytes();
      }
    }
  }
  for (const RiskWindow& r : damage_windows(*sim.node(broker).disk, kBrokerDataDir, w.topic)) h.risks.push_back(r);

  // Debugging aid: SAMSA_SEND_TRACE=<value tag, e.g. p1-145> prints the sends holding it.
  if (const char* tag = std::getenv("SAMSA_SEND_TRACE")) {
    for (const SendRecord& s : h.sends) {
      if (std::find(s.values.begin(), s.values.end(), std::string(tag)) == s.values.end()) continue;
      fmt::print(stderr, "send p{} part {} invoked {:.3f} completed {:.3f} outcome {} n {} retried {} offsets {}\n", s.producer,
                 s.partition, s.invoked.ns / 1e9, s.completed.ns / 1e9, static_cast<int>(s.outcome), s.values.size(),
                 s.retried_after_ambiguous, fmt::join(s.offsets, ","));
    }
  }
  RunResult result;
  result.scenario = "broker";
  if (o.watch != nullptr && o.watch->history) o.watch->history("broker", h);
  if (o.watch != nullptr && o.watch->node) {
    for (const auto& [n, node] : sim.nodes()) o.watch->node(n.value, node.host, -1);
  }
  result.checks = check_queue(h);
  for (const SendRecord& s : h.sends) result.acked += s.outcome == SendRecord::Outcome::ok ? s.values.size() : 0;
  result.records = h.final_read.size();
  result.settings = describe(config);
  for (const std::string& s : w.describe()) result.settings.push_back(s);
  for (const std::string& s : nemesis.plan().describe()) result.settings.push_back(s);
  result.faults = nemesis.summary();
  result.schedule = nemesis.schedule();
  stamp_result(sim, o.seed, result);
  return result;
}

}  // namespace samsa::sim
