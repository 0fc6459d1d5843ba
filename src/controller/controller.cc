// The controller's broker lifecycle (registration, heartbeats, session expiry) and its leader
// elections. Topics, partitions and AlterPartition: controller_topics.cc.
#include "controller/controller.h"

#include <charconv>

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
  if (!v) return config_.unclean_leader_election_enable || config_.bugs.unclean_election;  // the old default
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
    const bool unclean = request.previous_broker_epoch != old->epoch.value;
    fence_partitions(image, request.broker_id, unclean, result.records);
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
  if (request.want_shut_down) {
    result.should_shut_down = b->fenced;  // fenced in the committed image: nothing left to move
    if (!b->fenced) fence_broker(image, *b, result.records);
    result.is_fenced = true;
    return result;
  }
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

// Leaderships and ISR places first, then the fence: the same for an expired session and a
// controlled shutdown.
void Controller::fence_broker(const MetadataImage& image, const BrokerRegistration& b, std::vector<MetadataRecord>& out) const {
  fence_partitions(image, b.id, false, out);
  kafka::BrokerRegistrationChangeRecord fence;
  fence.broker_id = b.id;
  fence.broker_epoch = b.epoch.value;
  fence.fenced = 1;
  out.emplace_back(fence);
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
    fence_broker(image, b, result.records);
    return result;
  }
  return result;
}

void Controller::fence_partitions(const MetadataImage& image, int32_t broker, bool unclean,
                                  std::vector<MetadataRecord>& out) const {
  const Liveness live{&image, broker, -1};
  for (const auto& [name, topic] : image.topics()) {
    const bool unclean_ok = unclean_election_enabled(image, name);
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      const PartitionState& p = topic.partitions[i];
      const bool in_elr = contains(p.elr, broker);
      if (p.leader != broker && !contains(p.isr, broker) && !(unclean && in_elr)) continue;
      std::vector<int32_t> isr;
      for (int32_t id : p.isr) {
        if (id != broker || config_.bugs.keep_fenced_in_isr) isr.push_back(id);
      }
      // Before KIP-966 Kafka kept the last ISR member (it had the latest data, unless a power
      // loss took it); with ELR the ISR may empty, the member moving to the ELR.
      if (isr.empty() && config_.bugs.no_elr) isr = p.isr;
      std::vector<int32_t> elr = next_elr(p, isr, min_insync(image, name, p.replicas.size()));
      if (unclean) std::erase(elr, broker);
      Election e{p.leader, isr, elr};
      if (p.leader == broker || p.leader == kNoLeader) e = elect(p, isr, elr, live, unclean_ok);
      append_change(topic, i, p, e, out);
    }
  }
}

void Controller::append_change(const TopicImage& topic, size_t index, const PartitionState& p, const Election& e,
                               std::vector<MetadataRecord>& out) {
  kafka::PartitionChangeRecord r;
  r.topic_id = topic.id;
  r.partition_id = static_cast<int32_t>(index);
  if (e.isr != p.isr) r.isr = e.isr;
  if (e.elr != p.elr) r.eligible_leader_replicas = e.elr;
  if (e.leader != p.leader) r.leader = e.leader;
  if (r.isr || r.eligible_leader_replicas || r.leader != kLeaderUnchanged) out.emplace_back(std::move(r));
}

void Controller::elect_leaderless(const TopicImage& topic, const Liveness& live, bool unclean_ok,
                                  std::vector<MetadataRecord>& out) const {
  for (size_t i = 0; i < topic.partitions.size(); ++i) {
    const PartitionState& p = topic.partitions[i];
    if (p.leader != kNoLeader) continue;
    const Election e = elect(p, p.isr, p.elr, live, unclean_ok);
    if (e.leader == kNoLeader) continue;
    append_change(topic, i, p, e, out);
  }
}

// The first live replica in assignment order that is in `isr`; failing that the first live one
// in the ELR (KIP-966), which becomes the ISR alone; failing that, with unclean election allowed
// or nobody eligible left, the first live replica with the ISR reset to it (what it holds is now
// the truth).
Controller::Election Controller::elect(const PartitionState& p, const std::vector<int32_t>& isr,
                                       const std::vector<int32_t>& elr, const Liveness& live, bool unclean_ok) const {
  for (int32_t id : p.replicas) {
    if (live(id) && (contains(isr, id) || config_.bugs.elect_outside_isr)) return Election{id, isr, elr};
  }
  for (int32_t id : p.replicas) {
    if (!live(id) || !contains(elr, id)) continue;
    std::vector<int32_t> rest = elr;
    std::erase(rest, id);
    return Election{id, {id}, rest};
  }
  // KIP-966's unclean recovery: with the ISR and the ELR both empty, every replica that held what
  // was committed has restarted after losing its page cache (as many power losses as
  // min.insync.replicas, or more): nobody is known to hold it all. Waiting would not bring it
  // back, so, as Kafka does, the first live replica leads with what it has.
  const bool nobody_eligible = isr.empty() && elr.empty() && !config_.bugs.no_elr;
  if (unclean_ok || nobody_eligible) {
    for (int32_t id : p.replicas) {
      if (live(id)) return Election{id, {id}, {}};
    }
  }
  return Election{kNoLeader, isr, elr};
}

// While the ISR is below min.insync.replicas the high watermark stands still, so whoever the ISR
// loses holds everything committed: it joins the ELR. Members back in the ISR leave it; at
// min.insync.replicas the ELR empties (the ISR alone holds what is committed from then on).
std::vector<int32_t> Controller::next_elr(const PartitionState& p, const std::vector<int32_t>& isr, int32_t min_isr) const {
  if (config_.bugs.no_elr || static_cast<int32_t>(isr.size()) >= min_isr) return {};
  std::vector<int32_t> elr;
  for (int32_t id : p.elr) {
    if (!contains(isr, id)) elr.push_back(id);
  }
  for (int32_t id : p.isr) {
    if (!contains(isr, id) && !contains(elr, id)) elr.push_back(id);
  }
  return elr;
}

int32_t Controller::min_insync(const MetadataImage& image, const std::string& topic, size_t replicas) const {
  std::optional<std::string> v = image.config(kConfigTopic, topic, kMinInsyncReplicas);
  if (!v) v = image.config(kConfigBroker, "", kMinInsyncReplicas);
  int32_t n = config_.min_insync_replicas;
  if (v) std::from_chars(v->data(), v->data() + v->size(), n);
  return std::clamp<int32_t>(n, 1, static_cast<int32_t>(std::max<size_t>(replicas, 1)));
}

}  // namespace samsa::controller
