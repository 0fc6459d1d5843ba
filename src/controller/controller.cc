// The controller's broker lifecycle (registration, heartbeats, session expiry) and its leader
// elections. Topics, partitions and AlterPartition: controller_topics.cc.
#include "controller/controller.h"

namespace samsa::controller {

using kafka::Error;

void Controller::activate(const MetadataImage& image, int64_t now_ms) {
  session_deadlines_.clear();
  for (const auto& [id, b] : image.brokers()) session_deadlines_[id] = now_ms + config_.session_timeout_ms;
}

std::optional<int64_t> Controller::session_deadline(int32_t broker_id) const {
  auto it = session_deadlines_.find(broker_id);
  if (it == session_deadlines_.end()) return std::nullopt;
  return it->second;
}

bool Controller::unclean_election_enabled(const MetadataImage& image, const std::string& topic) const {
  std::optional<std::string> v = image.config(kConfigTopic, topic, kUncleanLeaderElection);
  if (!v) v = image.config(kConfigBroker, "", kUncleanLeaderElection);
  if (!v) return config_.unclean_leader_election_enable;
  return *v == "true";
}

// A registration retried by the same incarnation keeps its epoch (no records). A new
// incarnation is refused while the old one is unfenced and its session alive (Kafka's
// DUPLICATE_BROKER_REGISTRATION); otherwise it replaces the old registration with a new epoch,
// fenced, after taking the old incarnation out of every ISR and leadership.
RegistrationResult Controller::register_broker(const MetadataImage& image, const BrokerRegistrationRequest& request,
                                               int64_t new_epoch, int64_t now_ms) {
  RegistrationResult result;
  if (request.broker_id < 0 || request.incarnation_id.is_zero()) {
    result.error = Error::invalid_request;
    return result;
  }
  if (request.endpoints.size() > config_.limits.endpoints_max) {
    result.error = Error::policy_violation;
    return result;
  }
  const BrokerRegistration* old = image.broker(request.broker_id);
  if (old == nullptr && image.brokers().size() >= config_.limits.brokers_max) {
    result.error = Error::policy_violation;
    return result;
  }
  if (old != nullptr && old->incarnation_id == request.incarnation_id) {
    session_deadlines_[request.broker_id] = now_ms + config_.session_timeout_ms;
    result.broker_epoch = old->epoch.value;
    return result;
  }
  if (old != nullptr) {
    const std::optional<int64_t> deadline = session_deadline(request.broker_id);
    if (!old->fenced && deadline && *deadline >= now_ms) {
      result.error = Error::duplicate_broker_registration;
      return result;
    }
    SAMSA_ASSERT(new_epoch > old->epoch.value);  // the caller's epochs come from the log: they only grow
    fence_partitions(image, request.broker_id, result.records);
  }
  SAMSA_ASSERT(new_epoch >= 0);
  kafka::RegisterBrokerRecord r;
  r.broker_id = request.broker_id;
  r.incarnation_id = request.incarnation_id;
  r.broker_epoch = new_epoch;
  for (const BrokerEndpoint& e : request.endpoints) r.end_points.push_back({e.name, e.host, e.port, e.security_protocol});
  r.rack = request.rack;
  r.fenced = true;
  result.records.emplace_back(std::move(r));
  result.broker_epoch = new_epoch;
  session_deadlines_[request.broker_id] = now_ms + config_.session_timeout_ms;
  return result;
}

// Extends the session; unfences a fenced broker once it has caught up, then gives it the
// leaderless partitions it can lead.
HeartbeatResult Controller::heartbeat(const MetadataImage& image, const HeartbeatRequest& request,
                                      int64_t catch_up_offset, int64_t now_ms) {
  HeartbeatResult result;
  const BrokerRegistration* b = image.broker(request.broker_id);
  if (b == nullptr) {
    result.error = Error::broker_id_not_registered;
    return result;
  }
  if (b->epoch != model::BrokerEpoch{request.broker_epoch}) {
    result.error = Error::stale_broker_epoch;
    return result;
  }
  session_deadlines_[request.broker_id] = now_ms + config_.session_timeout_ms;
  result.is_caught_up = request.current_metadata_offset >= catch_up_offset;
  result.is_fenced = b->fenced;
  if (!b->fenced || !result.is_caught_up || config_.bugs.never_unfence) return result;
  kafka::BrokerRegistrationChangeRecord unfence;
  unfence.broker_id = b->id;
  unfence.broker_epoch = b->epoch.value;
  unfence.fenced = -1;
  result.records.emplace_back(unfence);
  const Liveness live{&image, -1, b->id};
  for (const auto& [name, topic] : image.topics()) {
    elect_leaderless(topic, live, unclean_election_enabled(image, name), result.records);
  }
  result.is_fenced = false;
  return result;
}

ControllerResult Controller::expire_sessions(const MetadataImage& image, int64_t now_ms) {
  ControllerResult result;
  for (const auto& [id, b] : image.brokers()) {
    if (b.fenced) continue;
    auto it = session_deadlines_.find(id);
    if (it == session_deadlines_.end()) {
      session_deadlines_[id] = now_ms + config_.session_timeout_ms;  // not seen since activation
      continue;
    }
    if (it->second >= now_ms) continue;
    fence_partitions(image, id, result.records);
    kafka::BrokerRegistrationChangeRecord fence;
    fence.broker_id = id;
    fence.broker_epoch = b.epoch.value;
    fence.fenced = 1;
    result.records.emplace_back(fence);
    return result;
  }
  return result;
}

void Controller::fence_partitions(const MetadataImage& image, int32_t broker, std::vector<MetadataRecord>& out) const {
  const Liveness live{&image, broker, -1};
  for (const auto& [name, topic] : image.topics()) {
    const bool unclean_ok = unclean_election_enabled(image, name);
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      const PartitionState& p = topic.partitions[i];
      if (p.leader != broker && !contains(p.isr, broker)) continue;
      std::vector<int32_t> isr;
      for (int32_t id : p.isr) {
        if (id != broker || config_.bugs.keep_fenced_in_isr) isr.push_back(id);
      }
      if (isr.empty()) isr = p.isr;  // Kafka keeps the last ISR member: it has the latest data
      Election e{p.leader, isr};
      if (p.leader == broker || p.leader == kNoLeader) e = elect(p, isr, live, unclean_ok);
      kafka::PartitionChangeRecord r;
      r.topic_id = topic.id;
      r.partition_id = static_cast<int32_t>(i);
      if (e.isr != p.isr) r.isr = e.isr;
      if (e.leader != p.leader) r.leader = e.leader;
      if (r.isr || r.leader != kLeaderUnchanged) out.emplace_back(std::move(r));
    }
  }
}

