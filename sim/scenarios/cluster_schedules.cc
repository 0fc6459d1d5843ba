#include "sim/scenarios/cluster_schedules.h"

#include <fmt/format.h>

#include "broker/broker.h"
#include "server/node.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/world/sim_network.h"

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

std::string at_s(Instant t) { return fmt::format("{:.3f} s", static_cast<double>(t.ns) / 1e9); }

class Kip279 final : public ScriptedSchedule {
 public:
  Kip279(Simulator& sim, ScheduleTargets t) : ScriptedSchedule(sim, std::move(t), "kip-279") {
    lag_ = sim_.random_duration(1s, 4s);
    follower_writes_ = sim_.random_duration(500ms, 3s);
    leader_writes_ = sim_.random_duration(500ms, 3s);
  }

 private:
  void act(const controller::PartitionState* p, const ClusterRegistry& registry) override {
    switch (step_) {
      case 0:
        return pause_follower(p, lag_);
      case 1:
        sim_.crash(t_.nodes.at(leader_), CrashKind::process);
        sim_.resume(t_.nodes.at(follower_));
        return next(2, 0ms, fmt::format("leader {} killed (kill -9), follower {} resumed", leader_, follower_));
      case 2:  // the follower leads a new epoch and has batches in it
        if (!after(p != nullptr && p->leader == follower_ && p->leader_epoch.value > epoch_ &&
                       appended_as_leader(registry, follower_) > 0,
                   follower_writes_) ||
            p == nullptr) {
          return;
        }
        epoch_ = p->leader_epoch.value;  // before the crash: `p` may live in the follower's image
        sim_.crash(t_.nodes.at(follower_), CrashKind::process);
        sim_.start(t_.nodes.at(leader_));
        return next(3, 0ms, fmt::format("node {} led epoch {} for {} ms; killed (kill -9); node {} restarted", follower_, epoch_,
                                        to_ms(follower_writes_), leader_));
      default:  // the old leader is elected uncleanly on its own log
        if (!after(p != nullptr && p->leader == leader_ && p->leader_epoch.value > epoch_, leader_writes_) || p == nullptr) return;
        sim_.start(t_.nodes.at(follower_));
        return finish(fmt::format("node {} elected uncleanly in epoch {}, led for {} ms; node {} restarted", leader_,
                                  p->leader_epoch.value, to_ms(leader_writes_), follower_));
    }
  }
  Duration lag_{}, follower_writes_{}, leader_writes_{};
};

class Kip320 final : public ScriptedSchedule {
 public:
  static constexpr Duration kPastSession = std::chrono::seconds(12);  // broker.session.timeout.ms is 9 s

  Kip320(Simulator& sim, ScheduleTargets t) : ScriptedSchedule(sim, std::move(t), "kip-320") {
    alone_ = sim_.random_duration(1s, 3s);
    new_leader_writes_ = sim_.random_duration(1s, 3s);
  }

