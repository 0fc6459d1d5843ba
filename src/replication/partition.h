// Partition: the state of one partition on this broker — its log, its role (leader or
// follower), leader and partition epochs, replicas and ISR as this broker last learned them, and
// min.insync.replicas — so request handlers ask it instead of deriving these from constants and
// configs. PartitionTable: every partition this broker holds a replica of (Kafka's
// ReplicaManager's partition map), and the rules for serving a client from them.
//
// Who fills the table: the single broker's TopicManager (it leads every partition, epoch 0), or
// in a KRaft cluster the broker's metadata reconciliation (src/server), which publishes what the
// image says once the partition's log is open for the image's topic id. The next issue adds the
// replication state here (follower fetch positions, the high watermark, acks=all waiters).
//
// Threading: fibers of the broker's node; nothing here suspends but AppendWatch::wait.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "log/log_manager.h"
#include "log/partition_log.h"
#include "model/ids.h"
#include "model/topic_partition.h"
#include "protocol/errors.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::replication {

class Partition;

// A long-polling fetch's wake-up call: watched on every partition the fetch reads, fired by an
// append to any of them, so an append wakes only the fetches that read its partition. Owned by
// the fetch (its connection's fiber); unregisters itself when destroyed.
class AppendWatch {
 public:
  explicit AppendWatch(Runtime& rt) : fired_(rt) {}
  ~AppendWatch();
  AppendWatch(const AppendWatch&) = delete;
  AppendWatch& operator=(const AppendWatch&) = delete;

  void watch(std::shared_ptr<Partition> partition);
  void rearm() { fired_.reset(); }
  void fire() { fired_.set(); }
  // ok once fired (since the last rearm), else timed_out or cancelled.
  Status wait(Deadline deadline) { return fired_.wait(deadline); }

 private:
  Event fired_;
  std::vector<std::shared_ptr<Partition>> watched_;  // at most the fetch's partitions
};

enum class Role { leader, follower };

// What the metadata says of one partition, as far as this broker needs it.
struct PartitionState {
  std::string topic_id;  // Kafka's base64 text form, as partition.metadata holds it
  model::BrokerId leader{-1};  // -1: none
  model::LeaderEpoch leader_epoch{0};
  model::PartitionEpoch partition_epoch{0};
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int32_t min_insync_replicas = 1;

  friend bool operator==(const PartitionState&, const PartitionState&) = default;
};

class Partition {
 public:
  Partition(model::TopicPartition tp, model::BrokerId self, const LogManager& logs, PartitionState state);

  const model::TopicPartition& tp() const { return tp_; }
  const PartitionState& state() const { return state_; }
  Role role() const { return state_.leader == self_ ? Role::leader : Role::follower; }
  model::LeaderEpoch leader_epoch() const { return state_.leader_epoch; }
  // The log as the log manager holds it now (it may have been reopened after a disk error):
  // Errc::unavailable while it is offline.
  Result<std::shared_ptr<PartitionLog>> log() const;
  // acks=all: whether the ISR has at least min.insync.replicas members (Kafka refuses the
  // append with NOT_ENOUGH_REPLICAS otherwise).
  bool enough_in_sync() const { return static_cast<int64_t>(state_.isr.size()) >= state_.min_insync_replicas; }

  // A newer view of the partition. Within one topic id, epochs never go back.
  void update(PartitionState next);

  // Records were appended (or, with replication, became visible): wakes the fetches watching.
  void appended();
  // One entry per fetch in flight on this partition: bounded by the broker's connections
  // (one request at a time each) times the partitions of one request (bounded by its frame).
  void add_watch(AppendWatch* w) { watches_.push_back(w); }
  void remove_watch(AppendWatch* w) { std::erase(watches_, w); }

 private:
  model::TopicPartition tp_;
  model::BrokerId self_;
  const LogManager& logs_;
  PartitionState state_;
  std::vector<AppendWatch*> watches_;
};

class PartitionTable {
 public:
  PartitionTable(model::BrokerId self, const LogManager& logs) : self_(self), logs_(logs) {}

  // Creates or updates the partition.
  void put(const model::TopicPartition& tp, PartitionState state);
  void remove(const model::TopicPartition& tp) { partitions_.erase(tp); }
  // Keeps only the partitions `keep` says yes to.
  template <typename Keep>
  void retain(Keep keep) {
    std::erase_if(partitions_, [&](const auto& kv) { return !keep(kv.first); });
  }

  // The partition and its log when this broker leads it. Otherwise: UNKNOWN_TOPIC_OR_PARTITION
  // (not held here), FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when the client names a leader
  // epoch older / newer than this broker's (KIP-320; -1: the client names none),
  // NOT_LEADER_OR_FOLLOWER (a follower here), LEADER_NOT_AVAILABLE (no leader),
  // KAFKA_STORAGE_ERROR (its log is offline).
  kafka::Error leader(const model::TopicPartition& tp, std::shared_ptr<Partition>* partition,
                      std::shared_ptr<PartitionLog>* log, int32_t current_leader_epoch = -1) const;
  std::shared_ptr<Partition> find(const model::TopicPartition& tp) const;
  size_t size() const { return partitions_.size(); }

 private:
  model::BrokerId self_;
  const LogManager& logs_;
  // shared: a request in flight keeps the partition it looked up alive
  std::map<model::TopicPartition, std::shared_ptr<Partition>> partitions_;
};

}  // namespace samsa::replication
