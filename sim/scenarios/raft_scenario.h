// The raft scenario (`samsa-sim --scenario raft`): the metadata quorum of src/raft on 3 or 5
// voters (the seed picks) and one observer, each node a simulated machine with its own disk,
// running RaftClient over the network transport behind a FrameServer. On whichever node leads,
// a writer (the controller's stand-in) appends batches of records. A seeded nemesis crashes
// nodes (their disks losing or tearing unsynced writes) and restarts them in any order, pauses
// them, partitions the network (one node, halves, one way), clogs paths and resets connections.
// RaftChecker checks the safety properties at every step that changed a node's state; after the
// faults stop and everything heals, liveness asks for a leader and a newly committed record
// within a bound.
//
// Threading: run_raft_scenario() owns a Simulator and runs it on the calling thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "raft/raft_config.h"
#include "sim/checkers/raft_checker.h"
#include "sim/scenarios/fault_script.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

struct RaftScenarioOptions {
  uint64_t seed = 1;
  Duration fault_time = std::chrono::seconds(30);
  Duration quiet_time = std::chrono::seconds(20);
  Duration liveness_bound = std::chrono::seconds(15);  // leader and a new commit after healing
  int voters = 0;                 // 0: the seed picks 3 or 5
  bool faults = true;
  int writer_batch_records = 0;   // 0: 1-3 per batch (seeded)
  int writer_pause_ms = -1;       // -1: 2-30 ms between appends (seeded)
  // random: the seeded nemesis. figure8: a scripted schedule on 3 voters (Raft paper, figure 8)
  // where committing an older epoch's entries by counting replicas loses them: isolate the
  // leader A while it appends; isolate the next leader B at once; let A win again and crash it
  // as soon as something new commits; let B win. Correct Raft commits nothing there too early.
  // failover: no other faults; every 8 s the leader is crashed (and restarted 2 s later), to
  // measure the time from a leader's crash to the next leader.
  enum class Schedule { random, figure8, failover } schedule = Schedule::random;
  raft::RaftBugs bugs;
  LogLevel log_level = LogLevel::off;
  TraceSink trace_sink;  // samsa-sim --trace: sees every traced record
  // Replays these nemesis decisions instead of using the drawn ones (fault_script.h).
  const std::vector<FaultEvent>* replay_events = nullptr;
};

struct RaftScenarioResult {
  uint64_t seed = 0;
  uint64_t trace_hash = 0;
  Instant end_time{};
  uint64_t steps = 0;
  int voters = 0;
  std::vector<std::string> faults;
  std::vector<std::string> schedule;  // the random nemesis' decisions as replay-file lines
  std::vector<RaftVerdict> verdicts;  // safety, then liveness
  std::vector<std::string> notes;
  std::map<std::string, std::pair<bool, uint64_t>> buggify;  // site -> (enabled, times fired)
  // Measurements.
  std::vector<int64_t> failover_ms;   // leader crashed -> another node leads
  uint64_t committed_batches = 0;
  uint64_t committed_records = 0;
  double committed_records_per_s = 0;  // simulated time, whole run
  int32_t max_epoch = 0;

  bool ok() const;
};

RaftScenarioResult run_raft_scenario(const RaftScenarioOptions& options);
// Prints the result the way samsa-sim prints every scenario.
void print_raft_result(const RaftScenarioResult& result);

}  // namespace samsa::sim
