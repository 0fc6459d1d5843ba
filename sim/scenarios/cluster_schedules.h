// Scripted fault schedules for the cluster scenario (`samsa-sim --scenario cluster --schedule
// NAME`): instead of the random nemesis, the faults of one published Kafka bug's story, played
// against whichever brokers hold the acks=1 topic's partition 0, with the seed choosing the
// timing (and, as everywhere, every interleaving). The same checkers judge the run; a schedule
// that could not play out (its partition never had the shape it needs) says so in its check
// "schedule-played", which then fails: a run that did not set up the bug proves nothing.
//
// kip-279 (KIP-279, "fast leader fail-over"): on a partition with replication factor 2 and
// unclean.leader.election.enable=true, its leader L and follower F in sync:
//   1. F pauses and lags while L appends (acks=1);
//   2. L is killed (kill -9); F resumes and is elected in a new epoch, in which it appends;
//   3. F is killed and L restarts: the controller elects L uncleanly (F, the only ISR member, is
//      away), and L appends in a third epoch on top of its own longer log of the first;
//   4. F restarts and follows L. Its log holds F's second-epoch batches where L holds first-epoch
//      ones: with KIP-279 the leader answers F's fetch with "epoch 1 ends at X" and F truncates to
//      where ITS epoch 1 ended; with the naive answer (--bug naive-epoch-answer, the end offset
//      judged alone) F keeps them, and the logs disagree below a common epoch (log-matching).
//
// Threading: scheduler context (the scenario's driver calls tick() between steps).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/checkers/verdict.h"
#include "sim/scenarios/cluster_nodes.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

enum class ClusterSchedule : uint8_t { random, kip279 };

std::optional<ClusterSchedule> cluster_schedule_by_name(const std::string& name);
const char* cluster_schedule_name(ClusterSchedule s);

class Kip279Schedule {
 public:
  static constexpr Duration kStepTimeoutMax = std::chrono::seconds(40);  // a step's wait for an election
  static constexpr Duration kTickInterval = std::chrono::milliseconds(100);

  // `brokers`: each broker's simulator node; `topic`: the topic whose partition 0 is played on.
  Kip279Schedule(Simulator& sim, std::map<int32_t, NodeId> brokers, std::string topic);

  // Advances the script; false once it finished or gave up (then the faults phase may end).
  bool tick(const ClusterRegistry& registry);
  CheckResult played() const;
  std::vector<std::string> steps() const { return steps_; }

 private:
  enum class Step : uint8_t { find, lag, elect_follower, elect_old_leader, rejoin, done, gave_up };
  void next(Step step, Duration wait, std::string what);
  void give_up(std::string why);

  Simulator& sim_;
  std::map<int32_t, NodeId> brokers_;
  std::string topic_;
  Step step_ = Step::find;
  Instant not_before_{}, step_started_{};
  int32_t leader_ = -1, follower_ = -1, first_epoch_ = -1;
  Duration lag_{}, follower_writes_{}, leader_writes_{};
  std::vector<std::string> steps_;
  std::optional<std::string> gave_up_;
};

}  // namespace samsa::sim
