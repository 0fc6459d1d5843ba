// RaftClient: lifecycle, the election state machine and its durable transitions, timers, and the
// Vote / BeginQuorumEpoch / EndQuorumEpoch handlers. Replication is in raft_replication.cc,
// snapshots in raft_snapshot.cc.
#include "raft/raft_client.h"

#include <algorithm>

#include "raft/snapshot_file.h"
#include "runtime/log.h"
#include "runtime/random.h"

namespace samsa::raft {

const char* role_name(RaftRole role) {
  switch (role) {
    case RaftRole::unattached: return "unattached";
    case RaftRole::prospective: return "prospective";
    case RaftRole::candidate: return "candidate";
    case RaftRole::leader: return "leader";
    case RaftRole::follower: return "follower";
    case RaftRole::resigned: return "resigned";
  }
  return "?";
}

RaftClient::RaftClient(Runtime& rt, RaftConfig config, RaftTransport& transport, RaftListener& listener)
    : rt_(rt),
      config_(std::move(config)),
      transport_(transport),
      listener_(listener),
      dir_(config_.log_dir + "/" + kPartitionDir),
      quorum_file_(rt, dir_),
      mu_(rt),
      state_changed_(rt),
      log_changed_(rt),
      committed_changed_(rt),
      snapshot_mu_(rt) {
  SAMSA_ASSERT(config_.node_id >= 0);
  SAMSA_ASSERT(!config_.voters.empty());
  SAMSA_ASSERT(config_.election_timeout_ms > 0 && config_.fetch_timeout_ms > 0 && config_.request_timeout_ms > 0);
  SAMSA_ASSERT(config_.fetch_max_wait_ms < config_.request_timeout_ms);  // a long poll must not look like a dead peer
  for (const auto& [id, address] : config_.voters) voter_ids_.push_back(id);
  // Raft decides when data is durable; the log's own flush policy stays out of the way.
  config_.log.flush_messages = INT64_MAX;
  config_.log.flush_ms = INT64_MAX;
  config_.log.retention_ms = -1;
  config_.log.retention_bytes = -1;
}

// Never suspends (a crash unwinds the node's fibers, this object's children, first).
RaftClient::~RaftClient() = default;

Status RaftClient::start() {
  SAMSA_ASSERT(!started_);
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  SAMSA_TRY(recover());
  started_ = true;
  timer_fiber_ = rt_.spawn("raft-timer", [this] { timer_loop(); });
  fetch_fiber_ = rt_.spawn("raft-fetch", [this] { fetch_loop(); });
  apply_fiber_ = rt_.spawn("raft-apply", [this] { apply_loop(); });
  flush_fiber_ = rt_.spawn("raft-flush", [this] { flush_loop(); });
  logf(rt_, LogLevel::info, "raft: node {} started as {} in epoch {}, log [{}, {})", config_.node_id, role_name(role_),
       election_.epoch, log_->log_start_offset(), log_->log_end_offset());
  state_changed_locked();
  return Status{};
}

Status RaftClient::recover() {
  SAMSA_TRY(create_dirs(rt_, dir_));
  Result<ElectionState> stored = quorum_file_.load();
  if (!stored.ok() && config_.bugs.volatile_quorum_state) stored = ElectionState{};  // the bug shrugs off what it lost
  SAMSA_TRY_ASSIGN(election_, std::move(stored));
  std::vector<OffsetAndEpoch> ids;
  SAMSA_TRY_ASSIGN(ids, list_snapshots(rt_, dir_));
  for (auto it = ids.rbegin(); it != ids.rend() && !snapshot_; ++it) {
    if (read_snapshot(rt_, dir_, *it, config_.snapshot_bytes_max).ok()) snapshot_ = *it;
  }
  SAMSA_TRY_ASSIGN(log_, PartitionLog::open(rt_, dir_, config_.log));
  if (observer_ != nullptr) observer_->on_reset(log_->log_start_offset());
  if (snapshot_) {
    // A crash between writing a snapshot and moving the log start, or while installing one.
    if (log_->log_end_offset() < snapshot_->end_offset) {
      SAMSA_TRY(log_->truncate_fully_and_start_at(snapshot_->end_offset));
      if (observer_ != nullptr) observer_->on_reset(snapshot_->end_offset);
    } else if (log_->log_start_offset() < snapshot_->end_offset) {
      SAMSA_TRY(log_->advance_log_start(snapshot_->end_offset));
    }
  }
  const int64_t snapshot_end = snapshot_ ? snapshot_->end_offset : 0;
  if (log_->log_start_offset() > snapshot_end) {
    logf(rt_, LogLevel::error, "raft: log starts at {} but no snapshot covers what came before", log_->log_start_offset());
    return Errc::corrupt;
  }
  if (observer_ != nullptr) {
    // The recovered log, for the checker: it learns what the crash kept.
    observer_->on_reset(log_->log_start_offset());
    for (int64_t at = log_->log_start_offset(); at < log_->log_end_offset();) {
      std::vector<std::byte> chunk;
      SAMSA_TRY(read_records_locked(at, kApplyBytesMax, log_->log_end_offset(), &chunk));
      if (chunk.empty()) break;
      at = notify_appended(chunk);
    }
  }
  committed_ = snapshot_end;
  applied_ = snapshot_end;
  flushed_end_ = log_->log_end_offset();  // recovery leaves only what the disk kept
  const Instant now = rt_.now();
  fetch_deadline_ = now + std::chrono::milliseconds(config_.fetch_timeout_ms);
  election_deadline_ = now + random_election_timeout();
  if (election_.leader_id == config_.node_id) {
    role_ = RaftRole::resigned;  // a leader that restarts cannot go on leading its old epoch
  } else if (election_.leader_id) {
    role_ = RaftRole::follower;
    queue_leader_change_locked({election_.leader_id, election_.epoch}, 0);
  } else {
    role_ = RaftRole::unattached;
  }
  return Status{};
}

void RaftClient::stop() {
  if (!started_ || stopping_) return;
  if (mu_.lock(Deadline::never()).ok()) {
    LockGuard guard(mu_);
    if (role_ == RaftRole::leader && !failed_) (void)to_resigned_locked();  // EndQuorumEpoch to the voters
  }
  // Give the EndQuorumEpoch senders a moment, so a successor starts its election at once.
  const Deadline handover = rt_.after(std::chrono::milliseconds(std::min<int64_t>(config_.request_timeout_ms, 500)));
  for (FiberId f : std::vector<FiberId>(rpc_fibers_.begin(), rpc_fibers_.end())) (void)rt_.join(f, handover);
  stopping_ = true;
  state_changed_.notify_all();
  log_changed_.notify_all();
  committed_changed_.notify_all();
  std::vector<FiberId> fibers{timer_fiber_, fetch_fiber_, apply_fiber_, flush_fiber_};
  fibers.insert(fibers.end(), rpc_fibers_.begin(), rpc_fibers_.end());
  for (FiberId f : fibers) rt_.cancel(f);
  for (FiberId f : fibers) (void)rt_.join(f, Deadline::never());
  if (log_ && !failed_) (void)log_->flush();
}

void RaftClient::fail_locked(Status cause, const char* what) {
  if (!failed_) logf(rt_, LogLevel::error, "raft: node {} stops participating: {} failed ({})", config_.node_id, what, cause.name());
  failed_ = true;
  state_changed_.notify_all();
  log_changed_.notify_all();
  committed_changed_.notify_all();
}

void RaftClient::check(bool condition, const char* what) {
  if (condition) return;
  // With a planted bug on, the simulator's checker must be the one to catch the consequence.
  if (config_.bugs.any()) {
    logf(rt_, LogLevel::error, "raft: node {}: invariant broken (planted bug): {}", config_.node_id, what);
    return;
  }
  SAMSA_ASSERT_MSG(false, what);
}

RaftStateView RaftClient::state() const {
  RaftStateView v;
  v.node_id = config_.node_id;
  v.role = role_;
  v.epoch = election_.epoch;
  v.leader_id = election_.leader_id;
  v.voted_id = election_.voted_id;
  v.high_watermark = committed_;
  v.log_start_offset = log_ ? log_->log_start_offset() : 0;
  v.log_end_offset = log_ ? log_->log_end_offset() : 0;
  return v;
}

LeaderAndEpoch RaftClient::leader() const {
  if (role_ == RaftRole::resigned) return {std::nullopt, election_.epoch};
  return {election_.leader_id, election_.epoch};
}

void RaftClient::state_changed_locked() {
  state_changed_.notify_all();
  log_changed_.notify_all();
  if (observer_ != nullptr) observer_->on_state(state());
}

Duration RaftClient::random_election_timeout() {
  return std::chrono::milliseconds(config_.election_timeout_ms +
                                   in_range(rt_.random_u64(), 0, config_.election_timeout_ms));
}

Duration RaftClient::random_backoff() {
  return std::chrono::milliseconds(
      in_range(rt_.random_u64(), config_.retry_backoff_ms, std::max(config_.retry_backoff_ms, config_.election_backoff_max_ms)));
}

int32_t RaftClient::last_epoch_locked() const {
  const int32_t before_log = snapshot_ ? snapshot_->epoch : 0;
  if (log_->log_end_offset() == log_->log_start_offset()) return before_log;
  return log_->epochs().latest_epoch().value_or(before_log);
}

bool RaftClient::log_up_to_date_locked(int32_t last_epoch, int64_t last_offset) const {
  const int32_t mine = last_epoch_locked();
  return last_epoch > mine || (last_epoch == mine && last_offset >= log_->log_end_offset());
}

CurrentLeader RaftClient::current_leader_locked() const {
  // A resigned leader no longer leads its epoch: nobody should fetch from it.
  if (role_ == RaftRole::resigned) return CurrentLeader{kNoNode, election_.epoch};
  return CurrentLeader{election_.leader_id.value_or(kNoNode), election_.epoch};
}

Status RaftClient::persist_locked(const ElectionState& next) {
  // Epochs never go back, and a vote once cast in an epoch is never changed (without the bug).
  check(next.epoch >= election_.epoch, "quorum-state epoch went backwards");
  check(next.epoch > election_.epoch || !election_.voted_id || !next.voted_id || next.voted_id == election_.voted_id,
        "second vote in one epoch");
  if (next == election_) return Status{};
  Status s = quorum_file_.store(next, voter_ids_, !config_.bugs.volatile_quorum_state);
  if (!s.ok()) {
    fail_locked(s, "writing quorum-state");
    return s;
  }
  election_ = next;
  return Status{};
}

void RaftClient::set_role_locked(RaftRole role) {
  if (role_ != role) logf(rt_, LogLevel::info, "raft: node {} epoch {}: {} -> {}", config_.node_id, election_.epoch, role_name(role_), role_name(role));
  role_ = role;
  state_changed_locked();
}

}  // namespace samsa::raft
