#include "client/group_consumer.h"

#include <algorithm>

#include "protocol/errors.h"

namespace samsa::client {

using namespace samsa::kafka;

std::map<std::string, std::vector<TopicPartition>> assign_partitions(
    Assignor assignor, const std::map<std::string, std::vector<std::string>>& subscriptions,
    const std::map<std::string, int32_t>& partition_counts) {
  std::map<std::string, std::vector<TopicPartition>> out;
  for (const auto& [member, topics] : subscriptions) out[member];
  if (assignor == Assignor::range) {
    // Per topic: its subscribers in order each take a contiguous range; the first ones one more.
    for (const auto& [topic, count] : partition_counts) {
      std::vector<std::string> subs;
      for (const auto& [member, topics] : subscriptions) {
        if (std::find(topics.begin(), topics.end(), topic) != topics.end()) subs.push_back(member);
      }
      if (subs.empty()) continue;
      const int32_t n = static_cast<int32_t>(subs.size());
      int32_t next = 0;
      for (int32_t i = 0; i < n; ++i) {
        const int32_t take = count / n + (i < count % n ? 1 : 0);
        for (int32_t p = 0; p < take; ++p) out[subs[static_cast<size_t>(i)]].push_back({topic, next++});
      }
    }
    return out;
  }
  // Round robin over every partition, skipping members not subscribed to its topic.
  std::vector<std::string> members;
  for (const auto& [member, topics] : subscriptions) members.push_back(member);
  size_t turn = 0;
  for (const auto& [topic, count] : partition_counts) {
    for (int32_t p = 0; p < count; ++p) {
      for (size_t tries = 0; tries < members.size(); ++tries, ++turn) {
        const std::string& m = members[turn % members.size()];
        const auto& topics = subscriptions.at(m);
        if (std::find(topics.begin(), topics.end(), topic) != topics.end()) {
          out[m].push_back({topic, p});
          ++turn;
          break;
        }
      }
    }
  }
  return out;
}

GroupConsumer::GroupConsumer(Cluster& cluster, GroupConsumerConfig config)
    : cluster_(cluster), config_(std::move(config)), consumer_(cluster, config_.consumer) {}

Status GroupConsumer::ensure_coordinator() {
  if (coordinator_ && !coordinator_->broken()) return Status{};
  coordinator_.reset();
  Connection* any = nullptr;
  SAMSA_TRY_ASSIGN(any, cluster_.any());
  FindCoordinatorRequest req{config_.group_id, 0};
  const int16_t v = any->version(ApiKey::find_coordinator, 3).value_or(0);
  FindCoordinatorResponse resp;
  SAMSA_TRY_ASSIGN(resp, (any->call<FindCoordinatorRequest, FindCoordinatorResponse>(ApiKey::find_coordinator, v, req, cluster_.request_deadline())));
  if (resp.error_code != 0) return Errc::unavailable;
  SAMSA_TRY_ASSIGN(coordinator_, Connection::open(cluster_.rt(), Address{resp.host, static_cast<uint16_t>(resp.port)},
                                                  cluster_.config().client_id, cluster_.rt().after(cluster_.config().connect_timeout)));
  return Status{};
}

Result<std::vector<SyncGroupRequest::Assignment>> GroupConsumer::leader_assignments(const JoinGroupResponse& join) {
  std::vector<SyncGroupRequest::Assignment> out;
  std::map<std::string, std::vector<std::string>> subscriptions;
  std::map<std::string, int32_t> counts;
  for (const auto& m : join.members) {
    Result<ConsumerSubscription> sub = decode_prefix<ConsumerSubscription>(m.metadata);
    subscriptions[m.member_id] = sub.ok() ? sub->topics : std::vector<std::string>{};
    for (const std::string& t : subscriptions[m.member_id]) counts[t] = 0;
  }
  for (auto& [topic, n] : counts) {
    // A leader that cannot learn a topic's partitions must not hand out an empty assignment: the
    // group would be stable with nobody consuming. Failing the sync makes everyone rejoin.
    SAMSA_TRY_ASSIGN(n, cluster_.partition_count(topic));
  }
  auto assigned = assign_partitions(config_.assignor, subscriptions, counts);
  if (cluster_.rt().bug(Bug::client_overlapping_assignor) && assigned.size() >= 2 && !assigned.begin()->second.empty()) {
    std::next(assigned.begin())->second.push_back(assigned.begin()->second.front());  // also the second member's
  }
  for (const auto& [member, parts] : assigned) {
    ConsumerAssignment a;
    for (const TopicPartition& tp : parts) {
      if (a.assigned.empty() || a.assigned.back().topic != tp.topic) a.assigned.push_back({tp.topic, {}});
      a.assigned.back().partitions.push_back(tp.partition);
    }
    out.push_back({member, encode(a, 0)});
  }
  return out;
}

Status GroupConsumer::join_and_sync() {
  SAMSA_TRY(ensure_coordinator());
  const int16_t jv = coordinator_->version(ApiKey::join_group, 6).value_or(0);
  const int16_t sv = coordinator_->version(ApiKey::sync_group, 4).value_or(0);
  ConsumerSubscription sub{0, topics_, std::nullopt};
  for (int attempt = 0; attempt < 20; ++attempt) {
    JoinGroupRequest req;
    req.group_id = config_.group_id;
    req.session_timeout_ms = config_.session_timeout_ms;
    req.rebalance_timeout_ms = config_.rebalance_timeout_ms;
    req.member_id = member_id_;
    req.protocol_type = "consumer";
    req.protocols = {{config_.assignor == Assignor::range ? "range" : "roundrobin", encode(sub, 0)}};
    const Deadline deadline = cluster_.rt().after(std::chrono::milliseconds(config_.rebalance_timeout_ms) + cluster_.config().request_timeout);
    JoinGroupResponse join;
    SAMSA_TRY_ASSIGN(join, (coordinator_->call<JoinGroupRequest, JoinGroupResponse>(ApiKey::join_group, jv, req, deadline)));
    const Error e = static_cast<Error>(join.error_code);
    if (e == Error::member_id_required) {
      member_id_ = join.member_id;
      continue;
    }
    if (e == Error::unknown_member_id || e == Error::illegal_generation) {
      member_id_.clear();
      continue;
    }
    if (e == Error::rebalance_in_progress) continue;
    if (e != Error::none) return Errc::unavailable;
    member_id_ = join.member_id;
    // generation_ and assignment_ change together, and only once SyncGroup succeeded: a caller
    // must never see a new generation paired with the previous assignment.
    SyncGroupRequest sync{config_.group_id, join.generation_id, member_id_, std::nullopt, {}};
    if (join.leader == member_id_) {
      SAMSA_TRY_ASSIGN(sync.assignments, leader_assignments(join));
    }
    SyncGroupResponse synced;
    SAMSA_TRY_ASSIGN(synced, (coordinator_->call<SyncGroupRequest, SyncGroupResponse>(ApiKey::sync_group, sv, sync, deadline)));
    if (synced.error_code != 0) continue;  // the group moved on: join again
    generation_ = join.generation_id;
    assignment_.clear();
    if (!synced.assignment.empty()) {
      Result<ConsumerAssignment> a = decode_prefix<ConsumerAssignment>(synced.assignment);
      if (a.ok()) {
        for (const auto& t : a->assigned) {
          for (int32_t p : t.partitions) assignment_.push_back({t.topic, p});
        }
      }
    }
    consumer_.assign(assignment_);
    delivered_.clear();  // a new generation: only what is polled from now on is ours to commit
    SAMSA_TRY(resume_positions());
    needs_join_ = false;
    next_heartbeat_ = cluster_.rt().now() + std::chrono::milliseconds(config_.heartbeat_interval_ms);
    return Status{};
  }
  return Errc::timed_out;
}

Status GroupConsumer::resume_positions() {
  if (assignment_.empty()) return Status{};
  OffsetFetchRequest req;
  req.group_id = config_.group_id;
  req.topics.emplace();
  for (const TopicPartition& tp : assignment_) {
    if (req.topics->empty() || req.topics->back().name != tp.topic) req.topics->push_back({tp.topic, {}});
    req.topics->back().partition_indexes.push_back(tp.partition);
  }
  const int16_t v = coordinator_->version(ApiKey::offset_fetch, 7).value_or(1);
  const Instant invoked = cluster_.rt().now();
  OffsetFetchResponse resp;
  SAMSA_TRY_ASSIGN(resp, (coordinator_->call<OffsetFetchRequest, OffsetFetchResponse>(ApiKey::offset_fetch, v, req, cluster_.request_deadline())));
  if (resp.error_code != 0) return Errc::unavailable;  // v2+: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code != 0) return Errc::unavailable;
    }
  }
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      const TopicPartition tp{t.name, p.partition_index};
      resumes_.push_back(Resume{tp, p.committed_offset, invoked, cluster_.rt().now()});
      if (p.committed_offset >= 0) consumer_.seek(tp, p.committed_offset);
    }
  }
  return Status{};
}

