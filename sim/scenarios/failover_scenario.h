// The failover scenario (`samsa-sim --scenario failover`): how long acks=all producers wait when
// a partition's leader dies, measured in simulated time on the cluster scenario's test cluster
// (three combined nodes and a broker-only node, Kafka's default timeouts). Two producers write
// with acks=all to one partition with replication factor 3 and min.insync.replicas=2; `rounds`
// times, the partition's current leader is killed (kill -9, or a power loss) and restarted a few
// seconds later. For each round: the time from the kill to the first acknowledgement of a record
// sent after it (as experiments/run_replication_failover.sh measures on Linux). Then every
// acknowledged record must be read back at its offset (Jepsen's queue checks).
//
// Threading: run_failover_scenario() owns a Simulator and runs it on the calling thread.
#pragma once

#include <cstdint>

#include "controller/controller_config.h"
#include "runtime/planted_bugs.h"
#include "runtime/runtime.h"
#include "sim/checkers/verdict.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

struct FailoverOptions {
  uint64_t seed = 1;
  int rounds = 5;
  CrashKind kill = CrashKind::process;
  Duration round_time = std::chrono::seconds(25);  // from one kill to the next
  Duration down_time = std::chrono::seconds(3);    // the killed node restarts after this
  controller::ControllerBugs bugs;  // planted controller bugs (never-unfence stops failovers)
  BugSet node_bugs;                 // planted bugs of the nodes' own code
  LogLevel log_level = LogLevel::off;
  TraceSink trace_sink;  // samsa-sim --trace: sees every traced record
};

RunResult run_failover_scenario(const FailoverOptions& options);

}  // namespace samsa::sim
