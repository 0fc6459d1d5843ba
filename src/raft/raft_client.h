// RaftClient: one node's side of the KRaft metadata quorum (KIP-595 with KIP-996 pre-vote and
// KIP-630 snapshots), written against the Runtime so the simulator can crash and partition it.
//
// What it guarantees to the state machine (the controller; brokers as observers):
// - Entries commit in one total order; an entry reported committed (handle_commit, the high
//   watermark) is never lost or changed, on any node, across crashes of a minority.
// - handle_commit delivers every committed non-control batch exactly once per incarnation, in
//   offset order, starting after the latest snapshot (delivered first through
//   handle_load_snapshot). A node that restarts replays from its snapshot.
// - When this node becomes leader of epoch E, handle_leader_change({self, E}) is delivered only
//   after every entry before E's first offset went through handle_commit: the state machine is
//   current before it writes. Other leader changes are delivered in order as they are learned.
// - A vote or epoch change is durable (quorum-state) before it is acted on; a voter syncs what it
//   appended before its next Fetch acknowledges it; the leader counts its own log only up to what
//   it has synced, and commits nothing before an entry of its own epoch (its LeaderChange record).
//
// Ownership and threading: owned by one node's fiber (its main, typically). Every method is
// called from fibers of that node. start() spawns the client's fibers (timer, fetcher, applier,
// flusher, short-lived RPC senders); stop() cancels and joins them. Listener callbacks run on the
// applier fiber with no lock held: they may call append()/wait_committed()/snapshot(), and a slow
// callback only delays later callbacks. The handle_* server methods are called from connection
// fibers (RaftFrameHandler) and may block (a Fetch long-polls up to its max wait).
// Destruction never suspends; a crash that unwinds the node's fibers leaves the disk consistent.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "log/partition_log.h"
#include "raft/quorum_state.h"
#include "raft/raft_config.h"
#include "raft/raft_messages.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::raft {

struct LeaderAndEpoch {
  std::optional<int32_t> leader_id;
  int32_t epoch = 0;
  friend bool operator==(const LeaderAndEpoch&, const LeaderAndEpoch&) = default;
};

struct CommittedBatch {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int32_t epoch = 0;
  int64_t append_timestamp_ms = 0;  // the leader's wall clock when it appended
  std::vector<std::vector<std::byte>> records;  // the values given to append(), in order
};

struct SnapshotImage {
  OffsetAndEpoch id;  // covers every entry before id.end_offset
  std::vector<std::byte> image;
};

class RaftListener {
 public:
  virtual ~RaftListener() = default;
  virtual void handle_commit(const CommittedBatch& batch) = 0;
  // The state machine replaces its state with the image; the next commit follows it.
  virtual void handle_load_snapshot(const SnapshotImage& snapshot) = 0;
  virtual void handle_leader_change(const LeaderAndEpoch& leader) = 0;
};

// Client side of the quorum RPCs. `to` is a voter's node id. Every call fails with the
// runtime's Errc (timed_out, connection_reset, ...) when no response arrived by the deadline.
// Called from the client's fibers, several at once (to different or the same voters).
class RaftTransport {
 public:
  virtual ~RaftTransport() = default;
  virtual Result<VoteResponse> vote(int32_t to, const VoteRequest& request, Deadline deadline) = 0;
  virtual Result<BeginQuorumEpochResponse> begin_quorum_epoch(int32_t to, const BeginQuorumEpochRequest& request,
                                                              Deadline deadline) = 0;
  virtual Result<EndQuorumEpochResponse> end_quorum_epoch(int32_t to, const EndQuorumEpochRequest& request,
                                                          Deadline deadline) = 0;
  virtual Result<FetchResponse> fetch(int32_t to, const FetchRequest& request, Deadline deadline) = 0;
  virtual Result<FetchSnapshotResponse> fetch_snapshot(int32_t to, const FetchSnapshotRequest& request,
                                                       Deadline deadline) = 0;
};

enum class RaftRole : uint8_t { unattached, prospective, candidate, leader, follower, resigned };
const char* role_name(RaftRole role);

// What a checker sees of a node (the simulator's raft checker; tests).
struct RaftStateView {
  int32_t node_id = kNoNode;
  RaftRole role = RaftRole::unattached;
  int32_t epoch = 0;
  std::optional<int32_t> leader_id;
  std::optional<int32_t> voted_id;
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
};

// Test and simulation hook: told synchronously of every state and log change, from the fiber
// that made it. Must not suspend or call back into the client.
class RaftObserver {
 public:
  virtual ~RaftObserver() = default;
  virtual void on_state(const RaftStateView& state) = 0;
  // One batch appended at its offsets (leader or follower); `batch` is its bytes.
  virtual void on_append(int64_t base_offset, int64_t last_offset, int32_t epoch, ConstBytes batch) = 0;
  virtual void on_truncate(int64_t end_offset) = 0;  // entries at and after end_offset are gone
  virtual void on_reset(int64_t start_offset) = 0;   // the log is now empty, starting there
  virtual void on_log_start(int64_t start_offset) = 0;  // entries before it were deleted (a snapshot covers them)
};