Status GroupConsumer::heartbeat_if_due() {
  if (cluster_.rt().now() < next_heartbeat_) return Status{};
  HeartbeatRequest req{config_.group_id, generation_, member_id_, std::nullopt};
  const int16_t v = coordinator_->version(ApiKey::heartbeat, 4).value_or(0);
  HeartbeatResponse resp;
  SAMSA_TRY_ASSIGN(resp, (coordinator_->call<HeartbeatRequest, HeartbeatResponse>(ApiKey::heartbeat, v, req, cluster_.request_deadline())));
  next_heartbeat_ = cluster_.rt().now() + std::chrono::milliseconds(config_.heartbeat_interval_ms);
  if (resp.error_code != 0) needs_join_ = true;  // rebalance, or we were fenced: rejoin
  return Status{};
}

Result<std::vector<ConsumedRecord>> GroupConsumer::poll(Duration timeout) {
  const Deadline deadline = cluster_.rt().after(timeout);
  for (;;) {
    if (needs_join_) {
      Status s = join_and_sync();
      if (!s.ok()) {
        coordinator_.reset();
        if (cluster_.rt().now() >= deadline.at) return s;
        SAMSA_TRY(cluster_.rt().sleep(std::chrono::milliseconds(200)));
        continue;
      }
    }
    if (!heartbeat_if_due().ok()) {
      coordinator_.reset();
      needs_join_ = true;
      continue;
    }
    if (needs_join_) continue;
    const Duration left = std::max(Duration{0}, std::min<Duration>(deadline.at - cluster_.rt().now(), std::chrono::milliseconds(config_.heartbeat_interval_ms)));
    Result<std::vector<ConsumedRecord>> records = assignment_.empty() ? Result<std::vector<ConsumedRecord>>(std::vector<ConsumedRecord>{})
                                                                      : consumer_.poll(left);
    if (assignment_.empty()) SAMSA_TRY(cluster_.rt().sleep(left));
    if (records.ok()) {
      for (const ConsumedRecord& r : *records) delivered_[{r.topic, r.partition}] = r.offset + 1;
    }
    if ((records.ok() && !records->empty()) || cluster_.rt().now() >= deadline.at) return records;
  }
}

