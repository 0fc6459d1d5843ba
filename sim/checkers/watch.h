// What a run shows an onlooker besides its trace (samsa-sim --timeline): what each simulator
// node is, every live replica after each step that changed one, and the clients' recorded
// histories when the run ends. Scenarios call what is set; an unset function costs nothing.
// Watching never changes the run (no draws, no scheduling).
//
// Plain value of callbacks; scheduler context (the scenario's own thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/time.h"
#include "sim/checkers/queue_checker.h"
#include "sim/checkers/replication_checker.h"

namespace samsa::sim {

struct RunWatch {
  // Simulator node `sim_node` is `name`; `broker_id` is its Kafka node.id (-1: not a broker),
  // the id ReplicaView::node carries.
  std::function<void(int32_t sim_node, const std::string& name, int32_t broker_id)> node;
  std::function<void(Instant now, const std::vector<ReplicaView>& views)> replicas;
  // One client history (`label`: which topic or workload) as the checker judged it.
  std::function<void(const std::string& label, const QueueHistory& history)> history;
};

}  // namespace samsa::sim
