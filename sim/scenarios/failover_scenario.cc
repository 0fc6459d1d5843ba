#include "sim/scenarios/failover_scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/checkers/queue_checker.h"
#include "sim/scenarios/cluster_nodes.h"
#include "sim/scenarios/cluster_scenario.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/scenarios/workload.h"

namespace samsa::sim {

namespace {

using namespace std::chrono_literals;

constexpr const char* kTopic = "failover";
constexpr int kProducers = 2;
constexpr Duration kFailoverWarmUp = 10s;        // the cluster forms and the producers get going
constexpr Duration kSettle = 10s;        // after the last round, before the final read
constexpr Duration kFinalReadMax = 90s;

// The leader of the topic's partition 0 in the image of the live node that applied the most.
std::optional<int32_t> current_leader(const ClusterRegistry& registry) {
  const controller::MetadataImage* image = most_applied_image(registry);
  if (image == nullptr) return std::nullopt;
  const controller::TopicImage* t = image->topic(kTopic);
  if (t == nullptr || t->partitions.empty() || t->partitions[0].leader < 0) return std::nullopt;
  return t->partitions[0].leader;
}

// Kill to the first acknowledgement of a send begun after the kill, or nullopt.
std::optional<Duration> failover_time(const QueueHistory& h, Instant kill) {
  std::optional<Instant> first;
  for (const SendRecord& s : h.sends) {
    if (s.outcome != SendRecord::Outcome::ok || s.invoked < kill) continue;
    if (!first || s.completed < *first) first = s.completed;
  }
  if (!first) return std::nullopt;
  return *first - kill;
}

WorkloadProfile profile(std::vector<Address> bootstrap) {
  WorkloadProfile w;
  w.topic = kTopic;
  w.partitions = 1;
  w.replication_factor = 3;
  w.topic_configs = {{"min.insync.replicas", "2"}};
  w.acks = -1;
  w.bootstrap = std::move(bootstrap);
  w.pause_min = 5ms;
  w.pause_max = 20ms;
  return w;
}

struct Round {
  int32_t leader = -1;
  Instant killed{};
};

}  // namespace

RunResult run_failover_scenario(const FailoverOptions& options) {
  // Declared before the simulator: its destruction unwinds the nodes, which still use them.
  ClusterRegistry registry;
  std::map<int32_t, server::NodeConfig> configs;
  QueueHistory history;
  Simulator sim(SimOptions{options.seed, options.log_level, false, options.node_bugs, options.trace_sink});  // no buggify: a measurement
  const ClusterTopology topology = kClusterTestTopology;
  std::map<int32_t, NodeId> nodes;
  std::vector<Address> bootstrap;
  for (int32_t id : topology.node_ids()) {
    configs[id] = cluster_node_config(id, topology, options.bugs);
    const server::NodeConfig& config = configs[id];
    nodes[id] = sim.add_node(cluster_host(id), [&config, &registry](Runtime& rt) { cluster_node_main(rt, config, registry); });
    bootstrap.push_back(Address{cluster_host(id), kClusterBrokerPort});
  }
  const WorkloadProfile w = profile(bootstrap);
  history.partitions = 1;
  std::vector<NodeId> producers;
  for (int k = 1; k <= kProducers; ++k) {
    producers.push_back(sim.add_node(fmt::format("producer{}", k), [&w, &history, k](Runtime& rt) { producer_main(rt, w, k, history); }));
    history.producers.push_back(k);
  }
  for (const auto& [id, n] : nodes) sim.start(n);
  for (NodeId p : producers) sim.start(p);

  std::vector<Round> rounds;
  sim.run_until(sim.now() + kFailoverWarmUp);
  for (int r = 0; r < options.rounds; ++r) {
    const Instant round_end = sim.now() + options.round_time;
    const std::optional<int32_t> leader = current_leader(registry);
    rounds.push_back(Round{leader.value_or(-1), sim.now()});
    if (leader) {
      const NodeId victim = nodes.at(*leader);
      sim.crash(victim, options.kill);
      sim.run_until(sim.now() + options.down_time);
      sim.start(victim);
    }
    sim.run_until(round_end);
  }
  // The last round ended a round_time after its kill: the producers must be live meanwhile.
  history.healed = history.live_from = sim.now();
  sim.run_until(sim.now() + kSettle);
  history.live_until = sim.now();
  for (NodeId p : producers) sim.crash(p);
  final_read(sim, w, history, kFinalReadMax);

  RunResult result;
  result.scenario = "failover";
  result.checks = check_queue(history);
  for (CheckResult& c : result.checks) c.expect_examined = false;  // no consumers: some have nothing
  CheckResult completes("failover-completes");
  completes.unit = "rounds";
  std::vector<int64_t> times_ms;
  std::string per_round;
  for (size_t i = 0; i < rounds.size(); ++i) {
    ++completes.examined;
    if (rounds[i].leader < 0) {
      completes.fail(fmt::format("round {}: the partition had no leader to kill", i + 1));
      continue;
    }
    const std::optional<Duration> t = failover_time(history, rounds[i].killed);
    if (!t || (i + 1 < rounds.size() && rounds[i].killed + *t > rounds[i + 1].killed)) {
      completes.fail(fmt::format("round {}: no acks=all acknowledgement after node {} was killed, before the next round", i + 1,
                                 rounds[i].leader));
      continue;
    }
    times_ms.push_back(to_ms(*t));
    per_round += fmt::format("{}{} ms (node {})", per_round.empty() ? "" : ", ", to_ms(*t), rounds[i].leader);
  }
  result.checks.push_back(completes);
  stamp_result(sim, options.seed, result);
  result.acked = 0;
  for (const SendRecord& s : history.sends) result.acked += s.outcome == SendRecord::Outcome::ok ? s.values.size() : 0;
  result.records = history.final_read.size();
  const auto killed = std::count_if(rounds.begin(), rounds.end(), [](const Round& r) { return r.leader >= 0; });
  result.faults = {fmt::format("{} of the partition's leader x{}", options.kill == CrashKind::process ? "kill -9" : "power loss",
                                killed)};
  result.settings = {topology.describe(), "topic failover: 1 partition, replication factor 3, min.insync.replicas=2",
                     fmt::format("{} producers with acks=all; {} rounds of {} the leader, restarted after {} ms", kProducers,
                                 options.rounds, options.kill == CrashKind::process ? "kill -9 of" : "a power loss of",
                                 to_ms(options.down_time))};
  if (!times_ms.empty()) {
    std::sort(times_ms.begin(), times_ms.end());
    result.notes.push_back(fmt::format("failover (kill to the first acks=all acknowledgement of a record sent after it): {}", per_round));
    result.notes.push_back(fmt::format("failover min {} ms, median {} ms, max {} ms over {} rounds", times_ms.front(),
                                       times_ms[(times_ms.size() - 1) / 2], times_ms.back(), times_ms.size()));
  }
  return result;
}

}  // namespace samsa::sim
