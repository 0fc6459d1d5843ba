// The controller's topic operations (CreateTopics, DeleteTopics, CreatePartitions, topic
// configs), replica placement, and AlterPartition.
#include <algorithm>
#include <set>

#include "controller/controller.h"

namespace samsa::controller {

using kafka::Error;

namespace {

bool legal_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

ControllerResult error_result(Error e) {
  ControllerResult r;
  r.error = e;
  return r;
}

kafka::PartitionRecord new_partition(const kafka::Uuid& topic_id, int32_t id, std::vector<int32_t> replicas) {
  kafka::PartitionRecord r;
  r.partition_id = id;
  r.topic_id = topic_id;
  r.isr = replicas;  // placement uses unfenced brokers only
  r.leader = replicas.front();
  r.replicas = std::move(replicas);
  r.leader_epoch = 0;
  r.partition_epoch = 0;
  return r;
}

}  // namespace

Error Controller::validate_topic_name(const std::string& name) const {
  if (name.empty() || name.size() > config_.topic_name_bytes_max || name == "." || name == "..") {
    return Error::invalid_topic_exception;
  }
  if (!std::all_of(name.begin(), name.end(), legal_topic_char)) return Error::invalid_topic_exception;
  return Error::none;
}

// Kafka's rack-unaware placement over the unfenced brokers in id order: partition p's first
// replica is broker (p + start) mod n; replica j > 0 is 1 + (shift + j - 1) mod (n - 1) places
// after it, and the shift grows by one each time the partitions wrap around the brokers.
std::vector<std::vector<int32_t>> Controller::place(const MetadataImage& image, int32_t first_partition,
                                                    int32_t count, int16_t replication_factor,
                                                    PlacementChoice placement) const {
  std::vector<int32_t> brokers;
  for (const auto& [id, b] : image.brokers()) {
    if (!b.fenced) brokers.push_back(id);
  }
  const auto n = static_cast<int64_t>(brokers.size());
  SAMSA_ASSERT(replication_factor >= 1 && replication_factor <= n);
  const int64_t start = placement.start_index % n;
  int64_t shift = n > 1 ? placement.shift % (n - 1) : 0;
  std::vector<std::vector<int32_t>> out;
  for (int64_t p = first_partition; p < int64_t{first_partition} + count; ++p) {
    if (p > 0 && p % n == 0) ++shift;
    const int64_t first = (p + start) % n;
    std::vector<int32_t> replicas{brokers[static_cast<size_t>(first)]};
    for (int64_t j = 0; j + 1 < replication_factor; ++j) {
      const int64_t offset = 1 + (shift + j) % (n - 1);
      replicas.push_back(brokers[static_cast<size_t>((first + offset) % n)]);
    }
    SAMSA_ASSERT(!has_duplicates(replicas));
    out.push_back(std::move(replicas));
  }
  return out;
}

CreateTopicResult Controller::create_topic(const MetadataImage& image, const CreateTopicRequest& request,
                                           const kafka::Uuid& topic_id, PlacementChoice placement) const {
  CreateTopicResult result;
  const int32_t partitions = request.num_partitions == -1 ? config_.default_partitions : request.num_partitions;
  const int16_t rf = request.replication_factor == -1 ? config_.default_replication_factor : request.replication_factor;
  result.error = validate_topic_name(request.name);
  if (result.error != Error::none) return result;
  if (image.topic(request.name) != nullptr) result.error = Error::topic_already_exists;
  else if (partitions < 1) result.error = Error::invalid_partitions;
  else if (rf < 1) result.error = Error::invalid_replication_factor;
  else if (request.configs.size() > config_.configs_per_request_max) result.error = Error::policy_violation;
  else if (static_cast<size_t>(partitions) > config_.partitions_per_request_max ||
           image.partition_count() + static_cast<size_t>(partitions) > config_.limits.partitions_max ||
           image.topics().size() >= config_.limits.topics_max ||
           image.config_count() + request.configs.size() > config_.limits.configs_max) {
    result.error = Error::policy_violation;
  } else if (static_cast<size_t>(rf) > config_.limits.replicas_max) {
    result.error = Error::invalid_replication_factor;
  }
  for (const auto& [key, value] : request.configs) {
    if (result.error != Error::none) break;
    if (key.empty() || (key == kUncleanLeaderElection && value != "true" && value != "false")) {
      result.error = Error::invalid_config;
    }
  }
  if (result.error != Error::none) return result;
  const auto unfenced = std::count_if(image.brokers().begin(), image.brokers().end(),
                                      [](const auto& kv) { return !kv.second.fenced; });
  if (rf > unfenced) {
    result.error = Error::invalid_replication_factor;
    return result;
  }
  if (topic_id.is_zero() || image.topic_by_id(topic_id) != nullptr) {
    result.error = Error::unknown_server_error;  // the caller's id collided: it retries with another
    return result;
  }
  result.topic_id = topic_id;
  result.records.emplace_back(kafka::TopicRecord{request.name, topic_id});
  for (const auto& [key, value] : request.configs) {
    result.records.emplace_back(kafka::ConfigRecord{kConfigTopic, request.name, key, value});
  }
  std::vector<std::vector<int32_t>> assignment = place(image, 0, partitions, rf, placement);
  for (int32_t p = 0; p < partitions; ++p) {
    result.records.emplace_back(new_partition(topic_id, p, std::move(assignment[static_cast<size_t>(p)])));
  }
  return result;
}

ControllerResult Controller::delete_topic(const MetadataImage& image, const std::string& name) const {
  const TopicImage* t = image.topic(name);
  if (t == nullptr) return error_result(Error::unknown_topic_or_partition);
  ControllerResult result;
  result.records.emplace_back(kafka::RemoveTopicRecord{t->id});
  return result;
}

// New partitions keep the replication factor of partition 0 and continue its round robin.
ControllerResult Controller::create_partitions(const MetadataImage& image, const std::string& name, int32_t new_count,
                                               PlacementChoice placement) const {
  const TopicImage* t = image.topic(name);
  if (t == nullptr) return error_result(Error::unknown_topic_or_partition);
  SAMSA_ASSERT(!t->partitions.empty());
  const auto current = static_cast<int32_t>(t->partitions.size());
  if (new_count <= current) return error_result(Error::invalid_partitions);
  const auto added = static_cast<size_t>(new_count - current);
  if (added > config_.partitions_per_request_max || image.partition_count() + added > config_.limits.partitions_max) {
    return error_result(Error::policy_violation);
  }
  const auto rf = static_cast<int16_t>(t->partitions[0].replicas.size());
  const auto unfenced = std::count_if(image.brokers().begin(), image.brokers().end(),
                                      [](const auto& kv) { return !kv.second.fenced; });
  if (rf > unfenced) return error_result(Error::invalid_replication_factor);
  ControllerResult result;
  std::vector<std::vector<int32_t>> assignment = place(image, current, new_count - current, rf, placement);
  for (int32_t p = current; p < new_count; ++p) {
    result.records.emplace_back(new_partition(t->id, p, std::move(assignment[static_cast<size_t>(p - current)])));
  }
  return result;
}

ElectLeadersResult Controller::elect_leaders(
    const MetadataImage& image, ElectionType type,
    const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions) const {
  ElectLeadersResult result;
  const Liveness live{&image, -1, -1};
  auto elect_one = [&](const TopicImage& t, size_t i) -> Error {
    const PartitionState& p = t.partitions[i];
    if (type == ElectionType::preferred) {
      const int32_t preferred = p.replicas.empty() ? kNoLeader : p.replicas.front();
      if (p.leader == preferred) return Error::election_not_needed;
      if (preferred == kNoLeader || !live(preferred) || !contains(p.isr, preferred)) return Error::preferred_leader_not_available;
      append_change(t, i, p, Election{preferred, p.isr, p.elr}, result.records);
      return Error::none;
    }
    if (p.leader != kNoLeader) return Error::election_not_needed;
    const Election e = elect(p, p.isr, p.elr, live, true);
    if (e.leader == kNoLeader) return Error::eligible_leaders_not_available;
    append_change(t, i, p, e, result.records);
    return Error::none;
  };
  if (!partitions) {
    for (const auto& [name, t] : image.topics()) {
      for (size_t i = 0; i < t.partitions.size(); ++i) {
        const Error e = elect_one(t, i);
        if (e != Error::election_not_needed) result.partitions.push_back({name, static_cast<int32_t>(i), e});
      }
    }
    return result;
  }
  if (partitions->size() > config_.partitions_per_request_max) return {{Error::policy_violation, {}}, {}};
  std::set<std::pair<std::string, int32_t>> seen;  // a partition named twice is elected once
  for (const auto& [name, index] : *partitions) {
    if (!seen.insert({name, index}).second) continue;
    const TopicImage* t = image.topic(name);
    const bool exists = t != nullptr && index >= 0 && static_cast<size_t>(index) < t->partitions.size();
    result.partitions.push_back(
        {name, index, exists ? elect_one(*t, static_cast<size_t>(index)) : Error::unknown_topic_or_partition});
  }
  return result;
}

ControllerResult Controller::alter_topic_config(const MetadataImage& image, const std::string& topic,
                                                const std::string& key, const std::optional<std::string>& value) const {
  const TopicImage* t = image.topic(topic);
  if (t == nullptr) return error_result(Error::unknown_topic_or_partition);
  if (key.empty() || (key == kUncleanLeaderElection && value && *value != "true" && *value != "false")) {
    return error_result(Error::invalid_config);
  }
  const bool is_new = !image.config(kConfigTopic, topic, key).has_value();
  if (value && is_new && image.config_count() >= config_.limits.configs_max) return error_result(Error::policy_violation);
  ControllerResult result;
  result.records.emplace_back(kafka::ConfigRecord{kConfigTopic, topic, key, value});
  if (key == kUncleanLeaderElection && value == "true") {
    elect_leaderless(*t, Liveness{&image, -1, -1}, true, result.records);
  }
  // KIP-966 (ClearElrRecord): an ELR was built under the old min.insync.replicas; under a lower
  // one the high watermark may move past what its members hold.
  if (key == kMinInsyncReplicas) {
    for (size_t i = 0; i < t->partitions.size(); ++i) {
      const PartitionState& p = t->partitions[i];
      if (!p.elr.empty()) append_change(*t, i, p, Election{p.leader, p.isr, {}}, result.records);
    }
  }
  return result;
}

// Kafka's order of checks (ReplicationControlManager): epochs ahead of ours mean this
// controller is behind (NOT_CONTROLLER); an older leader epoch is fenced; only the leader may
// ask; an older partition epoch lost a race (INVALID_UPDATE_VERSION); the ISR must be replicas,
// hold the leader, keep the partition recovered (KIP-704), and (KIP-903) name only registered
// unfenced brokers of the right epoch.
Error Controller::validate_alter(const MetadataImage& image, const AlterPartitionRequest& request) const {
  const BrokerRegistration* asker = image.broker(request.broker_id);
  if (asker == nullptr || asker->epoch != request.broker_epoch) return Error::stale_broker_epoch;
  const TopicImage* t = image.topic_by_id(request.topic_id);
  if (t == nullptr) return Error::unknown_topic_id;
  if (request.partition < 0 || static_cast<size_t>(request.partition) >= t->partitions.size()) {
    return Error::unknown_topic_or_partition;
  }
  const PartitionState& p = t->partitions[static_cast<size_t>(request.partition)];
  if (request.leader_epoch > p.leader_epoch || request.partition_epoch > p.partition_epoch) return Error::not_controller;
  if (request.leader_epoch < p.leader_epoch) return Error::fenced_leader_epoch;
  if (request.broker_id != p.leader) return Error::invalid_request;
  if (request.partition_epoch < p.partition_epoch && !config_.bugs.accept_stale_partition_epoch) {
    return Error::invalid_update_version;
  }
  if (request.new_isr.empty() || request.new_isr.size() > p.replicas.size()) return Error::invalid_request;
  std::vector<int32_t> isr;
  for (const IsrMember& m : request.new_isr) isr.push_back(m.broker_id);
  if (has_duplicates(isr) || !is_subset(isr, p.replicas) || !contains(isr, p.leader)) return Error::invalid_request;
  // samsa keeps no leader recovery state: every partition is recovered, and Kafka refuses both
  // an unknown state and a recovered partition going back to recovering.
  if (request.leader_recovery_state != 0) return Error::invalid_request;
  for (const IsrMember& m : request.new_isr) {
    const BrokerRegistration* b = image.broker(m.broker_id);
    if (b == nullptr || b->fenced || (m.broker_epoch != model::BrokerEpoch{-1} && m.broker_epoch != b->epoch)) {
      return Error::ineligible_replica;
    }
  }
  return Error::none;
}

// On success the change is one PartitionChangeRecord with the new ISR and the ELR that goes with
// it (KIP-966; none when the ISR is already that), so the partition epoch grows by one.
ControllerResult Controller::alter_partition(const MetadataImage& image, const AlterPartitionRequest& request) const {
  const Error e = validate_alter(image, request);
  if (e != Error::none) return error_result(e);
  const TopicImage* t = image.topic_by_id(request.topic_id);
  const PartitionState& p = t->partitions[static_cast<size_t>(request.partition)];
  std::vector<int32_t> isr;
  for (const IsrMember& m : request.new_isr) isr.push_back(m.broker_id);
  ControllerResult result;
  if (isr == p.isr) return result;
  std::vector<int32_t> elr = next_elr(p, isr, min_insync(image, t->name, p.replicas.size()));
  append_change(*t, static_cast<size_t>(request.partition), p, Election{p.leader, std::move(isr), std::move(elr)},
                result.records);
  return result;
}

}  // namespace samsa::controller
