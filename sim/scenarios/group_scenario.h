// The consumer-group scenario: the real broker, producers (workload.h) and group members built on
// samsa's GroupConsumer that process each record, then commit; plus a rogue client that commits
// with identities it saw earlier (older generations, members since removed), which the
// coordinator must refuse. The nemesis crashes, pauses (zombies that wake believing they still
// own partitions) and partitions members, and crashes, pauses and partitions the broker (the
// coordinator reloads from __consumer_offsets). After the faults the producers stop and the
// group must settle and work off its lag; then the broker's machine crashes once more and the
// committed offsets are read back. With `brokers` = 3 the same runs on a KRaft cluster: the
// nemesis also cuts brokers off from each other and crashes them (kill -9; no power loss
// during the run, so that at most one replica ever loses unsynced writes), and the final power
// loss hits whichever broker coordinates the group: its groups must come back from the replicas. Judged by the group checker (checkers/group_checker.h) and,
// over the members' polls, the queue checker.
//
// Threading: run_group_scenario() owns a Simulator and runs it on the calling thread.
#pragma once

#include "runtime/runtime.h"
#include "sim/scenarios/fault_script.h"
#include "sim/scenarios/nemesis.h"
#include "sim/checkers/verdict.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

struct GroupScenarioOptions {
  uint64_t seed = 1;
  int members = 3;
  // 0: the single broker. 3: a KRaft cluster of three combined nodes, where __consumer_offsets is
  // a replicated topic (replication factor 3, min.insync.replicas 2, a partition count drawn from
  // the seed), the data topic too, and the final power loss takes the group's coordinator.
  int brokers = 0;
  Duration fault_time = std::chrono::seconds(60);
  Duration quiet_time = std::chrono::seconds(30);
  LogLevel log_level = LogLevel::off;
  BugSet bugs;
  std::vector<Fault> faults;  // restricts the nemesis (empty: every kind the scenario has)
  int send_rate = 0;  // the producer's sends per second (0: the scenario's 5-60 ms pauses)
  TraceSink trace_sink;  // samsa-sim --trace: sees every traced record
  // Replays these nemesis decisions instead of using the drawn ones (fault_script.h).
  const std::vector<FaultEvent>* replay_events = nullptr;
};

RunResult run_group_scenario(const GroupScenarioOptions& options);

}  // namespace samsa::sim
