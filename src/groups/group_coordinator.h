// GroupCoordinator: Kafka's classic consumer-group protocol on one broker.
//
// States: Empty -> PreparingRebalance -> CompletingRebalance -> Stable, back to
// PreparingRebalance when a member joins, leaves or its session expires. A JoinGroup call waits
// (suspending its connection's fiber) until the rebalance completes: every known member has
// rejoined, or the rebalance timeout (for a new group, group.initial.rebalance.delay.ms) has
// passed, and members that did not rejoin are dropped. The leader (first member) gets every
// member's metadata and sends the assignment in SyncGroup; followers' SyncGroup waits for it.
// JoinGroup v4+ without a member id answers MEMBER_ID_REQUIRED with the id to use (KIP-394).
// Static members (KIP-345, group.instance.id) get their id at once; one that restarts and rejoins
// without a member id takes its old place and assignment without a rebalance; a request with the
// instance id but another member id is fenced (FENCED_INSTANCE_ID). Their session timeout still
// applies: a static member that stays away longer is removed and the group rebalances.
//
// Committed offsets and group metadata are records of `__consumer_offsets`; the latest record
// for a key wins. A group lives in partition partition_for(group id) of it, and a coordinator
// serves the groups of the partitions it hosts:
// - a single broker (start()): one partition, 0, a local log it opens itself, fsynced before a
//   commit is acknowledged, replayed on start;
// - a broker of a KRaft cluster (start_cluster()): the replicated internal topic
//   (offsets.topic.num.partitions, offsets.topic.replication.factor). The broker calls elect()
//   when it becomes a partition's leader (its groups load from the log in a fiber of their own;
//   meanwhile serves() answers COORDINATOR_LOAD_IN_PROGRESS) and resign() when it stops; its
//   OffsetsStore appends as the leader and returns once the ISR holds the records (acks=all).
//   A resigned partition's groups are dropped at once: waiting joins and syncs wake up with
//   NOT_COORDINATOR, and the members find the new coordinator, which loaded them from its log.
//
// Threading: fibers of the broker's node; every call but serves(), elect() and resign() may
// suspend.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "log/log_manager.h"
#include "log/partition_log.h"
#include "protocol/errors.h"
#include "protocol/group_messages.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::groups {

struct GroupConfig {
  int32_t initial_rebalance_delay_ms = 3000;  // group.initial.rebalance.delay.ms
  int32_t min_session_timeout_ms = 6000;      // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;   // group.max.session.timeout.ms
  size_t groups_max = 10'000;                 // groups the coordinator holds (samsa's group.max.count)
  size_t members_max = 1'000;                 // group.max.size: members (and pending ids) per group
  size_t members_total_max = 100'000;         // across every group: memory stays bounded
};

// How a cluster coordinator's records reach a partition of __consumer_offsets it leads. The
// broker implements it (src/broker/offsets_store.*).
class OffsetsStore {
 public:
  virtual ~OffsetsStore() = default;
  // Appends `batch` to `partition` as its leader in `leader_epoch`; with `durable`, returns once
  // the ISR holds it. NOT_COORDINATOR: this broker does not lead it in that epoch (or no
  // longer does); COORDINATOR_NOT_AVAILABLE: too few replicas in sync, a disk error, a timeout.
  // After an error the records may or may not be kept (Kafka's answer is as uncertain).
  virtual kafka::Error append(int32_t partition, int32_t leader_epoch, ConstBytes batch, bool durable) = 0;
};

// Kafka's placement of a group: abs(Java's String.hashCode of the id) mod the partition count
// (GroupMetadataManager.partitionFor), so a group lands where Kafka's broker would put it.
int32_t partition_for(const std::string& group_id, int32_t partitions);

class GroupCoordinator {
 public:
  static constexpr const char* kOffsetsTopic = "__consumer_offsets";
  static constexpr Duration kLoadRetryBackoff = std::chrono::seconds(1);

  GroupCoordinator(Runtime& rt, GroupConfig config);
  ~GroupCoordinator();

  // Single broker: opens partition 0 through `logs`, replays it, and starts the session-expiry
  // fiber.
  Status start(LogManager& logs);
  // Cluster broker: starts the session-expiry fiber; partitions come with elect(). `store` must
  // outlive the coordinator.
  void start_cluster(OffsetsStore& store);
  void stop();
  bool offline() const { return offsets_log_ != nullptr && offsets_log_->offline(); }

  // Cluster: this broker leads `partition` (of `partitions`) in `leader_epoch`, with `log`.
  // Loads its groups in a fiber unless already hosted in that epoch. Does not suspend.
  void elect(int32_t partition, int32_t partitions, int32_t leader_epoch, std::shared_ptr<PartitionLog> log);
  // Cluster: this broker no longer leads `partition`. Does not suspend.
  void resign(int32_t partition);
  // Partitions hosted (loaded or loading) and their leader epochs.
  std::map<int32_t, int32_t> hosted() const;
  // Some hosted partition is still loading (ListGroups answers COORDINATOR_LOAD_IN_PROGRESS).
  bool loading() const;
  // Whether this coordinator serves `group_id` now: none, NOT_COORDINATOR, or
  // COORDINATOR_LOAD_IN_PROGRESS while its partition loads.
  kafka::Error serves(const std::string& group_id) const;