 private:
  // Both ways between the leader and every node but itself and the paused consumer (a zombie
  // that producers can still reach would keep acknowledging: another story).
  void cut_leader(bool cut) {
    std::vector<NodeId> others = t_.clients;
    for (const auto& [id, n] : t_.nodes) others.push_back(n);
    for (NodeId n : others) {
      if (n == t_.nodes.at(leader_) || n == t_.consumer) continue;
      if (cut) sim_.network().partition(t_.nodes.at(leader_), n);
      else sim_.network().heal(t_.nodes.at(leader_), n);
    }
  }
  void act(const controller::PartitionState* p, const ClusterRegistry& registry) override {
    switch (step_) {
      case 0:
        return pause_follower(p, kPastSession);
      case 1:  // out of the ISR (fenced): the leader's high watermark moves alone
        if (!after(p != nullptr && p->leader == leader_ && p->isr.size() == 1, alone_)) return;
        sim_.network().partition(t_.nodes.at(leader_), t_.nodes.at(follower_));
        sim_.resume(t_.nodes.at(follower_));
        sim_.pause(t_.consumer);
        cut_leader(true);
        suffix_end_ = log_end(registry, leader_);
        return next(2, 0ms, fmt::format("ISR {{{}}} for {} ms; follower {} resumed, cut from it; the acks=1 consumer paused; "
                                        "leader {} cut from every node",
                                        leader_, to_ms(alone_), follower_, leader_));
      case 2:  // the follower elected uncleanly, with batches of its own
        if (!after(p != nullptr && p->leader == follower_ && p->leader_epoch.value > epoch_ &&
                       appended_as_leader(registry, follower_) > 0,
                   new_leader_writes_) ||
            p == nullptr) {
          return;
        }
        cut_leader(false);
        epoch_ = p->leader_epoch.value;
        return next(3, 0ms, fmt::format("node {} elected uncleanly in epoch {}, led for {} ms; node {}'s cuts healed", follower_,
                                        epoch_, to_ms(new_leader_writes_), leader_));
      case 3:  // the old leader has truncated and caught up into the ISR
        if (p == nullptr || p->isr.size() != 2) return;
        sim_.crash(t_.nodes.at(follower_), CrashKind::process);
        return next(4, 0ms, fmt::format("node {} back in the ISR; node {} killed (kill -9)", leader_, follower_));
      case 4:
        if (p == nullptr || p->leader != leader_ || p->leader_epoch.value <= epoch_) return;
        sim_.start(t_.nodes.at(follower_));
        epoch_ = p->leader_epoch.value;
        return next(5, 0ms, fmt::format("node {} leads again in epoch {}; node {} restarted", leader_, epoch_, follower_));
      default:  // the consumer's stale position lies inside the new log
        if (log_end(registry, leader_) <= suffix_end_ + kPastSuffix) return;
        sim_.resume(t_.consumer);
        return finish(fmt::format("node {}'s log passed {} (its old suffix ended at {}); the consumer resumed", leader_,
                                  suffix_end_ + kPastSuffix, suffix_end_));
    }
  }
  static constexpr int64_t kPastSuffix = 100;  // records
  Duration alone_{}, new_leader_writes_{};
  int64_t suffix_end_ = 0;
};

class ControlledShutdown final : public ScriptedSchedule {
 public:
  static constexpr int kRounds = 2;

  ControlledShutdown(Simulator& sim, ScheduleTargets t) : ScriptedSchedule(sim, std::move(t), "controlled-shutdown") {
    SAMSA_ASSERT(t_.registry != nullptr && t_.registry->sigterm_armed);
  }

 private:
  void act(const controller::PartitionState* p, const ClusterRegistry&) override {
    if (step_ % 2 == 0) {  // in sync: SIGTERM to the leader
      if (p == nullptr || p->leader < 0 || p->isr.size() != p->replicas.size()) return;
      leader_ = p->leader;
      t_.registry->sigterm.insert(leader_);
      return next(step_ + 1, 0ms, fmt::format("{}-0 in sync; its leader {} gets SIGTERM", t_.topic, leader_));
    }
    const NodeId n = t_.nodes.at(leader_);
    if (!sim_.node(n).main_finished) return;  // still shutting down
    sim_.restart(n, CrashKind::process);
    const std::string what = fmt::format("node {} exited; restarted", leader_);
    if (step_ + 1 >= 2 * kRounds) return finish(what);
    next(step_ + 1, 0ms, what);
  }
};

}  // namespace

CheckResult check_controlled_shutdowns(const ClusterRegistry& registry) {
  CheckResult c("controlled-shutdown");
  c.unit = "shutdowns";
  for (const ShutdownRecord& r : registry.shutdowns) {
    ++c.examined;
    if (r.still_leading > 0 || !r.fenced) {
      c.fail(fmt::format("node {} exited at {} still leading {} partitions{} in its own metadata", r.node, at_s(r.at),
                         r.still_leading, r.fenced ? "" : ", unfenced"));
    }
  }
  return c;
}

std::optional<ClusterSchedule> cluster_schedule_by_name(const std::string& name) {
  if (name == "random") return ClusterSchedule::random;
  if (name == "kip-279") return ClusterSchedule::kip279;
  if (name == "kip-320") return ClusterSchedule::kip320;
  if (name == "controlled-shutdown") return ClusterSchedule::controlled_shutdown;
  return std::nullopt;
}

const char* cluster_schedule_name(ClusterSchedule s) {
  switch (s) {
    case ClusterSchedule::kip279: return "kip-279";
    case ClusterSchedule::kip320: return "kip-320";
    case ClusterSchedule::controlled_shutdown: return "controlled-shutdown";
    case ClusterSchedule::random: break;
  }
  return "random";
}

