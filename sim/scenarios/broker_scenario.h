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
#include "runtime/runtime.h"
#include "sim/checkers/verdict.h"

namespace samsa::sim {

struct BrokerScenarioOptions {
  uint64_t seed = 1;
  int producers = 2;
  Duration fault_time = std::chrono::seconds(60);
  Duration quiet_time = std::chrono::seconds(20);
  LogLevel log_level = LogLevel::error;
  BugSet bugs;
  // Pins some of the swarm's choices, with Kafka's property names ("log.flush.interval.messages=1",
  // log.segment.bytes, log.index.interval.bytes, message.max.bytes, log.flush.interval.ms). Applied
  // straight to the simulated broker's settings, bypassing the bounds a real broker enforces, so
  // that simulations can use tiny segments.
  std::vector<std::string> pins;
};

// Applies pins to a broker config; false (and a message) for an unknown key or bad value.
bool apply_pins(const std::vector<std::string>& pins, broker::BrokerConfig& config, std::string* error);

RunResult run_broker_scenario(const BrokerScenarioOptions& options);

}  // namespace samsa::sim
