// The main of a simulated KRaft node (src/server's Node) and the registry through which the
// cluster scenarios see the running incarnation of each node. Shared by the cluster scenario and
// the failover scenario.
//
// Threading: cluster_node_main runs on the node's own fiber; the registry is read by the
// scenario's driver between simulator steps (one thread).
#pragma once

#include <cstdint>
#include <map>

#include "runtime/runtime.h"
#include "server/node.h"
#include "server/node_config.h"

namespace samsa::sim {

// Each live node's Node, set once it started and cleared when its main unwinds (a crash too).
struct ClusterRegistry {
  std::map<int32_t, server::Node*> live;
};

// The metadata image of the live node that applied the most of the metadata log, or nullptr.
const controller::MetadataImage* most_applied_image(const ClusterRegistry& registry);

// Starts the node, registers it, runs until it fails or is crashed, and stops it. `config` and
// `registry` must outlive the node (declare them before the Simulator).
void cluster_node_main(Runtime& rt, const server::NodeConfig& config, ClusterRegistry& registry);

}  // namespace samsa::sim
