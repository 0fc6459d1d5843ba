// The consumer-group scenario: the real broker, a producer (acks=all) and group members built
// on samsa's GroupConsumer, which process each record and then commit. A seeded nemesis crashes
// and restarts members, pauses them past their session timeout (zombies that wake believing
// they still own partitions), partitions them from the broker, and crashes the broker (the
// coordinator reloads from __consumer_offsets). Checks:
// - exclusive-ownership: within a generation, no partition is assigned to two members (as the
//   coordinator handed out the assignment in SyncGroup);
// - monotonic-commits: acknowledged commits of a partition never go backwards;
// - at-least-once: after the faults heal and the group works off its lag, every acknowledged
//   record has been processed.
#pragma once

#include "sim/demo_scenario.h"

namespace samsa::sim {

struct GroupScenarioOptions {
  uint64_t seed = 1;
  int members = 3;
  Duration fault_time = std::chrono::seconds(60);
  Duration quiet_time = std::chrono::seconds(30);
  LogLevel log_level = LogLevel::off;
};

DemoResult run_group_scenario(const GroupScenarioOptions& options);

}  // namespace samsa::sim
