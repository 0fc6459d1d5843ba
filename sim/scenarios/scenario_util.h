// Pieces every simulator scenario shares: client settings suited to a faulty simulated network,
// and filling a run's summary from the simulator.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>
#include <vector>

#include "broker/broker.h"
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

// A single broker's main (broker and groups scenarios): serves until a failed log directory halts
// it, as Kafka's broker does; the scenario's supervisor restarts it.
inline void single_broker_main(Runtime& rt, const broker::BrokerConfig& config) {
  broker::Broker b(rt, config);
  if (!b.start().ok()) return;
  (void)b.wait_for_failure(Deadline::never());
  b.stop();
}

inline void stamp_result(const Simulator& sim, uint64_t seed, RunResult& result) {
  result.seed = seed;
  result.trace_hash = sim.trace_hash();
  result.rng_digest = sim.rng_digest();
  result.end_time = sim.now();
  result.steps = sim.steps();
  for (const auto& [site, stats] : sim.buggify_sites()) result.buggify[site] = {stats.enabled, stats.fired};
}

// Swarm testing: each seed enables its own random subset of fault kinds (at least one), and
// each nemesis tick draws one of the enabled kinds. Counts feed the run's summary.
class FaultMix {
 public:
  FaultMix(Simulator& sim, std::vector<const char*> names) : sim_(sim), names_(std::move(names)) {
    const int kinds = static_cast<int>(names_.size());
    enabled_.resize(names_.size());
    counts_.resize(names_.size());
    for (int k = 0; k < kinds; ++k) enabled_[static_cast<size_t>(k)] = sim_.chance(1, 2);
    enabled_[static_cast<size_t>(sim_.in_range(0, kinds - 1))] = true;
  }

  // An enabled kind, counted.
  int pick() {
    const int kinds = static_cast<int>(names_.size());
    int kind = static_cast<int>(sim_.in_range(0, kinds - 1));
    while (!enabled_[static_cast<size_t>(kind)]) kind = (kind + 1) % kinds;
    ++counts_[static_cast<size_t>(kind)];
    last_ = kind;
    return kind;
  }
  // The name of what pick() returned last.
  std::string_view name_of_last() const { return names_[static_cast<size_t>(last_)]; }
  const char* name(int kind) const { return names_[static_cast<size_t>(kind)]; }
  // -1 for a name that is not a kind of this mix.
  int index_of(std::string_view name) const {
    for (size_t k = 0; k < names_.size(); ++k) {
      if (name == names_[k]) return static_cast<int>(k);
    }
    return -1;
  }

  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (size_t k = 0; k < names_.size(); ++k) {
      if (enabled_[k]) out.push_back(fmt::format("{} x{}", names_[k], counts_[k]));
    }
    return out;
  }

 private:
  Simulator& sim_;
  std::vector<const char*> names_;
  std::vector<bool> enabled_;
  std::vector<uint64_t> counts_;
  int last_ = 0;
};

}  // namespace samsa::sim
