// The cluster scenario (`samsa-sim --scenario cluster`): a KRaft cluster of real samsa nodes
// (src/server's Node) in the simulator — three with combined roles (voters of the metadata
// quorum, brokers too) and one broker-only node (an observer) — and an admin client that creates
// topics (1-3 partitions, replication factor 1-3) and deletes some, through any broker (so
// through the forwarding to the active controller). A seeded nemesis crashes nodes (machine
// crashes that lose unsynced writes; the active controller too), restarts them in any order,
// pauses them, isolates one, cuts a path one way, clogs paths and resets connections. After
// every simulator step, ControllerChecker looks at the image each node applied from the
// metadata log; after the faults heal, every broker must be unfenced and a topic creation must
// succeed within a bound; at the end every acknowledged creation and deletion must hold.
//
// Threading: run_cluster_scenario() owns a Simulator and runs it on the calling thread.
#pragma once

#include "controller/controller_config.h"
#include "runtime/planted_bugs.h"
#include "runtime/runtime.h"
#include "server/node_config.h"
#include "sim/checkers/verdict.h"

namespace samsa::sim {

// The scenario's cluster, for tests that build their own on a Simulator: nodes 1-3 combined
// (voters, controllers on host_of(id):9093), node 4 broker-only; every broker serves clients on
// host_of(id):9092 and keeps its data in /data; metadata snapshots are small and frequent.
inline constexpr int32_t kClusterCombinedNodes = 3;
inline constexpr int32_t kClusterBrokerOnlyNode = 4;
inline constexpr uint16_t kClusterBrokerPort = 9092;
inline constexpr uint16_t kClusterControllerPort = 9093;
std::string cluster_host(int32_t id);
server::NodeConfig cluster_node_config(int32_t id, const controller::ControllerBugs& bugs);

struct ClusterScenarioOptions {
  uint64_t seed = 1;
  Duration fault_time = std::chrono::seconds(40);
  Duration quiet_time = std::chrono::seconds(40);
  Duration liveness_bound = std::chrono::seconds(30);  // brokers unfenced, a creation acknowledged
  bool faults = true;
  // Producers and consumers on replicated topics (sim/scenarios/cluster_data.h); off, only the
  // admin's topic creations and deletions run (the controller's checks, much faster).
  bool data_plane = true;
  controller::ControllerBugs bugs;
  BugSet node_bugs;  // planted bugs of the nodes' own code (Kafka's historical replication bugs)
  LogLevel log_level = LogLevel::off;
};

RunResult run_cluster_scenario(const ClusterScenarioOptions& options);

}  // namespace samsa::sim