  kafka::JoinGroupResponse join(kafka::JoinGroupRequest& req, int16_t version, const std::string& client_id,
                                const std::string& client_host);
  kafka::SyncGroupResponse sync(kafka::SyncGroupRequest& req);
  kafka::Error heartbeat(const kafka::HeartbeatRequest& req);
  kafka::LeaveGroupResponse leave(const kafka::LeaveGroupRequest& req, int16_t version);
  kafka::OffsetCommitResponse commit(kafka::OffsetCommitRequest& req);
  kafka::OffsetFetchResponse fetch_offsets(const kafka::OffsetFetchRequest& req);
  // Groups with members or committed offsets; v4: only those in one of `states` (if any given).
  kafka::ListGroupsResponse list(const std::vector<std::string>& states) const;
  kafka::DescribeGroupsResponse describe(const kafka::DescribeGroupsRequest& req) const;
  // DeleteGroups: empty groups only (NON_EMPTY_GROUP otherwise), with their committed offsets.
  kafka::DeleteGroupsResponse delete_groups(const kafka::DeleteGroupsRequest& req);
  // OffsetDelete: GROUP_SUBSCRIBED_TO_TOPIC for topics a member subscribes to.
  kafka::OffsetDeleteResponse delete_offsets(const kafka::OffsetDeleteRequest& req);

  // For tests and checkers: the generation and members currently known.
  struct Snapshot {
    std::string state;
    int32_t generation = 0;
    std::vector<std::string> members;
  };
  std::optional<Snapshot> snapshot(const std::string& group) const;

 private:
  struct Member;
  struct Group;

  // A partition of __consumer_offsets this coordinator hosts.
  struct Hosted {
    int32_t leader_epoch = 0;
    bool loaded = false;
    std::shared_ptr<PartitionLog> log;
    uint64_t token = 0;  // which load this is (a newer election replaces an older load)
  };
  class LocalStore;

  // The group, created if missing; nullptr when creating it would pass groups_max. Shared: a
  // fiber that suspends holds it, so a resign() that drops it does not free it under the fiber.
  std::shared_ptr<Group> group_or_null(const std::string& id, bool loading = false);
  bool loaded(int32_t partition) const;
  // Drops the groups of `partition`, waking whoever waits on them.
  void drop_groups(int32_t partition);
  void load(int32_t partition, uint64_t token);
  void start_session_expiry();
  // Remembers an id issued with MEMBER_ID_REQUIRED; false when the group has too many pending.
  bool admit_pending(Group& g, const std::string& member_id, int32_t session_timeout_ms);
  size_t member_count() const;
  std::shared_ptr<Group> find(const std::string& id) const;
  std::optional<kafka::JoinGroupResponse> join_static(Group& g, kafka::JoinGroupRequest& req, int16_t version,
                                                      const std::string& client_id, const std::string& client_host);
  kafka::JoinGroupResponse join_response(const Group& g, const std::string& member_id) const;
  void update_member(Member& m, const kafka::JoinGroupRequest& req, int16_t version, const std::string& client_id,
                     const std::string& client_host);
  std::string new_member_id(const std::string& client_id);
  kafka::Error check_instance(const Group& g, const std::optional<std::string>& instance_id, const std::string& member_id) const;
  void begin_rebalance(Group& g, const char* why);
  void complete_join(Group& g);
  bool join_complete(const Group& g) const;
  void remove_member(Group& g, const std::string& member_id, const char* why);
  void expire_sessions();
  kafka::Error persist_group(const Group& g);
  std::set<std::string> subscribed_topics(const Group& g) const;
  static std::string offset_key(const std::string& group, const std::string& topic, int32_t partition);
  // Appends records to the group's partition; durable: fsynced (single) or held by the ISR
  // (cluster) before returning.
  kafka::Error append_records(int32_t partition,
                              const std::vector<std::pair<std::string, std::optional<std::vector<std::byte>>>>& records,
                              bool durable = true);
  // Applies the log's records; stops with Errc::cancelled once `current` says the load was
  // replaced.
  Status replay(PartitionLog& log, const std::function<bool()>& current);
  void apply_record(const std::string& key, const std::optional<std::vector<std::byte>>& value);

  Runtime& rt_;
  GroupConfig config_;
  std::shared_ptr<PartitionLog> offsets_log_;  // single broker only
  std::unique_ptr<LocalStore> local_store_;    // single broker only
  OffsetsStore* store_ = nullptr;
  int32_t partitions_ = 1;                      // of __consumer_offsets
  std::map<int32_t, Hosted> hosted_;            // at most partitions_
  uint64_t loads_ = 0;
  std::map<uint64_t, FiberId> loaders_;  // loads still running, by token: at most a few per partition
  std::map<std::string, std::shared_ptr<Group>> groups_;
  FiberId expiry_fiber_ = kNoFiber;
};

const char* state_name(int state);

}  // namespace samsa::groups
