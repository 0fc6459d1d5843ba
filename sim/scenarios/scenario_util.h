// Pieces every simulator scenario shares: client settings suited to a faulty simulated network,
// and filling a run's summary from the simulator.
#pragma once

#include <string>
#include <vector>

#include "client/cluster.h"
#include "sim/checkers/verdict.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

// Short timeouts: in simulation a partition or a crashed broker should cost seconds, not the
// 30 s a production client waits.
inline client::ClientConfig scenario_client(std::vector<Address> bootstrap, const std::string& id) {
  client::ClientConfig c{std::move(bootstrap), id};
  c.request_timeout = std::chrono::seconds(2);
  c.connect_timeout = std::chrono::seconds(2);
  return c;
}

inline client::ClientConfig scenario_client(const Address& broker, const std::string& id) {
  return scenario_client(std::vector<Address>{broker}, id);
}

inline void stamp_result(const Simulator& sim, uint64_t seed, RunResult& result) {
  result.seed = seed;
  result.trace_hash = sim.trace_hash();
  result.rng_digest = sim.rng_digest();
  result.end_time = sim.now();
  result.steps = sim.steps();
  for (const auto& [site, stats] : sim.buggify_sites()) result.buggify[site] = {stats.enabled, stats.fired};
}

}  // namespace samsa::sim
