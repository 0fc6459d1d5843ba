// RaftClient: snapshots (KIP-630). Creating one from the state machine's image, serving it in
// FetchSnapshot chunks, downloading and installing it on a follower or observer whose log is
// behind the leader's log start, and handing it to the state machine.
#include "raft/raft_client.h"
#include "log/checkpoint_file.h"
#include "raft/snapshot_file.h"
#include "runtime/log.h"

namespace samsa::raft {

Status RaftClient::snapshot(int64_t committed_end_offset, int32_t epoch, std::vector<std::byte> image) {
  if (image.size() > config_.snapshot_bytes_max) return Errc::too_large;
  SAMSA_TRY(snapshot_mu_.lock(Deadline::never()));
  LockGuard snapshot_guard(snapshot_mu_);
  const OffsetAndEpoch id{committed_end_offset, epoch};
  {
    SAMSA_TRY(mu_.lock(Deadline::never()));
    LockGuard guard(mu_);
    if (!started_ || stopping_ || failed_) return Errc::unavailable;
    const int64_t current = snapshot_ ? snapshot_->end_offset : 0;
    if (committed_end_offset > committed_ || committed_end_offset < log_->log_start_offset()) return Errc::out_of_range;
    if (committed_end_offset <= current) return committed_end_offset == current ? Status{} : Status{Errc::out_of_range};
    // The epoch of the entry just before the end offset, from the epoch cache.
    int32_t expected = snapshot_ ? snapshot_->epoch : 0;
    for (const LeaderEpochCache::Entry& e : log_->epochs().entries()) {
      if (e.start_offset < committed_end_offset) expected = e.epoch;
    }
    if (epoch != expected) return Errc::invalid_argument;
  }
  const std::vector<std::byte> file = encode_snapshot(id, image);
  SAMSA_TRY(write_file_atomically(rt_, dir_, snapshot_file_name(id), file));
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  if (snapshot_ && snapshot_->end_offset >= id.end_offset) return Status{};
  snapshot_ = id;
  snapshot_loaded_ = true;  // the state machine made it: it has this state already
  if (Status s = log_->advance_log_start(id.end_offset); !s.ok()) {
    fail_locked(s, "moving the log start");
    return s;
  }
  if (observer_ != nullptr) observer_->on_log_start(log_->log_start_offset());
  logf(rt_, LogLevel::info, "raft: node {} snapshot at {} (epoch {}), {} bytes; log starts at {}", config_.node_id, id.end_offset,
       id.epoch, image.size(), log_->log_start_offset());
  return delete_snapshots_before(rt_, dir_, id);
}

FetchSnapshotResponse RaftClient::handle_fetch_snapshot(const FetchSnapshotRequest& request) {
  FetchSnapshotResponse response;
  if (!mu_.lock(Deadline::never()).ok()) return error_response<FetchSnapshotResponse>(RaftError::unavailable);
  LockGuard guard(mu_);
  response.leader = current_leader_locked();
  auto fail = [&](RaftError e) {
    response.error_code = static_cast<int16_t>(e);
    return response;
  };
  if (!started_ || stopping_ || failed_) return fail(RaftError::unavailable);
  if (request.cluster_id != config_.cluster_id) return fail(RaftError::inconsistent_cluster_id);
  if (role_ != RaftRole::leader) return fail(RaftError::not_leader_or_follower);
  if (request.current_leader_epoch != election_.epoch) {
    return fail(request.current_leader_epoch < election_.epoch ? RaftError::fenced_leader_epoch : RaftError::unknown_leader_epoch);
  }
  if (!snapshot_ || *snapshot_ != request.snapshot_id) return fail(RaftError::snapshot_not_found);
  Result<std::unique_ptr<File>> file = rt_.open_file(dir_ + "/" + snapshot_file_name(*snapshot_), OpenMode::read_only);
  if (!file.ok()) return fail(RaftError::snapshot_not_found);
  Result<uint64_t> size = (*file)->size();
  if (!size.ok()) return fail(RaftError::unavailable);
  if (request.position < 0 || static_cast<uint64_t>(request.position) > *size) return fail(RaftError::position_out_of_range);
  const uint64_t chunk_max = std::clamp<uint64_t>(static_cast<uint64_t>(std::max(request.max_bytes, 1)), 1, config_.snapshot_chunk_bytes);
  response.unaligned_records.resize(std::min<uint64_t>(chunk_max, *size - static_cast<uint64_t>(request.position)));
  Result<size_t> n = (*file)->pread(static_cast<uint64_t>(request.position), response.unaligned_records);
  if (!n.ok() || *n != response.unaligned_records.size()) return fail(RaftError::unavailable);
  response.snapshot_id = *snapshot_;
  response.size = static_cast<int64_t>(*size);
  response.position = request.position;
  return response;
}

Status RaftClient::download_snapshot(int32_t from, OffsetAndEpoch id) {
  SAMSA_TRY(snapshot_mu_.lock(Deadline::never()));
  LockGuard snapshot_guard(snapshot_mu_);
  std::vector<std::byte> file;
  for (;;) {
    FetchSnapshotRequest request{config_.cluster_id, config_.node_id, election_.epoch, id, static_cast<int64_t>(file.size()),
                                 static_cast<int32_t>(config_.snapshot_chunk_bytes)};
    Result<FetchSnapshotResponse> response =
        transport_.fetch_snapshot(from, request, rt_.after(std::chrono::milliseconds(config_.request_timeout_ms)));
    if (!response.ok()) return response.status();
    if (response->error_code != 0 || response->snapshot_id != id || response->position != request.position) return Errc::unavailable;
    if (response->size < 0 || static_cast<uint64_t>(response->size) > config_.snapshot_bytes_max + kSnapshotHeaderBytes) {
      return Errc::too_large;
    }
    if (response->unaligned_records.empty() && file.size() < static_cast<uint64_t>(response->size)) return Errc::corrupt;
    file.insert(file.end(), response->unaligned_records.begin(), response->unaligned_records.end());
    if (file.size() >= static_cast<uint64_t>(response->size)) break;
  }
  SAMSA_TRY(decode_snapshot(file, id));  // whole and intact before it replaces anything
  SAMSA_TRY(write_file_atomically(rt_, dir_, snapshot_file_name(id), file));
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  if (stopping_ || failed_) return Errc::unavailable;
  return install_snapshot_locked(id);
}

Status RaftClient::install_snapshot_locked(const OffsetAndEpoch& id) {
  // The leader sends a snapshot when this log is behind its start, or when where this log
  // diverges from it is unknown: either way the whole log is replaced. (Committed entries above
  // the snapshot, if any, are fetched again; the high watermark does not move back.)
  if (snapshot_ && snapshot_->end_offset > id.end_offset) return Status{};
  logf(rt_, LogLevel::info, "raft: node {} installs snapshot {}-{} (log was [{}, {}))", config_.node_id, id.end_offset, id.epoch,
       log_->log_start_offset(), log_->log_end_offset());
  if (Status s = log_->truncate_fully_and_start_at(id.end_offset); !s.ok()) {
    fail_locked(s, "installing a snapshot");
    return s;
  }
  snapshot_ = id;
  flushed_end_ = id.end_offset;
  if (observer_ != nullptr) observer_->on_reset(id.end_offset);
  if (id.end_offset > committed_) set_committed_locked(id.end_offset);
  committed_changed_.notify_all();  // the applier loads it
  state_changed_locked();
  return delete_snapshots_before(rt_, dir_, id);
}

Status RaftClient::load_snapshot_for_apply() {
  SnapshotImage image;
  {
    // Holding the snapshot mutex keeps the file from being replaced while it is read; the
    // listener runs after it is released (it may call snapshot()).
    SAMSA_TRY(snapshot_mu_.lock(Deadline::never()));
    LockGuard guard(snapshot_mu_);
    if (!snapshot_) return Status{};
    image.id = *snapshot_;
    SAMSA_TRY_ASSIGN(image.image, read_snapshot(rt_, dir_, image.id, config_.snapshot_bytes_max));
  }
  listener_.handle_load_snapshot(image);
  applied_ = std::max(applied_, image.id.end_offset);
  snapshot_loaded_ = true;
  return Status{};
}

}  // namespace samsa::raft
