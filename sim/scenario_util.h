// Pieces every simulator scenario shares: client settings suited to a faulty simulated network,
// and filling a result's run summary from the simulator.
#pragma once

#include <string>

#include "client/cluster.h"
#include "sim/demo_scenario.h"
#include "sim/simulator.h"

namespace samsa::sim {

// Short timeouts: in simulation a partition or a crashed broker should cost seconds, not the
// 30 s a production client waits.
inline client::ClientConfig scenario_client(const Address& broker, const std::string& id) {
  client::ClientConfig c{{broker}, id};
  c.request_timeout = std::chrono::seconds(2);
  c.connect_timeout = std::chrono::seconds(2);
  return c;
}

inline void stamp_result(const Simulator& sim, uint64_t seed, DemoResult& result) {
  result.seed = seed;
  result.trace_hash = sim.trace_hash();
  result.rng_digest = sim.rng_digest();
  result.end_time = sim.now();
  result.steps = sim.steps();
  result.notes.push_back("buggify: " + std::to_string(sim.buggify_sites_enabled()) + " sites enabled by this seed, fired " +
                         std::to_string(sim.buggify_fired()) + " times");
}

}  // namespace samsa::sim