std::unique_ptr<ScriptedSchedule> make_schedule(ClusterSchedule s, Simulator& sim, ScheduleTargets targets) {
  if (s == ClusterSchedule::kip279) return std::make_unique<Kip279>(sim, std::move(targets));
  if (s == ClusterSchedule::kip320) return std::make_unique<Kip320>(sim, std::move(targets));
  if (s == ClusterSchedule::controlled_shutdown) return std::make_unique<ControlledShutdown>(sim, std::move(targets));
  return nullptr;
}

ScriptedSchedule::ScriptedSchedule(Simulator& sim, ScheduleTargets targets, const char* name)
    : sim_(sim), t_(std::move(targets)), name_(name) {
  not_before_ = step_started_ = sim_.now() + kWarmUp;
}

void ScriptedSchedule::next(int step, Duration wait, std::string what) {
  steps_.push_back(fmt::format("{}: {}", at_s(sim_.now()), what));
  step_ = step;
  seen_ = false;
  step_started_ = sim_.now();
  not_before_ = sim_.now() + wait;
}

void ScriptedSchedule::finish(std::string what) {
  steps_.push_back(fmt::format("{}: {}", at_s(sim_.now()), what));
  done_ = true;
}

void ScriptedSchedule::pause_follower(const controller::PartitionState* p, Duration pause) {
  if (p == nullptr || p->leader < 0 || p->replicas.size() != 2 || p->isr.size() != 2) return;  // not yet in sync
  leader_ = p->leader;
  follower_ = p->replicas[0] == leader_ ? p->replicas[1] : p->replicas[0];
  epoch_ = p->leader_epoch.value;
  sim_.pause(t_.nodes.at(follower_));
  next(1, pause, fmt::format("{}-0: leader {} epoch {}, follower {} paused for {} ms", t_.topic, leader_, epoch_, follower_,
                             to_ms(pause)));
}

bool ScriptedSchedule::after(bool happened, Duration then) {
  if (seen_) return true;  // not_before_ passed: due
  if (!happened) return false;
  seen_ = true;
  not_before_ = sim_.now() + then;
  return false;
}

// Records `node` appended to the topic's partition 0 since its current epoch as leader began
// there (0 while it is not leading).
int64_t ScriptedSchedule::log_end(const ClusterRegistry& registry, int32_t node) const {
  auto it = registry.live.find(node);
  if (it == registry.live.end() || it->second->broker() == nullptr) return -1;
  std::shared_ptr<replication::Partition> p = it->second->broker()->partitions().find(model::TopicPartition{t_.topic, 0});
  if (p == nullptr) return -1;
  Result<std::shared_ptr<PartitionLog>> log = p->log();
  return log.ok() ? (*log)->log_end_offset() : -1;
}

int64_t ScriptedSchedule::appended_as_leader(const ClusterRegistry& registry, int32_t node) const {
  auto it = registry.live.find(node);
  if (it == registry.live.end() || it->second->broker() == nullptr) return 0;
  std::shared_ptr<replication::Partition> p = it->second->broker()->partitions().find(model::TopicPartition{t_.topic, 0});
  if (p == nullptr || p->role() != replication::Role::leader) return 0;
  Result<std::shared_ptr<PartitionLog>> log = p->log();
  return log.ok() ? (*log)->log_end_offset() - p->epoch_start_offset() : 0;
}

bool ScriptedSchedule::tick(const ClusterRegistry& registry) {
  if (done_ || gave_up_) return false;
  if (sim_.now() < not_before_) return true;
  if (sim_.now() - step_started_ > kStepTimeoutMax + (not_before_ - step_started_)) {
    gave_up_ = fmt::format("step {} did not happen within {} ms", step_, to_ms(kStepTimeoutMax));
    steps_.push_back(fmt::format("{}: gave up: {}", at_s(sim_.now()), *gave_up_));
    for (NodeId c : t_.clients) sim_.resume(c);  // the heal resumes servers only
    return false;
  }
  act(partition0(registry, t_.topic), registry);
  return !done_;
}

CheckResult ScriptedSchedule::played() const {
  CheckResult c("schedule-played");
  c.unit = "schedules";
  c.examined = 1;
  if (gave_up_) c.fail(fmt::format("{}: {}", name_, *gave_up_));
  else if (!done_) c.fail(fmt::format("{}: the faults phase ended before the schedule did", name_));
  return c;
}

}  // namespace samsa::sim