Status GroupConsumer::commit() { return commit(delivered_); }

Status GroupConsumer::commit(const std::map<TopicPartition, int64_t>& next_offsets) {
  // ok means the coordinator acknowledged every offset asked for, nothing less.
  if (next_offsets.empty()) return Status{};
  if (needs_join_ || !coordinator_) return Errc::unavailable;  // not a member now: nothing committed
  OffsetCommitRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  for (const auto& [tp, offset] : next_offsets) {
    if (std::find(assignment_.begin(), assignment_.end(), tp) == assignment_.end()) {
      return Errc::unavailable;  // no longer ours (a rebalance moved it): its commit is not ours to make
    }
    if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}});
    req.topics.back().partitions.push_back({tp.partition, offset, -1, -1, std::string()});
  }
  const int16_t v = coordinator_->version(ApiKey::offset_commit, 8).value_or(2);
  OffsetCommitResponse resp;
  SAMSA_TRY_ASSIGN(resp, (coordinator_->call<OffsetCommitRequest, OffsetCommitResponse>(ApiKey::offset_commit, v, req, cluster_.request_deadline())));
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      const auto e = static_cast<Error>(p.error_code);
      if (e == Error::none) continue;
      needs_join_ = true;
      // Refused before anything was written: definite. A coordinator that failed while storing
      // may or may not have kept the commit.
      const bool refused = e == Error::illegal_generation || e == Error::unknown_member_id ||
                           e == Error::rebalance_in_progress || e == Error::unknown_topic_or_partition ||
                           e == Error::invalid_commit_offset_size || e == Error::invalid_group_id;
      return refused ? Errc::unavailable : Errc::io_error;
    }
  }
  return Status{};
}

Status GroupConsumer::close() {
  if (!coordinator_ || member_id_.empty()) return Status{};
  LeaveGroupRequest req;
  req.group_id = config_.group_id;
  req.member_id = member_id_;
  req.members = {{member_id_, std::nullopt}};
  const int16_t v = coordinator_->version(ApiKey::leave_group, 4).value_or(0);
  (void)coordinator_->call<LeaveGroupRequest, LeaveGroupResponse>(ApiKey::leave_group, v, req, cluster_.request_deadline());
  member_id_.clear();
  needs_join_ = true;
  return Status{};
}

}  // namespace samsa::client
