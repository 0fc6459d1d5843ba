// RaftClient: the follower/observer side of replication (the fetch loop), the leader's flusher,
// and the applier that delivers committed batches and leader changes to the state machine.
#include <algorithm>

#include "log/record_batch.h"
#include "raft/raft_client.h"
#include "raft/snapshot_file.h"
#include "runtime/log.h"
#include "runtime/random.h"

namespace samsa::raft {

std::optional<int32_t> RaftClient::fetch_target_locked() {
  if (role_ == RaftRole::follower && election_.leader_id) return election_.leader_id;
  // An observer with no leader asks any voter; the answer names the leader.
  if (!config_.is_voter(config_.node_id) && role_ == RaftRole::unattached) {
    return voter_ids_[bounded(rt_.random_u64(), voter_ids_.size())];
  }
  return std::nullopt;
}

void RaftClient::fetch_loop() {
  for (;;) {
    FetchRequest request;
    int32_t target = kNoNode;
    if (!mu_.lock(Deadline::never()).ok()) return;
    {
      LockGuard guard(mu_);
      if (stopping_ || failed_) return;
      const std::optional<int32_t> t = fetch_target_locked();
      if (t) {
        target = *t;
        request.cluster_id = config_.cluster_id;
        request.replica_id = config_.node_id;
        request.max_wait_ms = static_cast<int32_t>(config_.fetch_max_wait_ms);
        request.max_bytes = static_cast<int32_t>(config_.fetch_max_bytes);
        request.current_leader_epoch = election_.epoch;
        request.fetch_offset = log_->log_end_offset();
        request.last_fetched_epoch = last_epoch_locked();
        request.log_start_offset = log_->log_start_offset();
      }
    }
    if (target == kNoNode) {
      if (state_changed_.wait(Deadline::never()).code() == Errc::cancelled) return;
      continue;
    }
    Result<FetchResponse> response = transport_.fetch(target, request, rt_.after(std::chrono::milliseconds(config_.request_timeout_ms)));
    bool backoff = !response.ok() || response->error_code != 0;
    if (backoff) {
      logf(rt_, LogLevel::debug, "raft: node {} fetch from {} failed: {} (error code {})", config_.node_id, target,
           response.ok() ? "answered" : errc_name(response.error()), response.ok() ? response->error_code : 0);
    }
    if (response.ok()) {
      if (!mu_.lock(Deadline::never()).ok()) return;
      LockGuard guard(mu_);
      if (stopping_ || failed_) return;
      on_fetch_response_locked(target, request, std::move(*response));
    }
    if (pending_snapshot_) {
      const OffsetAndEpoch id = *pending_snapshot_;
      pending_snapshot_.reset();
      Status s = download_snapshot(target, id);
      if (!s.ok()) logf(rt_, LogLevel::info, "raft: node {}: snapshot {}-{} from {} failed: {}", config_.node_id, id.end_offset, id.epoch, target, s.name());
      backoff = backoff || !s.ok();
    }
    if (backoff && !rt_.sleep(std::chrono::milliseconds(config_.retry_backoff_ms)).ok()) return;
  }
}

void RaftClient::on_fetch_response_locked(int32_t from, const FetchRequest& request, FetchResponse response) {
  (void)observe_leader_locked(response.leader, from);
  // Only an answer from the leader we follow, in the epoch we asked in, to the log we have now.
  if (role_ != RaftRole::follower || election_.leader_id != from || election_.epoch != request.current_leader_epoch ||
      response.leader.leader_epoch != election_.epoch || response.error_code != 0 ||
      request.fetch_offset != log_->log_end_offset()) {
    return;
  }
  fetch_deadline_ = rt_.now() + std::chrono::milliseconds(config_.fetch_timeout_ms);
  if (response.diverging_epoch.end_offset >= 0) {
    if (Status s = truncate_diverging_locked(response.diverging_epoch); !s.ok()) fail_locked(s, "truncating");
    return;
  }
  if (response.snapshot_id.end_offset >= 0) {
    pending_snapshot_ = response.snapshot_id;
    return;
  }
  if (!response.records.empty()) {
    if (Status s = append_replicated_locked(response.records); !s.ok()) {
      if (s.code() != Errc::corrupt && s.code() != Errc::out_of_range && s.code() != Errc::no_space) fail_locked(s, "appending");
      return;
    }
  }
  // HW = min(leader's, own log end): the prefix up to the log end matches the leader's.
  const int64_t hw = std::min(response.high_watermark, log_->log_end_offset());
  if (config_.bugs.follower_hw_regress) {
    if (hw >= 0) set_committed_locked(hw);
  } else if (hw > committed_) {
    set_committed_locked(hw);
  }
}

Status RaftClient::append_replicated_locked(ConstBytes records) {
  Result<AppendResult> appended = log_->append_replicated(records);
  if (!appended.ok()) return appended.status();
  notify_appended(records);
  // Synced before the next Fetch tells the leader we have it (planted bug: not synced).
  if (!config_.bugs.ack_before_fsync) {
    SAMSA_TRY(log_->flush());
    flushed_end_ = log_->log_end_offset();
  }
  return Status{};
}

Status RaftClient::truncate_diverging_locked(const OffsetAndEpoch& diverging) {
  // KIP-279: walk back to the largest common epoch; the next fetch checks again.
  const int64_t end = log_->log_end_offset();
  const std::optional<std::pair<int32_t, int64_t>> mine = log_->epochs().end_offset_for(diverging.epoch, end);
  int64_t to = log_->log_start_offset();
  if (mine && mine->first == diverging.epoch) {
    to = std::min(mine->second, diverging.end_offset);
  } else if (mine) {
    to = mine->second;
  }
  to = std::max(to, log_->log_start_offset());
  if (to >= end) return Status{};
  logf(rt_, LogLevel::info, "raft: node {} truncates its log from {} to {} (diverging epoch {} ends at {}; high watermark {})",
       config_.node_id, end, to, diverging.epoch, diverging.end_offset, committed_);
  check(to >= committed_, "truncating committed entries");
  SAMSA_TRY(log_->truncate_to(to));
  flushed_end_ = std::min(flushed_end_, log_->log_end_offset());
  if (observer_ != nullptr) observer_->on_truncate(log_->log_end_offset());
  state_changed_locked();
  return Status{};
}

void RaftClient::flush_loop() {
  for (;;) {
    if (!mu_.lock(Deadline::never()).ok()) return;
    bool flush = false;
    {
      LockGuard guard(mu_);
      if (stopping_ || failed_) return;
      // (Planted bug ack-before-fsync: the leader counts its log unsynced, so it never syncs it.)
      flush = role_ == RaftRole::leader && log_->log_end_offset() > flushed_end_ && !config_.bugs.ack_before_fsync;
    }
    if (!flush) {
      if (log_changed_.wait(Deadline::never()).code() == Errc::cancelled) return;
      continue;
    }
    // Group commit: one sync covers every append made while the previous one ran.
    if (rt_.buggify("raft.delay_flush") && !rt_.sleep(std::chrono::milliseconds(20)).ok()) return;
    const int64_t target = log_->log_end_offset();
    Status s = log_->flush();
    if (!mu_.lock(Deadline::never()).ok()) return;
    LockGuard guard(mu_);
    if (!s.ok()) {
      fail_locked(s, "syncing the log");
      return;
    }
    flushed_end_ = std::max(flushed_end_, std::min(target, log_->log_end_offset()));
    maybe_advance_high_watermark_locked();
  }
}

// --- applying committed entries ---

void RaftClient::queue_leader_change_locked(const LeaderAndEpoch& leader, int64_t deliverable_from) {
  // A notification not yet deliverable is superseded by a newer one (a leadership that never
  // committed its first entry is never announced).
  while (!leader_changes_.empty() && leader_changes_.back().deliverable_from > applied_) leader_changes_.pop_back();
  if (leader_changes_.size() >= kLeaderChangesQueuedMax) leader_changes_.pop_front();
  leader_changes_.push_back(PendingLeaderChange{leader, deliverable_from});
  committed_changed_.notify_all();
}

bool RaftClient::deliver_leader_changes() {
  std::vector<LeaderAndEpoch> ready;
  while (!leader_changes_.empty() && leader_changes_.front().deliverable_from <= applied_) {
    ready.push_back(leader_changes_.front().leader);
    leader_changes_.pop_front();
  }
  for (const LeaderAndEpoch& l : ready) listener_.handle_leader_change(l);
  return !ready.empty();
}

void RaftClient::apply_loop() {
  for (;;) {
    if (stopping_ || failed_) return;
    const bool need_snapshot = snapshot_ && (applied_ < snapshot_->end_offset || (!snapshot_loaded_ && applied_ == snapshot_->end_offset));
    if (need_snapshot) {
      if (Status s = load_snapshot_for_apply(); !s.ok()) {
        if (s.code() == Errc::cancelled || !rt_.sleep(std::chrono::milliseconds(config_.retry_backoff_ms)).ok()) return;
      }
      continue;
    }
    if (deliver_leader_changes()) continue;
    if (applied_ < committed_) {
      if (Status s = apply_committed(); !s.ok()) {
        if (s.code() == Errc::cancelled || !rt_.sleep(std::chrono::milliseconds(config_.retry_backoff_ms)).ok()) return;
      }
      continue;
    }
    if (committed_changed_.wait(Deadline::never()).code() == Errc::cancelled) return;
  }
}

Status RaftClient::apply_committed() {
  std::vector<std::byte> chunk;
  const int64_t from = applied_;
  SAMSA_TRY(mu_.lock(Deadline::never()));
  {
    LockGuard guard(mu_);
    if (from < log_->log_start_offset()) return Status{};  // a snapshot was installed: load it first
    SAMSA_TRY(read_records_locked(from, kApplyBytesMax, committed_, &chunk));
  }
  if (chunk.empty()) return Errc::out_of_range;
  std::vector<ConstBytes> batches;
  SAMSA_TRY_ASSIGN(batches, split_batches(chunk, kBatchBytesReadMax));
  for (ConstBytes b : batches) {
    if (applied_ != from && snapshot_ && applied_ < snapshot_->end_offset) break;  // overtaken by a snapshot
    const BatchHeader h = *parse_batch_header(b);
    if (h.base_offset != applied_) {
      check(false, "the committed log has a gap where the applier stands");
      return Errc::corrupt;
    }
    if (!h.is_control()) {
      CommittedBatch batch{h.base_offset, h.last_offset(), h.leader_epoch, h.max_timestamp, {}};
      std::vector<Record> records;
      SAMSA_TRY_ASSIGN(records, decode_records(b));
      for (Record& r : records) batch.records.push_back(r.value ? std::move(*r.value) : std::vector<std::byte>{});
      listener_.handle_commit(batch);
    }
    applied_ = h.next_offset();
    deliver_leader_changes();
  }
  return Status{};
}

QuorumInfo RaftClient::describe() const {
  QuorumInfo q;
  q.leader_id = election_.leader_id.value_or(kNoNode);
  q.leader_epoch = election_.epoch;
  q.high_watermark = committed_;
  const int64_t now_ms = rt_.wall_clock_ms();
  const int64_t end = log_ ? log_->log_end_offset() : 0;
  const ReplicaInfo self{config_.node_id, end, now_ms, now_ms};
  if (role_ != RaftRole::leader) {
    (config_.is_voter(config_.node_id) ? q.current_voters : q.observers).push_back(self);
    return q;
  }
  for (int32_t voter : voter_ids_) {
    if (voter == config_.node_id) {
      q.current_voters.push_back(self);
      continue;
    }
    const auto it = voters_progress_.find(voter);
    const ReplicaProgress p = it == voters_progress_.end() ? ReplicaProgress{} : it->second;
    q.current_voters.push_back(ReplicaInfo{voter, p.end_offset, p.last_fetch_ms, p.last_caught_up_ms});
  }
  for (const auto& [id, p] : observers_progress_) {
    q.observers.push_back(ReplicaInfo{id, p.end_offset, p.last_fetch_ms, p.last_caught_up_ms});
  }
  return q;
}

DescribeQuorumResponse RaftClient::handle_describe_quorum(const DescribeQuorumRequest& /*request*/) {
  if (role_ != RaftRole::leader || stopping_ || failed_) {
    DescribeQuorumResponse r;
    r.error_code = static_cast<int16_t>(RaftError::not_leader_or_follower);
    r.leader_id = election_.leader_id.value_or(kNoNode);
    r.leader_epoch = election_.epoch;
    return r;
  }
  return describe();
}

}  // namespace samsa::raft
