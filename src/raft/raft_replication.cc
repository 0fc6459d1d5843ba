// RaftClient: pull-based replication. The leader side of Fetch (validation by last fetched epoch,
// diverging epochs, long polls, the high watermark), the follower/observer fetch loop (truncate,
// append, sync before the next fetch acknowledges), the leader's flusher, appends, and the
// applier that hands committed batches to the state machine.
#include <algorithm>

#include "log/record_batch.h"
#include "raft/raft_client.h"
#include "raft/raft_wire.h"
#include "raft/snapshot_file.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "util/endian.h"

namespace samsa::raft {

namespace {

// Kafka's LeaderChange control batch: one control record whose key is (version 0, type 2).
std::vector<std::byte> leader_change_batch(int64_t timestamp_ms, int32_t leader, const std::vector<int32_t>& voters,
                                           const std::vector<int32_t>& granting) {
  std::byte key[4];
  put_u16_be(key, 0);
  put_u16_be(key + 2, static_cast<uint16_t>(kControlTypeLeaderChange));
  const std::vector<std::byte> value = wire::encode_leader_change(leader, voters, granting);
  BatchBuilder builder(timestamp_ms);
  builder.add(timestamp_ms, ConstBytes(key, 4), ConstBytes(value));
  std::vector<std::byte> batch = builder.build();
  const uint16_t attributes = get_u16_be(&batch[batch_field::attributes]) | 0x20;
  put_u16_be(&batch[batch_field::attributes], attributes);
  put_u32_be(&batch[batch_field::crc], compute_batch_crc(batch));
  return batch;
}

}  // namespace

Status RaftClient::to_leader_locked() {
  SAMSA_TRY(persist_locked(ElectionState{election_.epoch, config_.node_id, election_.voted_id}));
  const Instant now = rt_.now();
  epoch_start_offset_ = log_->log_end_offset();
  voters_progress_.clear();
  observers_progress_.clear();
  for (int32_t voter : voter_ids_) {
    if (voter != config_.node_id) voters_progress_[voter].last_fetch = now;  // a grace period for check-quorum
  }
  set_role_locked(RaftRole::leader);
  std::vector<std::byte> batch = leader_change_batch(rt_.wall_clock_ms(), config_.node_id, voter_ids_,
                                                     std::vector<int32_t>(granted_.begin(), granted_.end()));
  Result<AppendResult> appended = log_->append(batch, election_.epoch);
  if (!appended.ok()) {
    fail_locked(appended.status(), "appending the LeaderChange record");
    return appended.status();
  }
  SAMSA_ASSERT(appended->base_offset == epoch_start_offset_);
  stamp_batch(batch, appended->base_offset, election_.epoch);
  notify_appended(batch);
  queue_leader_change_locked({config_.node_id, election_.epoch}, epoch_start_offset_ + 1);
  for (int32_t voter : voter_ids_) {
    if (voter == config_.node_id) continue;
    const int32_t epoch = election_.epoch;
    spawn_rpc("raft-begin-epoch", [this, voter, epoch] { send_begin_epoch(voter, epoch); });
  }
  log_changed_.notify_all();
  return Status{};
}

Result<int64_t> RaftClient::append(int32_t epoch, std::vector<std::vector<std::byte>> records) {
  if (records.empty() || records.size() > config_.append_records_max) return Errc::invalid_argument;
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  if (!started_ || stopping_ || failed_ || role_ != RaftRole::leader || epoch != election_.epoch) return Errc::unavailable;
  const int64_t now_ms = rt_.wall_clock_ms();
  BatchBuilder builder(now_ms);
  for (const auto& r : records) builder.add(now_ms, std::nullopt, ConstBytes(r));
  std::vector<std::byte> batch = builder.build();
  if (batch.size() > config_.log.max_batch_bytes) return Errc::too_large;
  Result<AppendResult> appended = log_->append(batch, epoch);
  if (!appended.ok()) {
    if (appended.error() != Errc::no_space) fail_locked(appended.status(), "appending");
    return appended.status();
  }
  stamp_batch(batch, appended->base_offset, epoch);
  notify_appended(batch);
  log_changed_.notify_all();  // the flusher and long-polling fetches
  return appended->last_offset;
}

Status RaftClient::wait_committed(int64_t offset, Deadline deadline) {
  for (;;) {
    if (stopping_ || failed_) return Errc::unavailable;
    if (committed_ > offset) return Status{};
    SAMSA_TRY(committed_changed_.wait(deadline));
  }
}

int64_t RaftClient::notify_appended(ConstBytes record_set) {
  Result<std::vector<ConstBytes>> batches = split_batches(record_set, kBatchBytesReadMax);
  SAMSA_ASSERT(batches.ok() && !batches->empty());  // validated before it was written
  int64_t next = 0;
  for (ConstBytes b : *batches) {
    const BatchHeader h = *parse_batch_header(b);
    if (observer_ != nullptr) observer_->on_append(h.base_offset, h.last_offset(), h.leader_epoch, b);
    next = h.next_offset();
  }
  if (observer_ != nullptr) observer_->on_state(state());
  return next;
}

Status RaftClient::read_records_locked(int64_t offset, uint64_t max_bytes, int64_t max_offset, std::vector<std::byte>* out) {
  out->clear();
  LogSlice slice;
  SAMSA_TRY_ASSIGN(slice, log_->read_slice(offset, max_bytes, max_offset));
  if (slice.length == 0) return Status{};
  check(slice.first_offset == offset, "a read that does not start at a batch boundary");
  out->resize(slice.length);
  size_t n = 0;
  SAMSA_TRY_ASSIGN(n, slice.file->pread(slice.position, *out));
  if (n != slice.length) return Errc::corrupt;
  return Status{};
}

// --- leader side of Fetch ---

FetchResponse RaftClient::fetch_error_locked(RaftError error) const {
  FetchResponse r;
  r.error_code = static_cast<int16_t>(error);
  r.leader = current_leader_locked();
  r.high_watermark = committed_;
  return r;
}

// nullopt: the position is on the leader's log. Otherwise the divergence to truncate to, or
// *snapshot set when the fetcher must load the snapshot first.
std::optional<OffsetAndEpoch> RaftClient::validate_fetch_position_locked(int64_t offset, int32_t epoch, bool* snapshot) const {
  *snapshot = false;
  const int64_t start = log_->log_start_offset();
  const int64_t end = log_->log_end_offset();
  if (offset < start || (offset == start && start > 0 && (!snapshot_ || snapshot_->epoch != epoch))) {
    *snapshot = snapshot_.has_value();
    return *snapshot ? std::nullopt : std::optional<OffsetAndEpoch>(OffsetAndEpoch{start, 0});
  }
  if (offset == start) return std::nullopt;
  // KIP-279: the largest epoch <= the one asked, and where it ends on this log.
  const std::optional<std::pair<int32_t, int64_t>> mine = log_->epochs().end_offset_for(epoch, end);
  if (!mine) {
    // The fetcher's epoch is older than any this log still knows (a snapshot moved the start past
    // its end): where they diverge is unknown here, so the fetcher starts over from the snapshot.
    *snapshot = snapshot_.has_value();
    return *snapshot ? std::nullopt : std::optional<OffsetAndEpoch>(OffsetAndEpoch{start, 0});
  }
  if (mine->first != epoch || mine->second < offset) return OffsetAndEpoch{mine->second, mine->first};
  return std::nullopt;
}

void RaftClient::record_replica_fetch_locked(int32_t replica, int64_t fetch_offset) {
  ReplicaProgress* p = nullptr;
  if (config_.is_voter(replica)) {
    if (replica == config_.node_id) return;
    p = &voters_progress_[replica];
  } else if (observers_progress_.count(replica) != 0 || observers_progress_.size() < kObserversMax) {
    p = &observers_progress_[replica];
  }
  if (p == nullptr) return;
  p->end_offset = fetch_offset;
  p->fetched = true;
  p->last_fetch = rt_.now();
  p->last_fetch_ms = rt_.wall_clock_ms();
  if (fetch_offset >= log_->log_end_offset()) {
    p->last_caught_up = p->last_fetch;
    p->last_caught_up_ms = p->last_fetch_ms;
  }
  if (config_.is_voter(replica)) maybe_advance_high_watermark_locked();
}

RaftClient::ReplicaProgress* RaftClient::progress_locked(int32_t replica) {
  if (replica == config_.node_id) return nullptr;
  auto& progress = config_.is_voter(replica) ? voters_progress_ : observers_progress_;
  auto it = progress.find(replica);
  return it == progress.end() ? nullptr : &it->second;
}

void RaftClient::maybe_advance_high_watermark_locked() {
  if (role_ != RaftRole::leader) return;
  // The leader's own log counts only as far as it is synced (planted bug: all of it).
  std::vector<int64_t> ends{config_.bugs.ack_before_fsync ? log_->log_end_offset() : flushed_end_};
  for (const auto& [id, p] : voters_progress_) ends.push_back(p.fetched ? p.end_offset : -1);
  std::sort(ends.begin(), ends.end(), std::greater<>());
  const int64_t majority_end = ends[config_.majority() - 1];
  check(majority_end <= log_->log_end_offset(), "a majority acknowledged offsets beyond the leader's log");
  // Nothing counts as committed before an entry of this leader's own epoch is on a majority
  // (planted bug: entries of older epochs commit by being counted on a majority).
  const bool own_epoch_committed = majority_end > epoch_start_offset_ || config_.bugs.commit_old_epoch;
  if (majority_end > committed_ && own_epoch_committed) set_committed_locked(majority_end);
}

void RaftClient::set_committed_locked(int64_t offset) {
  if (offset == committed_) return;
  // A leader commits only what it holds; a follower's log may be shorter only right after a
  // snapshot replaced it (committed entries above the snapshot are fetched again).
  check(role_ != RaftRole::leader || offset <= log_->log_end_offset(), "a leader committed past its log end");
  committed_ = offset;
  committed_changed_.notify_all();
  log_changed_.notify_all();  // long-polling fetches carry the new high watermark
  if (observer_ != nullptr) observer_->on_state(state());
}

FetchResponse RaftClient::handle_fetch(const FetchRequest& request) {
  const Deadline long_poll = rt_.after(std::chrono::milliseconds(std::clamp<int64_t>(request.max_wait_ms, 0, config_.fetch_max_wait_ms)));
  for (bool waited = false;; waited = true) {
    if (!mu_.lock(Deadline::never()).ok()) return error_response<FetchResponse>(RaftError::unavailable);
    bool wait = false;
    FetchResponse response;
    {
      LockGuard guard(mu_);
      response = fetch_once_locked(request, waited, long_poll, &wait);
    }
    if (!wait) return response;
    // Long poll: until something is appended, the high watermark moves, the role changes, or
    // the wait is over; then the request is validated again from scratch.
    if (log_changed_.wait(long_poll).code() == Errc::cancelled) return error_response<FetchResponse>(RaftError::unavailable);
  }
}

FetchResponse RaftClient::fetch_once_locked(const FetchRequest& request, bool waited, Deadline long_poll, bool* wait) {
  *wait = false;
  if (!started_ || stopping_ || failed_) return fetch_error_locked(RaftError::unavailable);
  if (request.cluster_id != config_.cluster_id) return fetch_error_locked(RaftError::inconsistent_cluster_id);
  if (role_ != RaftRole::leader) return fetch_error_locked(RaftError::not_leader_or_follower);
  if (request.current_leader_epoch > election_.epoch) return fetch_error_locked(RaftError::unknown_leader_epoch);
  if (request.current_leader_epoch < election_.epoch) return fetch_error_locked(RaftError::fenced_leader_epoch);
  FetchResponse response = fetch_error_locked(RaftError::none);
  response.log_start_offset = log_->log_start_offset();
  bool snapshot = false;
  const std::optional<OffsetAndEpoch> diverging =
      validate_fetch_position_locked(request.fetch_offset, request.last_fetched_epoch, &snapshot);
  if (snapshot) {
    response.snapshot_id = *snapshot_;
    return response;
  }
  if (diverging) {
    response.diverging_epoch = *diverging;
    return response;
  }
  // The fetch offset is what the fetcher has synced (it syncs before fetching again).
  if (!waited) record_replica_fetch_locked(request.replica_id, request.fetch_offset);
  const bool nothing_new = request.fetch_offset >= log_->log_end_offset();
  // A replica that has not been told the current high watermark is answered at once (as
  // KAFKA-14145 does): else the very fetch whose acknowledgement advanced it would wait out the
  // long poll, and a follower would apply each commit up to fetch_max_wait_ms late.
  ReplicaProgress* progress = progress_locked(request.replica_id);
  const bool hw_unsent = progress != nullptr && progress->sent_high_watermark < committed_;
  if (nothing_new && !waited && !hw_unsent && request.max_wait_ms > 0 && rt_.now() < long_poll.at &&
      !rt_.buggify("raft.skip_long_poll")) {
    *wait = true;
    return response;
  }
  const uint64_t max_bytes = rt_.buggify("raft.tiny_fetch")
                                 ? 1  // still one whole batch: fetch makes progress however small the budget
                                 : std::clamp<uint64_t>(static_cast<uint64_t>(std::max(request.max_bytes, 1)), 1, config_.fetch_max_bytes);
  if (!read_records_locked(request.fetch_offset, max_bytes, log_->log_end_offset(), &response.records).ok()) {
    return fetch_error_locked(RaftError::unavailable);
  }
  response.high_watermark = committed_;
  if (progress != nullptr) progress->sent_high_watermark = committed_;
  return response;
}

}  // namespace samsa::raft
