// Scripted fault schedules for the cluster scenario (`samsa-sim --scenario cluster --schedule
// NAME`): instead of the random nemesis, the faults of one published Kafka bug's story (or of an
// operator's rolling restart), played
// against whichever brokers hold the acks=1 topic's partition 0 (replication factor 2,
// unclean.leader.election.enable=true), with the seed choosing the timing (and, as everywhere,
// every interleaving). The same checkers judge the run; a schedule that could not play out (its
// partition never had the shape a step needs) says so in its check "schedule-played", which
// then fails: a run that did not set up the bug proves nothing.
//
// kip-279 (KIP-279, "fast leader fail-over"), leader L and follower F in sync:
//   1. F pauses and lags while L appends (acks=1);
//   2. L is killed (kill -9); F resumes and is elected in a new epoch, in which it appends;
//   3. F is killed and L restarts: the controller elects L uncleanly (F, the only ISR member, is
//      away), and L appends in a third epoch on top of its own longer log of the first;
//   4. F restarts and follows L. Its log holds F's second-epoch batches where L holds first-epoch
//      ones: with KIP-279 the leader answers F's fetch with "epoch 1 ends at X" and F truncates to
//      where ITS epoch 1 ended; with the naive answer (--bug naive-epoch-answer, the end offset
//      judged alone) F keeps them and never matches its leader (replicas-converge).
//
// kip-320 (KIP-320, "fencing by leader epoch"), leader L and follower F in sync, the acks=1
// consumer C reading:
//   1. F pauses past its session: the ISR shrinks to L, whose high watermark goes on alone, and
//      C reads what only L holds; F is cut from L (both ways) and resumed;
//   2. C pauses (its metadata says: L leads epoch e). L is cut from every other node, clients
//      too, but C: fenced, and F is elected uncleanly in epoch e+1, appending where L's suffix
//      was;
//   3. L's cuts heal: it follows F, truncates its suffix and catches up into the ISR; F is
//      killed, L leads again in epoch e+2; F restarts; once L's log reaches past where its old
//      suffix ended (past C's position), C resumes.
//   C's next fetch from L carries epoch e: FENCED_LEADER_EPOCH sends it to the metadata and to
//   OffsetForLeaderEpoch, which shows its position past the end of epoch e in L's log, and it
//   goes back there. With --bug no-epoch-fencing L serves the stale fetch from C's position:
//   C never reads what F wrote below it (poll-skip).
//
// controlled-shutdown (a rolling restart, as operators do it), leader L of partition 0 in sync:
//   1. L gets SIGTERM: a controlled shutdown (the controller moves its leaderships, then lets it
//      go); once its main has returned it is restarted;
//   2. once the partition is in sync again, the same for its leader now; restarted.
//   Check "controlled-shutdown": every node that left on SIGTERM led nothing and was fenced in
//   its own metadata when it exited. With --bug skip-controlled-shutdown it leaves at once and
//   still leads.
//
// Threading: scheduler context (the scenario's driver calls tick() between steps).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/metadata_image.h"
#include "sim/checkers/verdict.h"
#include "sim/scenarios/cluster_nodes.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

enum class ClusterSchedule : uint8_t { random, kip279, kip320, controlled_shutdown };

std::optional<ClusterSchedule> cluster_schedule_by_name(const std::string& name);
const char* cluster_schedule_name(ClusterSchedule s);

// What a schedule may act on: every node by id (brokers 1.., controllers 101..), the acks=1
// topic, and its consumer's node.
struct ScheduleTargets {
  std::map<int32_t, NodeId> nodes;
  std::string topic;
  NodeId consumer{};
  std::vector<NodeId> clients;  // every client node, the consumer too
  ClusterRegistry* registry = nullptr;  // for SIGTERM (controlled-shutdown)
};

// controlled-shutdown's verdict from the registry's shutdown records.
CheckResult check_controlled_shutdowns(const ClusterRegistry& registry);

class ScriptedSchedule {
 public:
  static constexpr Duration kStepTimeoutMax = std::chrono::seconds(40);  // a step's wait for an election
  static constexpr Duration kTickInterval = std::chrono::milliseconds(100);

  virtual ~ScriptedSchedule() = default;
  // Advances the script; false once it finished or gave up (then the faults phase may end).
  bool tick(const ClusterRegistry& registry);
  CheckResult played() const;
  const std::vector<std::string>& steps() const { return steps_; }

 protected:
  ScriptedSchedule(Simulator& sim, ScheduleTargets targets, const char* name);
  // One step of the script with the partition as the most advanced node sees it (may be null).
  // Returns true when it acted (or is waiting); calls next()/finish() to move on.
  virtual void act(const controller::PartitionState* p, const ClusterRegistry& registry) = 0;
  void next(int step, Duration wait, std::string what);
  void finish(std::string what);
  // A step that must see something happen first, then wait `then` before acting: true once due.
  bool after(bool happened, Duration then);
  // Step 0 of every story: once the partition's two replicas are in sync, pause the follower.
  void pause_follower(const controller::PartitionState* p, Duration pause);
  int64_t appended_as_leader(const ClusterRegistry& registry, int32_t node) const;
  int64_t log_end(const ClusterRegistry& registry, int32_t node) const;  // -1: no replica there now

  Simulator& sim_;
  ScheduleTargets t_;
  int step_ = 0;
  int32_t leader_ = -1, follower_ = -1, epoch_ = -1;

 private:
  const char* name_;
  bool done_ = false;
  bool seen_ = false;  // after(): the awaited thing happened
  Instant not_before_{}, step_started_{};
  std::vector<std::string> steps_;
  std::optional<std::string> gave_up_;
};

std::unique_ptr<ScriptedSchedule> make_schedule(ClusterSchedule s, Simulator& sim, ScheduleTargets targets);

}  // namespace samsa::sim
