// GroupConsumer: a consumer-group member (Kafka's classic protocol, "consumer" protocol type).
// subscribe(), then poll(): it finds the coordinator, joins (with the member-id round trip),
// assigns partitions if it is the leader (range or round-robin, as Kafka's assignors do), syncs,
// resumes from the committed offsets, and heartbeats between fetches. commit() commits the
// current positions (call it after processing for at-least-once); close() leaves the group.
//
// Threading: fibers of one node; one fiber at a time (heartbeats run inside poll).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/cluster.h"
#include "client/consumer.h"
#include "protocol/group_messages.h"

namespace samsa::client {

enum class Assignor { range, roundrobin };

struct GroupConsumerConfig {
  std::string group_id;
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 30000;
  int32_t heartbeat_interval_ms = 1000;
  Assignor assignor = Assignor::range;
  ConsumerConfig consumer;
};

// The assignment an assignor computes: member id -> partitions. Members and topics are taken in
// sorted order, so every leader computes the same result.
std::map<std::string, std::vector<TopicPartition>> assign_partitions(
    Assignor assignor, const std::map<std::string, std::vector<std::string>>& subscriptions,
    const std::map<std::string, int32_t>& partition_counts);

class GroupConsumer {
 public:
  GroupConsumer(Cluster& cluster, GroupConsumerConfig config);

  void subscribe(std::vector<std::string> topics) { topics_ = std::move(topics); needs_join_ = true; }
  Result<std::vector<ConsumedRecord>> poll(Duration timeout);
  // Commits the offsets after the records poll() returned (all of them processed). Errors:
  // Errc::unavailable means definitely not committed (not a member now, or the coordinator
  // refused); any other error leaves it unknown (the request may have been applied).
  Status commit();
  // Commits exactly these next-offsets (for callers that processed only part of a poll).
  Status commit(const std::map<TopicPartition, int64_t>& next_offsets);
  Status close();

  // Committed offsets handed out when partitions were (re)assigned, for checkers.
  struct Resume {
    TopicPartition tp;
    int64_t committed = -1;  // -1: nothing committed
    Instant invoked{}, completed{};
  };
  std::vector<Resume> take_resumes() { return std::exchange(resumes_, {}); }
  std::vector<PositionMove> take_moves() { return consumer_.take_moves(); }

  int32_t generation() const { return generation_; }
  const std::string& member_id() const { return member_id_; }
  const std::vector<TopicPartition>& assignment() const { return assignment_; }

 private:
  Status ensure_coordinator();
  Status join_and_sync();
  // The leader's job: every member's assignment, from their subscriptions.
  Result<std::vector<kafka::SyncGroupRequest::Assignment>> leader_assignments(const kafka::JoinGroupResponse& join);
  Status resume_positions();
  Status heartbeat_if_due();

  Cluster& cluster_;
  GroupConsumerConfig config_;
  Consumer consumer_;
  std::unique_ptr<Connection> coordinator_;
  std::vector<std::string> topics_;
  std::string member_id_;
  int32_t generation_ = -1;
  std::vector<TopicPartition> assignment_;
  std::map<TopicPartition, int64_t> delivered_;  // next offset after what poll() returned
  bool needs_join_ = true;
  Instant next_heartbeat_{};
  std::vector<Resume> resumes_;
};

}  // namespace samsa::client
