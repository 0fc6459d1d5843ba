// The broker scenario (samsa-sim's default): the real samsa broker (flush.messages=1) on one
// node, producers with acks=all and a consumer on others, all through samsa's client library,
// while a seeded nemesis crashes and restarts the broker (its disk losing or tearing unsynced
// writes), partitions, clogs and resets the network, and fails fsyncs. Afterwards a fresh consumer
// reads every partition from the start and the checkers compare that with the history:
// - lost-write: every acknowledged record is in the log at its acknowledged offset;
// - inconsistent-offsets: no offset holds another value than the one acknowledged there, and
//   the consumer never read another value at an acknowledged offset;
// - nonmonotonic-send: a producer's acknowledged offsets per partition only increase;
// - liveness: every producer is acknowledged again once the faults heal.
// Duplicates (retries of a non-idempotent producer) and reads of data later lost (the single
// broker serves what it appended before syncing) are reported, as Kafka allows both here.
//
// Threading: run_broker_scenario() owns a Simulator and runs it on the calling thread.
#pragma once

#include "sim/demo_scenario.h"

namespace samsa::sim {

struct BrokerScenarioOptions {
  uint64_t seed = 1;
  int producers = 2;
  Duration fault_time = std::chrono::seconds(60);
  Duration quiet_time = std::chrono::seconds(20);
  LogLevel log_level = LogLevel::error;
};

DemoResult run_broker_scenario(const BrokerScenarioOptions& options);

}  // namespace samsa::sim
