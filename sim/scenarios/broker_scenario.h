// The broker scenario (samsa-sim's default): the real samsa broker on one node, with settings
// the seed draws (segment size, flush policy, index interval, message size limit), and clients
// through samsa's client library: producers sending batches of many records (varied sizes, keys,
// headers, compression), a misbehaving producer that re-sends the very same request, consumers
// that keep every poll, and a client fetching at odd offsets. A seeded nemesis injects every
// fault the simulated world has (nemesis.h). After the faults heal and a quiet period, the
// broker's machine crashes once more (every seed tests durability), recovers, and a final read
// takes every partition from start to end. The queue checker (checkers/queue_checker.h) judges
// the history; losses the configuration allows (acks before fsync, then power loss) and damage
// from destructive disk faults are accounted for exactly and reported apart.
//
// Threading: run_broker_scenario() owns a Simulator and runs it on the calling thread.
#pragma once

#include "broker/broker_config.h"
#include "sim/checkers/watch.h"
#include "sim/scenarios/fault_script.h"
#include "sim/scenarios/nemesis.h"
#include "sim/scenarios/workload.h"
#include "runtime/runtime.h"
#include "sim/checkers/verdict.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

struct BrokerScenarioOptions {
  uint64_t seed = 1;
  int producers = 2;
  Duration fault_time = std::chrono::seconds(60);
  Duration quiet_time = std::chrono::seconds(20);
  LogLevel log_level = LogLevel::error;
  BugSet bugs;
  // Pins some of the swarm's choices: the broker's, with Kafka's property names
  // ("log.flush.interval.messages=1", log.segment.bytes, log.index.interval.bytes,
  // message.max.bytes, log.flush.interval.ms), applied straight to the simulated broker's settings
  // (bypassing the bounds a real broker enforces, so simulations can use tiny segments); and the
  // workload's: partitions, records.per.send.max; and the broker's disk: disk.sync.latency.ms.
  std::vector<std::string> pins;
  // Restricts the nemesis to these fault kinds (empty: every kind the scenario has).
  std::vector<Fault> faults;
  int send_rate = 0;  // the producers' sends per second each (0: drawn from the seed)
  TraceSink trace_sink;  // samsa-sim --trace: sees every traced record
  const RunWatch* watch = nullptr;  // samsa-sim --timeline: node names and the clients' history
  // Replays these nemesis decisions instead of using the drawn ones (fault_script.h).
  const std::vector<FaultEvent>* replay_events = nullptr;
};

// Applies pins; false (and a message) for an unknown key or a bad value.
bool apply_pins(const std::vector<std::string>& pins, broker::BrokerConfig& config, WorkloadProfile& workload,
                std::string* error);

RunResult run_broker_scenario(const BrokerScenarioOptions& options);

}  // namespace samsa::sim
