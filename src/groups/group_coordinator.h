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
// Committed offsets and group metadata are appended to an internal log, partition 0 of
// `__consumer_offsets`, which the broker's LogManager holds like any other partition (fsynced
// before a commit is acknowledged), and replayed on start; the latest record for a key wins.
//
// Threading: fibers of the broker's node; every call may suspend.
#pragma once

#include <cstdint>
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

class GroupCoordinator {
 public:
  static constexpr const char* kOffsetsTopic = "__consumer_offsets";

  GroupCoordinator(Runtime& rt, GroupConfig config);
  ~GroupCoordinator();

  // Opens the offsets log through `logs`, replays it, and starts the session-expiry fiber.
  Status start(LogManager& logs);
  void stop();
  bool offline() const { return offsets_log_ != nullptr && offsets_log_->offline(); }

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

  // The group, created if missing; nullptr when creating it would pass groups_max.
  Group* group_or_null(const std::string& id);
  // Remembers an id issued with MEMBER_ID_REQUIRED; false when the group has too many pending.
  bool admit_pending(Group& g, const std::string& member_id, int32_t session_timeout_ms);
  size_t member_count() const;
  Group* find(const std::string& id) const;
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
  Status persist_group(const Group& g);
  std::set<std::string> subscribed_topics(const Group& g) const;
  static std::string offset_key(const std::string& group, const std::string& topic, int32_t partition);
  // Appends records to the offsets log; durable: fsynced before returning.
  Status append_records(const std::vector<std::pair<std::string, std::optional<std::vector<std::byte>>>>& records,
                        bool durable = true);
  Status replay();
  void apply_record(const std::string& key, const std::optional<std::vector<std::byte>>& value);

  Runtime& rt_;
  GroupConfig config_;
  std::shared_ptr<PartitionLog> offsets_log_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  FiberId expiry_fiber_ = kNoFiber;
};

const char* state_name(int state);

}  // namespace samsa::groups