void Controller::elect_leaderless(const TopicImage& topic, const Liveness& live, bool unclean_ok,
                                  std::vector<MetadataRecord>& out) const {
  for (size_t i = 0; i < topic.partitions.size(); ++i) {
    const PartitionState& p = topic.partitions[i];
    if (p.leader != kNoLeader) continue;
    const Election e = elect(p, p.isr, live, unclean_ok);
    if (e.leader == kNoLeader) continue;
    kafka::PartitionChangeRecord r;
    r.topic_id = topic.id;
    r.partition_id = static_cast<int32_t>(i);
    r.leader = e.leader;
    if (e.isr != p.isr) r.isr = e.isr;
    out.emplace_back(std::move(r));
  }
}

// The first live replica in assignment order that is in `isr`; failing that, with unclean
// election allowed, the first live replica with the ISR reset to it.
Controller::Election Controller::elect(const PartitionState& p, const std::vector<int32_t>& isr, const Liveness& live,
                                       bool unclean_ok) const {
  for (int32_t id : p.replicas) {
    if (live(id) && (contains(isr, id) || config_.bugs.elect_outside_isr)) return Election{id, isr};
  }
  if (unclean_ok) {
    for (int32_t id : p.replicas) {
      if (live(id)) return Election{id, {id}};
    }
  }
  return Election{kNoLeader, isr};
}

}  // namespace samsa::controller
