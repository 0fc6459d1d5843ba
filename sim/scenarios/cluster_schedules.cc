#include "sim/scenarios/cluster_schedules.h"

#include <fmt/format.h>

#include "broker/broker.h"
#include "server/node.h"
#include "sim/scenarios/scenario_util.h"

namespace samsa::sim {

namespace {

using namespace std::chrono_literals;

constexpr Duration kWarmUp = 8s;  // the topic exists and its follower is in sync

const controller::PartitionState* partition0(const ClusterRegistry& registry, const std::string& topic) {
  const controller::MetadataImage* image = most_applied_image(registry);
  if (image == nullptr) return nullptr;
  const controller::TopicImage* t = image->topic(topic);
  if (t == nullptr || t->partitions.empty()) return nullptr;
  return &t->partitions[0];
}

// Records `node` appended to the topic's partition 0 since its current epoch as leader began
// there (0 while it is not leading).
int64_t appended_as_leader(const ClusterRegistry& registry, int32_t node, const std::string& topic) {
  auto it = registry.live.find(node);
  if (it == registry.live.end() || it->second->broker() == nullptr) return 0;
  std::shared_ptr<replication::Partition> p = it->second->broker()->partitions().find(model::TopicPartition{topic, 0});
  if (p == nullptr || p->role() != replication::Role::leader) return 0;
  Result<std::shared_ptr<PartitionLog>> log = p->log();
  return log.ok() ? (*log)->log_end_offset() - p->epoch_start_offset() : 0;
}

std::string at_s(Instant t) { return fmt::format("{:.3f} s", static_cast<double>(t.ns) / 1e9); }

}  // namespace

std::optional<ClusterSchedule> cluster_schedule_by_name(const std::string& name) {
  if (name == "random") return ClusterSchedule::random;
  if (name == "kip-279") return ClusterSchedule::kip279;
  return std::nullopt;
}

const char* cluster_schedule_name(ClusterSchedule s) { return s == ClusterSchedule::kip279 ? "kip-279" : "random"; }

Kip279Schedule::Kip279Schedule(Simulator& sim, std::map<int32_t, NodeId> brokers, std::string topic)
    : sim_(sim), brokers_(std::move(brokers)), topic_(std::move(topic)) {
  lag_ = sim_.random_duration(1s, 4s);
  follower_writes_ = sim_.random_duration(500ms, 3s);
  leader_writes_ = sim_.random_duration(500ms, 3s);
  not_before_ = step_started_ = sim_.now() + kWarmUp;
}

void Kip279Schedule::next(Step step, Duration wait, std::string what) {
  steps_.push_back(fmt::format("{}: {}", at_s(sim_.now()), what));
  step_ = step;
  step_started_ = sim_.now();
  not_before_ = sim_.now() + wait;
}

void Kip279Schedule::give_up(std::string why) {
  gave_up_ = std::move(why);
  steps_.push_back(fmt::format("{}: gave up: {}", at_s(sim_.now()), *gave_up_));
  step_ = Step::gave_up;
}

bool Kip279Schedule::tick(const ClusterRegistry& registry) {
  if (step_ == Step::done || step_ == Step::gave_up) return false;
  if (sim_.now() < not_before_) return true;
  if (sim_.now() - step_started_ > kStepTimeoutMax + (not_before_ - step_started_)) {
    give_up(fmt::format("step {} did not happen within {} ms", static_cast<int>(step_), to_ms(kStepTimeoutMax)));
    return false;
  }
  const controller::PartitionState* p = partition0(registry, topic_);
  switch (step_) {
    case Step::find:
      if (p == nullptr || p->leader < 0 || p->replicas.size() != 2 || p->isr.size() != 2) return true;
      leader_ = p->leader;
      follower_ = p->replicas[0] == leader_ ? p->replicas[1] : p->replicas[0];
      first_epoch_ = p->leader_epoch.value;
      sim_.pause(brokers_.at(follower_));
      next(Step::lag, lag_,
           fmt::format("{}-0: leader {} epoch {}, follower {} paused for {} ms", topic_, leader_, first_epoch_, follower_, to_ms(lag_)));
      return true;
    case Step::lag:
      sim_.crash(brokers_.at(leader_), CrashKind::process);
      sim_.resume(brokers_.at(follower_));
      next(Step::elect_follower, 0ms, fmt::format("leader {} killed (kill -9), follower {} resumed", leader_, follower_));
      return true;
    case Step::elect_follower:
      if (p == nullptr || p->leader != follower_ || p->leader_epoch.value <= first_epoch_) return true;
      if (appended_as_leader(registry, follower_, topic_) == 0) return true;  // its epoch must hold batches
      if (not_before_ <= step_started_) {  // elected and appending: let it append for a while
        not_before_ = sim_.now() + follower_writes_;
        return true;
      }
      sim_.crash(brokers_.at(follower_), CrashKind::process);
      sim_.start(brokers_.at(leader_));
      next(Step::elect_old_leader, 0ms,
           fmt::format("node {} led epoch {} for {} ms; killed (kill -9); node {} restarted", follower_, p->leader_epoch.value,
                       to_ms(follower_writes_), leader_));
      first_epoch_ = p->leader_epoch.value;
      return true;
    case Step::elect_old_leader:
      if (p == nullptr || p->leader != leader_ || p->leader_epoch.value <= first_epoch_) return true;
      if (not_before_ <= step_started_) {
        not_before_ = sim_.now() + leader_writes_;
        return true;
      }
      sim_.start(brokers_.at(follower_));
      next(Step::done, 0ms,
           fmt::format("node {} elected uncleanly in epoch {}, led for {} ms; node {} restarted", leader_, p->leader_epoch.value,
                       to_ms(leader_writes_), follower_));
      return false;
    case Step::rejoin:
    case Step::done:
    case Step::gave_up:
      return false;
  }
  return false;
}

CheckResult Kip279Schedule::played() const {
  CheckResult c("schedule-played");
  c.unit = "schedules";
  c.examined = 1;
  if (gave_up_) c.fail("kip-279: " + *gave_up_);
  else if (step_ != Step::done) c.fail("kip-279: the faults phase ended before the schedule did");
  return c;
}

}  // namespace samsa::sim
