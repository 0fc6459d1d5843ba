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

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log/log_manager.h"
#include "log/partition_log.h"
#include "model/ids.h"
#include "model/topic_partition.h"
#include "protocol/errors.h"
#include "protocol/wire.h"
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
  Partition(Runtime& rt, model::TopicPartition tp, model::BrokerId self, const LogManager& logs, PartitionState state);

  const model::TopicPartition& tp() const { return tp_; }
  const PartitionState& state() const { return state_; }
  // state().topic_id parsed (zero when empty or malformed): fetches compare ids on every call.
  const kafka::Uuid& topic_uuid() const { return topic_uuid_; }
  Role role() const { return state_.leader == self_ ? Role::leader : Role::follower; }
  model::LeaderEpoch leader_epoch() const { return state_.leader_epoch; }
  // The log as the log manager holds it now (it may have been reopened after a disk error):
  // Errc::unavailable while it is offline.
  Result<std::shared_ptr<PartitionLog>> log() const;
  // acks=all: whether the ISR has at least min.insync.replicas members (Kafka refuses the
  // append with NOT_ENOUGH_REPLICAS otherwise).
  bool enough_in_sync() const { return static_cast<int64_t>(state_.isr.size()) >= state_.min_insync_replicas; }

  // A newer view of the partition. Within one topic id, epochs never go back. A new leader
  // epoch forgets what was known of the followers (they prove their log end again).
  void update(PartitionState next);

  // --- the high watermark (Kafka's semantics) ---
  // On the leader: the smallest log end over itself and every ISR member, never going back
  // within an epoch (a follower whose log end is not known yet holds it where it is); this
  // broker's own log end counts only what its flush policy makes visible (flush.messages=1:
  // what is synced). Not advanced while the ISR is smaller than min(min.insync.replicas, the
  // replication factor) (KIP-966's rule: what a lone leader holds is not yet committed).
  // On a follower: min(the leader's high watermark, its own log end).
  int64_t high_watermark() const;
  // Leader: a follower fetched from `fetch_offset`, so its log matches the leader's up to there;
  // `broker_epoch` is the one its fetch carried (Fetch v15, KIP-903; -1: an older fetch).
  // Returns whether the high watermark advanced (appended() then wakes the waiters).
  bool record_follower_fetch(model::BrokerId replica, int64_t fetch_offset, int64_t broker_epoch = -1);
  // The broker epoch of the follower's last fetch in this leader epoch (-1: none carried one).
  // KIP-903: an ISR expansion names the epoch of the incarnation that fetched, so the controller
  // refuses it if that broker has restarted (and may have lost what it showed) since.
  int64_t follower_broker_epoch(model::BrokerId replica) const;
  // Leader: recomputes after an append or an ISR change; whether it advanced.
  bool advance_high_watermark();
  // Follower: the leader's high watermark from its last fetch answer.
  void follow_high_watermark(int64_t leader_high_watermark);
  // Leader: the log end when this broker became leader in this epoch. Until the high watermark
  // reaches it, a new leader cannot tell what is committed: ListOffsets answers
  // OFFSET_NOT_AVAILABLE (KIP-320).
  int64_t epoch_start_offset() const { return epoch_start_offset_; }
  // The follower's log end as the leader last learned it (-1: not yet in this epoch).
  int64_t follower_log_end(model::BrokerId replica) const;
  // Leader: the ISR it should ask the controller for (Kafka's rules), or nullopt for no change.
  // A member that has not caught up with the leader's log end within `lag_max` leaves it
  // (replica.lag.time.max.ms; this broker's own leadership counts as the start for one that
  // never fetched); a replica outside it joins once a fetch since the ISR last changed shows its
  // log reaching both the high watermark and the start of this leader epoch (Kafka expands on a
  // follower's fetch: a paused follower must not come back on what it showed before). In
  // replica order.
  std::optional<std::vector<int32_t>> wanted_isr(Duration lag_max) const;
  // The ISR asked of the controller and not yet in the metadata (Kafka's "maximal ISR"): its
  // new members count for the high watermark from the moment they are asked for, so that none
  // joins the ISR without what was committed meanwhile. Cleared by a refusal or by the next
  // partition epoch, never by a request whose outcome is unknown (a timeout, an unreachable
  // controller: the change may have committed); until then each request adds its members.
  void set_requested_isr(const std::vector<int32_t>& isr) {
    for (int32_t id : isr) {
      if (std::find(requested_isr_.begin(), requested_isr_.end(), id) == requested_isr_.end()) requested_isr_.push_back(id);
    }
  }
  void clear_requested_isr() { requested_isr_.clear(); }
  // acks=all: waits until the high watermark passes `offset`, appended while this broker led in
  // `epoch` (ok), or the deadline (timed_out), or this broker no longer leads in that epoch
  // (Errc::unavailable): in a later one, even its own, the offset may hold another record.
  Status wait_for_high_watermark(int64_t offset, model::LeaderEpoch epoch, Deadline deadline);

  // Records were appended (or, with replication, became visible): wakes the fetches watching.
  void appended();
  // One entry per fetch in flight on this partition: bounded by the broker's connections
  // (one request at a time each) times the partitions of one request (bounded by its frame).
  void add_watch(AppendWatch* w) { watches_.push_back(w); }
  void remove_watch(AppendWatch* w) { std::erase(watches_, w); }

 private:
  // A new leader (or leader epoch) starts over: followers prove their log ends again.
  void become(bool new_epoch);
  // The held log, offline or not (nullptr: none, or it is opening or failed to open). Looked
  // up again only when the manager's version moves: a map lookup per call was a tenth of a
  // simulated cluster's time (high watermark, fetch and checker paths ask many times a step).
  PartitionLog* held_log() const;
  PartitionLog* online_log() const;  // held_log() unless it is offline
  // The leader's own log end for the high watermark (its flush policy's visible end).
  std::optional<int64_t> own_log_end() const;
  // Hands the high watermark to the log for its periodic checkpoint.
  void note_high_watermark();
  // min over the ISR of the log ends, or nullopt while some member's is unknown.
  std::optional<int64_t> isr_log_end() const;

  Runtime& rt_;
  model::TopicPartition tp_;
  model::BrokerId self_;
  const LogManager& logs_;
  struct HeldLog {
    uint64_t version = UINT64_MAX;  // of logs_ when looked up
    bool held = false;              // logs_ has an entry for tp_
    PartitionLog* log = nullptr;    // the entry's log, kept alive by logs_ while version holds
    std::weak_ptr<PartitionLog> shared;  // the same, for log(): a cache must not keep it alive
  };
  mutable HeldLog held_log_;
  PartitionState state_;
  kafka::Uuid topic_uuid_;
  std::vector<AppendWatch*> watches_;
  int64_t high_watermark_ = 0;
  std::vector<int32_t> requested_isr_;  // see set_requested_isr()
  struct Follower {
    int64_t log_end = -1;
    Instant last_fetch{};
    int64_t leader_end_at_last_fetch = -1;
    Instant caught_up_at{};  // last time its fetch reached the leader's log end (Kafka's rule)
    int64_t broker_epoch = -1;  // from its last fetch (v15)
  };
  std::map<int32_t, Follower> followers_;  // broker id -> what its fetches showed; at most the replicas
  Instant leader_since_{};                 // when this broker became leader in this epoch
  Instant isr_changed_at_{};               // when this broker last learned a new ISR
  int64_t epoch_start_offset_ = 0;         // the log end when it did
  WaitQueue high_watermark_changed_;
};

