// The main of a simulated KRaft node (src/server's Node) and the registry through which the
// cluster scenarios see the running incarnation of each node. Shared by the cluster scenario and
// the failover scenario.
//
// Threading: cluster_node_main runs on the node's own fiber; the registry is read by the
// scenario's driver between simulator steps (one thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "runtime/runtime.h"
#include "server/node.h"
#include "server/node_config.h"

namespace samsa::sim {

// How a node stopped by SIGTERM left: what its own metadata showed once its shutdown returned.
struct ShutdownRecord {
  int32_t node = -1;
  Instant at{};
  size_t still_leading = 0;  // partitions its image still named it leader of
  bool fenced = false;
};

// Each live node's Node, set once it started and cleared when its main unwinds (a crash too).
struct ClusterRegistry {
  std::map<int32_t, server::Node*> live;
  // SIGTERM: with `sigterm_armed` (set before the nodes start) each node's main looks every
  // kSigtermPoll for its id in `sigterm` and then shuts down as `samsa broker` does on SIGTERM
  // (Node::shutdown: a controlled shutdown first), recording how it left. Unarmed, a node's main
  // only waits for failure (the random scenarios' traces do not change).
  static constexpr Duration kSigtermPoll = std::chrono::milliseconds(100);
  bool sigterm_armed = false;
  std::set<int32_t> sigterm;
  std::vector<ShutdownRecord> shutdowns;
  uint64_t disk_halts = 0;  // nodes that halted on a disk error (a failed log or metadata log)
  // A node halted having forgotten its broker epoch (a failed fsync may have lost writes): it
  // registers again as after a power loss, and the controller trusts none of its replicas
  // (KIP-966), so for the checker every replica on it lost power. Called once per incarnation:
  // when the halt begins if the loss is known then, else once it stopped (or shut down), as a
  // failure of its last flush also makes the stop forget the epoch.
  std::function<void(int32_t node)> on_unclean_halt;
};

// The metadata image of the live node that applied the most of the metadata log, or nullptr.
const controller::MetadataImage* most_applied_image(const ClusterRegistry& registry);

// Starts the node, registers it, runs until it fails or is crashed, and stops it. `config` and
// `registry` must outlive the node (declare them before the Simulator).
void cluster_node_main(Runtime& rt, const server::NodeConfig& config, ClusterRegistry& registry);

}  // namespace samsa::sim
