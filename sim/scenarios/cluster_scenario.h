// The cluster scenario (`samsa-sim --scenario cluster`): a KRaft cluster of real samsa nodes
// (src/server's Node) in the simulator — 3 to 5 brokers, the metadata quorum's three voters on
// three of them (combined roles) or on three controller-only nodes, as the seed draws — and an
// admin client that creates topics (1-3 partitions, replication factor 1-3) and deletes some,
// through any broker (so through the forwarding to the active controller); with the data plane,
// producers and consumers on replicated topics (cluster_data.h). A seeded nemesis crashes nodes (machine
// crashes that lose unsynced writes; the active controller too), restarts them in any order,
// pauses them, isolates one, cuts a path one way, clogs paths and resets connections, and
// gives one node's disk a window of EIO (a failed fsync drops that file's unsynced writes, and
// the node halts as Kafka's broker does on a failed log dir), of a full disk or of a slow one. After
// every simulator step, ControllerChecker looks at the image each node applied from the
// metadata log; after the faults heal, every broker must be unfenced and a topic creation must
// succeed within a bound; at the end every acknowledged creation and deletion must hold.
//
// Threading: run_cluster_scenario() owns a Simulator and runs it on the calling thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controller/controller_config.h"
#include "runtime/planted_bugs.h"
#include "runtime/runtime.h"
#include "server/node_config.h"
#include "sim/scenarios/cluster_schedules.h"
#include "sim/checkers/verdict.h"
#include "sim/checkers/watch.h"
#include "sim/scenarios/fault_script.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

// The scenario's cluster shape, drawn from the seed: 3 to 5 brokers (ids 1..brokers), and the
// metadata quorum's three voters either on brokers 1-3 (combined roles, Kafka's small-cluster
// setup) or on three controller-only nodes (ids 101-103, Kafka's production setup). Every
// broker serves clients on cluster_host(id):9092, every controller listens on :9093; data in /data.
struct ClusterTopology {
  int32_t brokers = 4;
  bool separate_controllers = false;

  static constexpr int32_t kBrokersMin = 3, kBrokersMax = 5;
  static constexpr int32_t kVoters = 3;
  static constexpr int32_t kFirstControllerOnlyId = 101;
  std::vector<int32_t> voters() const;
  std::vector<int32_t> node_ids() const;  // brokers, then controller-only nodes
  bool is_broker(int32_t id) const { return id >= 1 && id <= brokers; }
  bool is_voter(int32_t id) const { return id >= first_voter() && id < first_voter() + kVoters; }
  int32_t first_voter() const { return separate_controllers ? kFirstControllerOnlyId : 1; }
  std::string describe() const;
};

// For tests that build their own cluster on a Simulator: nodes 1-3 combined, node 4 broker-only.
inline constexpr ClusterTopology kClusterTestTopology{4, false};
inline constexpr int32_t kClusterCombinedNodes = 3;
inline constexpr int32_t kClusterBrokerOnlyNode = 4;
inline constexpr uint16_t kClusterBrokerPort = 9092;
inline constexpr uint16_t kClusterControllerPort = 9093;
std::string cluster_host(int32_t id);
server::NodeConfig cluster_node_config(int32_t id, const ClusterTopology& topology, const controller::ControllerBugs& bugs);
inline server::NodeConfig cluster_node_config(int32_t id, const controller::ControllerBugs& bugs) {
  return cluster_node_config(id, kClusterTestTopology, bugs);
}

struct ClusterScenarioOptions {
  uint64_t seed = 1;
  Duration fault_time = std::chrono::seconds(40);
  Duration quiet_time = std::chrono::seconds(40);
  Duration liveness_bound = std::chrono::seconds(30);  // brokers unfenced, a creation acknowledged
  bool faults = true;
  // A scripted schedule (cluster_schedules.h) in place of the random nemesis: the cluster, its
  // topics and the faults are the schedule's; the faults phase lasts until it has played out.
  ClusterSchedule schedule = ClusterSchedule::random;
  // Producers and consumers on replicated topics (sim/scenarios/cluster_data.h); off, only the
  // admin's topic creations and deletions run (the controller's checks, much faster).
  bool data_plane = true;
  int send_rate = 0;  // the producers' sends per second each (0: drawn from the seed)
  std::optional<ClusterTopology> topology;  // unset: drawn from the seed
  controller::ControllerBugs bugs;
  BugSet node_bugs;  // planted bugs of the nodes' own code (Kafka's historical replication bugs)
  LogLevel log_level = LogLevel::off;
  TraceSink trace_sink;  // samsa-sim --trace: sees every traced record
  const RunWatch* watch = nullptr;  // samsa-sim --timeline: nodes, replicas, client histories
  // Replays these nemesis decisions instead of using the drawn ones (fault_script.h).
  const std::vector<FaultEvent>* replay_events = nullptr;
};

RunResult run_cluster_scenario(const ClusterScenarioOptions& options);

}  // namespace samsa::sim