class PartitionTable {
 public:
  PartitionTable(Runtime& rt, model::BrokerId self, const LogManager& logs) : rt_(rt), self_(self), logs_(logs) {}

  // Creates or updates the partition.
  void put(const model::TopicPartition& tp, PartitionState state);
  void remove(const model::TopicPartition& tp) { version_ += partitions_.erase(tp); }
  // Keeps only the partitions `keep` says yes to.
  template <typename Keep>
  void retain(Keep keep) {
    version_ += std::erase_if(partitions_, [&](const auto& kv) { return !keep(kv.first); });
  }
  // Changes whenever a partition object is added or removed (not when one takes a new state):
  // an observer may keep pointers from find() for as long as this stays the same.
  uint64_t version() const { return version_; }

  // The partition and its log when this broker leads it. Otherwise: UNKNOWN_TOPIC_OR_PARTITION
  // (not held here), FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when the client names a leader
  // epoch older / newer than this broker's (KIP-320; -1: the client names none),
  // NOT_LEADER_OR_FOLLOWER (a follower here), LEADER_NOT_AVAILABLE (no leader),
  // KAFKA_STORAGE_ERROR (its log is offline).
  kafka::Error leader(const model::TopicPartition& tp, std::shared_ptr<Partition>* partition,
                      std::shared_ptr<PartitionLog>* log, int32_t current_leader_epoch = -1) const;
  std::shared_ptr<Partition> find(const model::TopicPartition& tp) const;
  size_t size() const { return partitions_.size(); }
  const std::map<model::TopicPartition, std::shared_ptr<Partition>>& all() const { return partitions_; }

 private:
  Runtime& rt_;
  model::BrokerId self_;
  const LogManager& logs_;
  // shared: a request in flight keeps the partition it looked up alive
  std::map<model::TopicPartition, std::shared_ptr<Partition>> partitions_;
  uint64_t version_ = 0;
};

}  // namespace samsa::replication