using QuorumInfo = DescribeQuorumResponse;

class RaftClient {
 public:
  static constexpr const char* kPartitionDir = "__cluster_metadata-0";
  static constexpr size_t kObserversMax = 1024;          // observers tracked by a leader
  static constexpr size_t kLeaderChangesQueuedMax = 256;  // undelivered notifications
  static constexpr size_t kRpcFibersMax = 64;            // short-lived senders at once
  static constexpr size_t kApplyBytesMax = 1024 * 1024;   // read per applier round

  RaftClient(Runtime& rt, RaftConfig config, RaftTransport& transport, RaftListener& listener);
  ~RaftClient();
  RaftClient(const RaftClient&) = delete;
  RaftClient& operator=(const RaftClient&) = delete;

  void set_observer(RaftObserver* observer) { observer_ = observer; }  // before start()

  // Recovers quorum-state, the latest snapshot and the metadata log, then spawns the fibers.
  Status start();
  // A leader first hands over (EndQuorumEpoch to the voters); then every fiber is cancelled
  // and joined. Idempotent.
  void stop();
  // The client hit a disk error it cannot continue from (the log went offline or quorum-state
  // could not be written); it has stopped participating and the node should restart.
  bool failed() const { return failed_; }

  // Leader only: appends one batch holding `records` in `epoch` and returns its last offset.
  // Errc::unavailable if this node is not the leader of `epoch` (or has not started, or failed);
  // Errc::invalid_argument for no records or more than append_records_max; Errc::too_large
  // above the log's max batch bytes. The batch may still be lost if leadership changes before
  // it commits: follow handle_commit (or wait_committed and check the batch's epoch there).
  Result<int64_t> append(int32_t epoch, std::vector<std::vector<std::byte>> records);
  // ok once the high watermark is above `offset`; timed_out, cancelled, or unavailable once
  // the client stopped or failed.
  Status wait_committed(int64_t offset, Deadline deadline);

  LeaderAndEpoch leader() const;
  int64_t high_watermark() const { return committed_; }
  RaftStateView state() const;
  // DescribeQuorum: on the leader, every voter's and observer's progress; elsewhere the leader
  // as known and this node's own log end only.
  QuorumInfo describe() const;

  // Stores a state machine image covering every entry before `committed_end_offset` (which must
  // be committed, at or above the current snapshot, and `epoch` that of the entry before it),
  // then moves the log start there, deleting whole segments below it.
  Status snapshot(int64_t committed_end_offset, int32_t epoch, std::vector<std::byte> image);
  std::optional<OffsetAndEpoch> latest_snapshot() const { return snapshot_; }

  // --- server side, from connection fibers ---
  VoteResponse handle_vote(const VoteRequest& request);
  BeginQuorumEpochResponse handle_begin_quorum_epoch(const BeginQuorumEpochRequest& request);
  EndQuorumEpochResponse handle_end_quorum_epoch(const EndQuorumEpochRequest& request);
  FetchResponse handle_fetch(const FetchRequest& request);
  FetchSnapshotResponse handle_fetch_snapshot(const FetchSnapshotRequest& request);
  DescribeQuorumResponse handle_describe_quorum(const DescribeQuorumRequest& request);

  const RaftConfig& config() const { return config_; }
  const std::string& dir() const { return dir_; }

 private:
  struct ReplicaProgress {
    int64_t end_offset = -1;  // acknowledged (synced) end, from its last valid fetch this epoch
    Instant last_fetch{};
    Instant last_caught_up{};
    int64_t last_fetch_ms = -1;
    int64_t last_caught_up_ms = -1;
    int64_t sent_high_watermark = -1;  // in the last fetch response to it
    bool fetched = false;
  };
  struct PendingLeaderChange {
    LeaderAndEpoch leader;
    int64_t deliverable_from = 0;  // applied offset that must be reached first
  };

