// One seed of a scenario as samsa-sim's flags describe it: which scenario to run with which
// options, the verdict printed as samsa-sim prints it, and the command that replays the seed.
// Shared by samsa-sim's single runs, its campaigns (runner.h) and its planted-bug table.
//
// Plain functions; each run owns its Simulator on the calling thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "sim/checkers/verdict.h"
#include "sim/checkers/watch.h"
#include "sim/scenarios/fault_script.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

// samsa-sim's flags that shape a run (defaults as samsa-sim's).
struct RunOptions {
  std::string scenario = "broker";
  uint64_t seed = 1;
  uint64_t seeds = 1;
  int producers = 2;
  int clients = 2;
  int members = 3;
  int brokers = 0;  // groups scenario: 0 single broker, 3 a KRaft cluster
  int64_t fault_ms = 60'000;
  int64_t quiet_ms = -1;  // scenario default
  int voters = 0, raft_batch = 0, raft_pause_ms = -1;  // raft scenario
  int rounds = 5;                                       // failover scenario
  bool power_loss = false;                              // failover scenario
  std::string schedule = "random";
  std::vector<std::string> bugs;
  std::vector<std::string> pins;
  std::vector<std::string> faults;
  bool verbose = false;
  bool brief = false;
  int send_rate = 0;  // cluster, broker, groups: each producer's sends per second (0: drawn)
  int cluster_brokers = 0;            // cluster scenario: 0 = the seed draws the shape
  bool separate_controllers = false;  // cluster scenario with cluster_brokers: controller-only quorum
  TraceSink trace_sink;  // --trace / --trace-json: every traced record of the run
  const RunWatch* watch = nullptr;  // --timeline: what the scenario shows (the cluster scenario's replicas, clients)
  // --replay: the nemesis' decisions to use instead of its draws (cluster, broker, groups).
  const std::vector<FaultEvent>* replay_events = nullptr;
};

RunResult run_one(const RunOptions& o, uint64_t seed, LogLevel level);
// Whether the scenario's producers take --send-rate (cluster, broker, groups).
bool takes_send_rate(const std::string& scenario);
// samsa-sim's flags of the run that differ from the defaults (flag, value; value empty for a
// switch), beyond --scenario and --seed.
std::vector<std::pair<std::string, std::string>> option_flags(const RunOptions& o);
// "samsa-sim --scenario ... --seed N ...   # commit C": every flag that differs from the default.
std::string replay_command(const RunOptions& o, uint64_t seed);
// The commit samsa-sim was built from (as replay commands name it).
const char* build_commit();
// The multi-line verdict: settings, faults, each check, notes, buggify, trace hash, replay line.
std::string format_run(const RunOptions& o, const RunResult& r);

}  // namespace samsa::sim
