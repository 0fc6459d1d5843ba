// The demo scenario that `samsa-sim --seed N` runs until the broker takes over: one log server
// (the FrameServer from src/net, appending checksummed records to a file with fsync before it
// acknowledges) and clients that send sequenced messages, while a seeded nemesis crashes and
// pauses nodes, partitions, clogs and resets the network and injects disk errors. Afterwards the
// server is crashed once more, recovers from its disk, and the checkers compare the log with
// what was acknowledged.
//
// Threading: run_demo() owns a Simulator and runs it to completion on the calling thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "sim/checkers/verdict.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

struct DemoOptions {
  uint64_t seed = 1;
  int clients = 2;
  Duration fault_time = std::chrono::seconds(60);
  Duration quiet_time = std::chrono::seconds(20);
  // A deliberate bug for showing that the checkers catch lost writes: acknowledge before fsync.
  bool bug_ack_before_sync = false;
  LogLevel log_level = LogLevel::warn;
  TraceSink trace_sink;  // samsa-sim --trace: sees every traced record
};

RunResult run_demo(const DemoOptions& options);

}  // namespace samsa::sim