  // raft_client.cc: lifecycle, transitions, timers, elections.
  Status recover();
  void timer_loop();
  Instant on_timer_locked();
  Status persist_locked(const ElectionState& next);
  void set_role_locked(RaftRole role);
  Status to_unattached_locked(int32_t epoch, std::optional<int32_t> voted);
  Status to_follower_locked(int32_t epoch, int32_t leader);
  Status to_prospective_locked();
  Status to_candidate_locked();
  Status to_leader_locked();
  Status to_resigned_locked();
  Status observe_leader_locked(const CurrentLeader& leader, int32_t from);
  void start_vote_round_locked(bool pre_vote);
  void send_vote(int32_t voter, VoteRequest request);
  void on_vote_result_locked(int32_t voter, const VoteRequest& request, const VoteResponse& response);
  void send_begin_epoch(int32_t voter, int32_t epoch);
  void send_end_epoch(int32_t voter, EndQuorumEpochRequest request);
  bool spawn_rpc(std::string name, std::function<void()> body);
  Duration random_election_timeout();
  Duration random_backoff();
  bool log_up_to_date_locked(int32_t last_epoch, int64_t last_offset) const;
  int32_t last_epoch_locked() const;
  CurrentLeader current_leader_locked() const;
  RaftError precheck_locked(const std::string& cluster_id, int32_t sender, bool self_must_vote) const;
  void fail_locked(Status cause, const char* what);
  void state_changed_locked();
  void check(bool condition, const char* what);

  // raft_replication.cc: fetch (both sides), appends, high watermark, applying commits.
  void fetch_loop();
  std::optional<int32_t> fetch_target_locked();
  void on_fetch_response_locked(int32_t from, const FetchRequest& request, FetchResponse response);
  Status truncate_diverging_locked(const OffsetAndEpoch& diverging);
  Status append_replicated_locked(ConstBytes records);
  // Tells the observer of each batch; returns the offset after the last one.
  int64_t notify_appended(ConstBytes record_set);
  std::optional<OffsetAndEpoch> validate_fetch_position_locked(int64_t offset, int32_t epoch, bool* snapshot) const;
  FetchResponse fetch_error_locked(RaftError error) const;
  FetchResponse fetch_once_locked(const FetchRequest& request, bool waited, Deadline long_poll, bool* wait);
  // Whole batches from `offset` (a batch start) up to max_bytes (at least one batch), none at or
  // past max_offset.
  Status read_records_locked(int64_t offset, uint64_t max_bytes, int64_t max_offset, std::vector<std::byte>* out);
  void record_replica_fetch_locked(int32_t replica, int64_t fetch_offset);
  ReplicaProgress* progress_locked(int32_t replica);  // nullptr: self, or an untracked observer
  void maybe_advance_high_watermark_locked();
  void set_committed_locked(int64_t offset);
  void flush_loop();
  void apply_loop();
  bool deliver_leader_changes();
  Status apply_committed();
  void queue_leader_change_locked(const LeaderAndEpoch& leader, int64_t deliverable_from);

  // raft_snapshot.cc
  Status download_snapshot(int32_t from, OffsetAndEpoch id);
  std::optional<OffsetAndEpoch> pending_snapshot_;  // the fetcher must download this one
  Status install_snapshot_locked(const OffsetAndEpoch& id);
  Status load_snapshot_for_apply();

  Runtime& rt_;
  RaftConfig config_;
  RaftTransport& transport_;
  RaftListener& listener_;
  RaftObserver* observer_ = nullptr;
  std::string dir_;
  std::vector<int32_t> voter_ids_;
  QuorumStateFile quorum_file_;
  // Serialises every state transition and log change; they suspend on disk I/O, so without it
  // a Vote could be answered from a state half written. Never held across a network call.
  Mutex mu_;
  WaitQueue state_changed_;      // timer and fetcher re-plan
  WaitQueue log_changed_;        // long-polling fetches, the flusher: appended, HW or role changed
  WaitQueue committed_changed_;  // the applier and wait_committed
  std::unique_ptr<PartitionLog> log_;
  std::optional<OffsetAndEpoch> snapshot_;
  Mutex snapshot_mu_;  // one snapshot write or download at a time

  ElectionState election_;  // mirrors quorum-state
  RaftRole role_ = RaftRole::unattached;
  int64_t committed_ = 0;  // the high watermark as this node knows it; never decreases
  Instant election_deadline_{};
  Instant fetch_deadline_{};  // follower: no successful fetch since -> election
  uint64_t vote_round_ = 0;
  std::set<int32_t> granted_, rejected_;
  // Leader state.
  int64_t epoch_start_offset_ = 0;
  std::map<int32_t, ReplicaProgress> voters_progress_;
  std::map<int32_t, ReplicaProgress> observers_progress_;
  Instant check_quorum_deadline_{};
  int64_t flushed_end_ = 0;
  // Applier.
  int64_t applied_ = 0;  // next offset to deliver
  bool snapshot_loaded_ = false;
  std::deque<PendingLeaderChange> leader_changes_;

  bool started_ = false;
  bool stopping_ = false;
  bool failed_ = false;
  FiberId timer_fiber_ = kNoFiber, fetch_fiber_ = kNoFiber, apply_fiber_ = kNoFiber, flush_fiber_ = kNoFiber;
  std::set<FiberId> rpc_fibers_;
};

}  // namespace samsa::raft
