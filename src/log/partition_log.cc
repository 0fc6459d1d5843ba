#include "log/partition_log.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "log/checkpoint_file.h"
#include "runtime/log.h"

namespace samsa {

namespace {

// "<20 digits>.log" -> base offset.
bool parse_segment_name(const std::string& name, int64_t* base) {
  if (name.size() != 24 || name.compare(20, 4, ".log") != 0) return false;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, *base);
  return ec == std::errc{} && end == name.data() + 20 && *base >= 0;
}

bool has_suffix(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

PartitionLog::PartitionLog(Runtime& rt, std::string dir, LogConfig config)
    : rt_(rt), dir_(std::move(dir)), config_(config), mu_(rt), epochs_(rt, dir_), synced_(rt) {}

PartitionLog::~PartitionLog() = default;

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(Runtime& rt, std::string dir, LogConfig config) {
  SAMSA_TRY(create_dirs(rt, dir));
  std::unique_ptr<PartitionLog> log(new PartitionLog(rt, std::move(dir), config));
  SAMSA_TRY(log->recover());
  return log;
}

Status PartitionLog::recover() {
  std::vector<std::string> names;
  SAMSA_TRY_ASSIGN(names, rt_.list_dir(dir_));
  std::vector<int64_t> bases;
  for (const std::string& name : names) {
    int64_t base = 0;
    if (parse_segment_name(name, &base)) bases.push_back(base);
    if (has_suffix(name, ".tmp")) SAMSA_TRY(rt_.remove_file(dir_ + "/" + name));  // a checkpoint cut short
  }
  std::sort(bases.begin(), bases.end());
  SAMSA_ASSERT(bases.size() <= kSegmentsMax);
  Result<std::vector<std::string>> rp = read_checkpoint(rt_, dir_, kRecoveryPointFile);
  int64_t recovery_point = 0;  // unknown: validate everything
  if (rp.ok() && rp->size() == 1) {
    std::from_chars(rp->front().data(), rp->front().data() + rp->front().size(), recovery_point);
  }
  recovery_point_ = recovery_point;
  // A checkpoint that cannot be read for an I/O error fails the open (it is retried, or a KRaft
  // broker halts): taken as absent, a lost epoch cache would make this replica answer and
  // truncate by epochs its leader never had (found by the cluster scenario, seed 995).
  Result<std::vector<std::string>> ls = read_checkpoint(rt_, dir_, kLogStartFile);
  if (ls.error() == Errc::io_error) return Errc::io_error;
  if (ls.ok() && ls->size() == 1) {
    std::from_chars(ls->front().data(), ls->front().data() + ls->front().size(), log_start_offset_);
  }
  Result<std::vector<std::string>> hw = read_checkpoint(rt_, dir_, kHighWatermarkFile);
  if (hw.error() == Errc::io_error) return Errc::io_error;
  if (hw.ok() && hw->size() == 1) {
    std::from_chars(hw->front().data(), hw->front().data() + hw->front().size(), checkpointed_high_watermark_);
  }
  if (Status s = epochs_.load(); s.code() == Errc::io_error) {
    return s;
  } else if (!s.ok()) {
    logf(rt_, LogLevel::warn, "{}: unreadable {} ({}), starting it afresh", dir_, LeaderEpochCache::kFileName, s.name());
  }
  if (bases.empty()) {
    SAMSA_TRY(roll(log_start_offset_));
  } else {
    SAMSA_TRY(load_segments(bases));
  }
  if (log_start_offset_ > log_end_offset()) {
    // The start was moved past data a crash then took back: nothing below it may be served.
    const int64_t start = log_start_offset_;
    SAMSA_TRY(truncate_fully_and_start_at(start));
  }
  bool deleted = false;
  while (segments_.size() > 1 && std::next(segments_.begin())->first <= log_start_offset_) {
    SAMSA_TRY(delete_oldest_segment());
    deleted = true;
  }
  if (deleted) SAMSA_TRY(rt_.sync_dir(dir_));
  for (auto& [base, seg] : segments_) {
    if (seg.get() != &active()) seg->deactivate();
  }
  SAMSA_TRY(epochs_.truncate_from_end(log_end_offset()));
  SAMSA_TRY(epochs_.truncate_from_start(log_start_offset()));
  // What recovery validated may be only in the page cache (a process crash keeps unsynced
  // writes): make it durable, names included, before the recovery point says it is.
  for (auto it = segments_.lower_bound(segment_for(recovery_point) ? segment_for(recovery_point)->base_offset() : 0);
       it != segments_.end(); ++it) {
    SAMSA_TRY(it->second->flush());
  }
  SAMSA_TRY(rt_.sync_dir(dir_));
  dir_sync_due_ = false;
  // The checkpoint file keeps the old point until the periodic checkpoint (as Kafka's does):
  // writing it now would first have to write every rebuilt index.
  recovery_point_ = log_end_offset();
  checkpointed_high_watermark_ = std::clamp(checkpointed_high_watermark_, log_start_offset(), log_end_offset());
  noted_high_watermark_ = checkpointed_high_watermark_;
  last_flush_ = last_checkpoint_ = rt_.now();
  logf(rt_, LogLevel::info, "{}: recovered offsets [{}, {}), {} segments, {} bytes cut", dir_, log_start_offset(),
       log_end_offset(), segments_.size(), recovery_stats_.bytes_truncated);
  return Status{};
}

Status PartitionLog::load_segments(const std::vector<int64_t>& bases) {
  bool dropped = false;
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool past_recovery_point = i + 1 == bases.size() || bases[i + 1] > recovery_point_;
    const bool gap = !segments_.empty() && active().next_offset() != bases[i];
    if (gap) {
      // A segment before this one was cut short: everything after the cut goes, keeping
      // offsets dense.
      for (const char* suffix : {".log", ".index", ".timeindex"}) {
        Status s = rt_.remove_file(Segment::file_name(dir_, bases[i], suffix));
        if (!s.ok() && s.code() != Errc::not_found) return s;
      }
      ++recovery_stats_.segments_deleted;
      dropped = true;
      continue;
    }
    SegmentRecoveryStats stats;
    std::unique_ptr<Segment> seg;
    SAMSA_TRY_ASSIGN(seg, Segment::open(rt_, dir_, bases[i], config_, past_recovery_point, stats));
    recovery_stats_.batches_scanned += stats.batches_scanned;
    recovery_stats_.bytes_truncated += stats.bytes_truncated;
    recovery_stats_.indexes_rebuilt += stats.index_rebuilt ? 1 : 0;
    ++recovery_stats_.segments;
    // One descriptor per partition, during recovery too: a partition of many small segments
    // must not need one per segment to open (the active one is opened again below).
    seg->deactivate();
    segments_.emplace(bases[i], std::move(seg));
  }
  if (dropped) SAMSA_TRY(rt_.sync_dir(dir_));
  if (!segments_.empty()) SAMSA_TRY(active().activate());
  return Status{};
}

Status PartitionLog::go_offline(Status cause) {
  if (!offline_) logf(rt_, LogLevel::error, "{}: log offline after a disk error: {}", dir_, cause.name());
  offline_ = true;
  return cause;
}

std::shared_ptr<Segment> PartitionLog::segment_for(int64_t offset) const {
  auto it = segments_.upper_bound(offset);
  if (it == segments_.begin()) return nullptr;
  return std::prev(it)->second;
}

// Nothing here syncs: an fsync on the append path, under mu_, held every append of the partition
// (on ext4 a sync of a rolled 1 GiB segment's index took up to a second, its data being written
// back). The rolled segment's index files are written now and synced soon after, outside mu_
// (sync_rolled, as Kafka flushes a rolled segment in the background): left to the recovery-point
// checkpoint, a minute of small segments meant thousands of fsyncs in one burst under mu_
// (broker scenario --producers 8 --seed 9). The new segment's name must be durable before its
// data is: every path that books data durable syncs the directory first when a roll is pending.
Status PartitionLog::roll(int64_t base) {
  SAMSA_ASSERT(segments_.empty() || base == log_end_offset());
  if (!segments_.empty() && !active().empty()) SAMSA_TRY(active().flush_index(/*sync=*/false));
  std::unique_ptr<Segment> seg;
  SAMSA_TRY_ASSIGN(seg, Segment::create(rt_, dir_, base, config_));
  if (!rt_.bug(Bug::log_skip_dir_sync)) dir_sync_due_ = true;
  if (!segments_.empty()) active().deactivate();
  segments_[base] = std::move(seg);
  return Status{};
}

Status PartitionLog::sync_dir_if_due_locked() { return sync_dir_taken(std::exchange(dir_sync_due_, false)); }

Status PartitionLog::sync_dir_taken(bool due) {
  if (!due) return Status{};
  Status s = rt_.sync_dir(dir_);
  if (!s.ok()) dir_sync_due_ = true;  // still due: the next flush tries again
  return s;
}

// The directory, if a roll made it due, then the index files of rolled segments; mu_ is taken
// only to see what is due, so appends go on beside the syncs.
Status PartitionLog::sync_rolled() {
  bool dir_due = false;
  std::vector<std::shared_ptr<Segment>> rolled;
  {
    SAMSA_TRY(mu_.lock(Deadline::never()));
    LockGuard guard(mu_);
    if (offline_) return Errc::unavailable;
    dir_due = std::exchange(dir_sync_due_, false);
    for (const auto& [base, seg] : segments_) {
      if (rolled.size() == kRolledSyncsMax) break;
      if (seg.get() != &active() && seg->index_unsynced()) rolled.push_back(seg);
    }
  }
  SAMSA_TRY(sync_dir_taken(dir_due));
  for (const std::shared_ptr<Segment>& seg : rolled) SAMSA_TRY(seg->sync_index());
  return Status{};
}

// Like Kafka, time-based rolling compares the incoming batch's timestamp with the segment's
// first batch, not the broker's clock: producers' clocks decide, and old data does not roll
// a segment per append.
Status PartitionLog::roll_if_needed(uint64_t incoming_bytes, int64_t incoming_max_timestamp) {
  const Segment& a = active();
  if (a.empty()) return Status{};
  const bool full = a.size_bytes() + incoming_bytes > config_.segment_bytes;
  const bool old = a.first_batch_timestamp() >= 0 && incoming_max_timestamp - a.first_batch_timestamp() > config_.segment_ms;
  const bool early = rt_.buggify("log.early_roll");  // legal: segments may end anywhere
  return full || old || early ? roll(log_end_offset()) : Status{};
}

// Splits and validates a record set before anything is locked or written.
Result<std::vector<ConstBytes>> PartitionLog::checked_batches(ConstBytes record_set, uint64_t batch_bytes_max) const {
  if (offline_) return Errc::unavailable;
  std::vector<ConstBytes> parts;
  SAMSA_TRY_ASSIGN(parts, split_batches(record_set, batch_bytes_max));
  if (parts.empty()) return Errc::invalid_argument;
  for (ConstBytes b : parts) SAMSA_TRY(validate_batch(b));
  return parts;
}

// `write` stamps and writes with mu_ held; then, if the flush policy asked for it, the append
// waits for its group commit with the mutex released.
Result<AppendResult> PartitionLog::write_then_sync(const std::function<Result<AppendResult>(bool* sync_after)>& write,
                                                   DurableWait* durable) {
  bool sync_after = false;
  uint64_t truncations = 0;  // as the batch was written
  Result<AppendResult> r = [&]() -> Result<AppendResult> {
    SAMSA_TRY(mu_.lock(Deadline::never()));
    LockGuard guard(mu_);
    if (offline_) return Errc::unavailable;
    truncations = truncations_;
    return write(&sync_after);
  }();
  if (!r.ok() || !sync_after) return r;
  const DurableWait wait{r->last_offset + 1, truncations};
  if (durable != nullptr) {
    *durable = wait;
    return r;
  }
  SAMSA_TRY(wait_durable(wait));
  return r;
}

Result<AppendResult> PartitionLog::append(ConstBytes record_set, int32_t leader_epoch) {
  DurableWait durable;
  Result<AppendResult> r = append(record_set, leader_epoch, &durable);
  if (r.ok()) SAMSA_TRY(wait_durable(durable));
  return r;
}

Result<AppendResult> PartitionLog::append(ConstBytes record_set, int32_t leader_epoch, DurableWait* durable) {
  SAMSA_ASSERT(durable != nullptr && !durable->needed());
  SAMSA_TRY(checked_batches(record_set, config_.max_batch_bytes).status());
  return write_then_sync([&](bool* sync_after) -> Result<AppendResult> {
    std::vector<std::byte> buf(record_set.begin(), record_set.end());
    std::vector<BatchHeader> headers;
    int64_t next = log_end_offset();
    for (size_t pos = 0; pos < buf.size();) {
      BatchHeader h = *parse_batch_header(ConstBytes(buf).subspan(pos));
      stamp_batch(Bytes(buf).subspan(pos, h.total_bytes()), next, leader_epoch);
      h.base_offset = next;
      h.leader_epoch = leader_epoch;
      next = h.next_offset();
      pos += h.total_bytes();
      headers.push_back(h);
    }
    return write_stamped_locked(buf, headers, sync_after);
  }, durable);
}

Result<AppendResult> PartitionLog::append_replicated(ConstBytes record_set) {
  std::vector<ConstBytes> parts;  // views into record_set
  SAMSA_TRY_ASSIGN(parts, checked_batches(record_set, kBatchBytesReadMax));
  return write_then_sync([&](bool* sync_after) -> Result<AppendResult> {
    std::vector<BatchHeader> headers;
    int64_t next = log_end_offset();
    int32_t epoch = epochs_.latest_epoch().value_or(kNoLeaderEpoch);
    for (ConstBytes b : parts) {
      BatchHeader h = *parse_batch_header(b);
      if (h.base_offset != next || h.leader_epoch < epoch) return Errc::out_of_range;
      epoch = h.leader_epoch;
      next = h.next_offset();
      headers.push_back(h);
    }
    return write_stamped_locked(record_set, headers, sync_after);
  });
}

// Group commit. One fsync is in flight at a time and covers what was written before it began;
// appenders that wrote meanwhile wait for it to end, then the first of them starts the next,
// which covers them all.
Status PartitionLog::sync_to(int64_t end, uint64_t truncations) {
  for (;;) {
    if (truncations != truncations_) return Errc::unavailable;  // truncated since the write: the batch may be gone
    if (recovery_point_ >= end) return Status{};
    if (offline_) return Errc::unavailable;
    if (syncing_) {
      SAMSA_TRY(synced_.wait(Deadline::never()));
      continue;
    }
    syncing_ = true;
    const Status s = sync_written();
    syncing_ = false;
    synced_.notify_all();
    SAMSA_TRY(s);
  }
}

// fsyncs everything written so far without holding mu_ while the disk works, so appends go on
// beside it; then books it as flushed, unless the log was truncated meanwhile.
Status PartitionLog::sync_written() {
  std::vector<std::shared_ptr<Segment>> segments;
  int64_t target = 0, unflushed = 0;
  uint64_t truncations = 0;
  bool dir_due = false;
  {
    SAMSA_TRY(mu_.lock(Deadline::never()));
    LockGuard guard(mu_);
    if (offline_) return Errc::unavailable;
    target = log_end_offset();
    unflushed = unflushed_records_;
    truncations = truncations_;
    dir_due = std::exchange(dir_sync_due_, false);
    std::shared_ptr<Segment> from = segment_for(recovery_point_);
    const int64_t from_base = from == nullptr ? log_start_offset() : from->base_offset();
    for (auto it = segments_.lower_bound(from_base); it != segments_.end(); ++it) segments.push_back(it->second);
  }
  // Names first: data booked durable below must not vanish with an unsynced directory entry.
  SAMSA_TRY(sync_dir_taken(dir_due));
  Status synced;
  std::shared_ptr<Segment> failed;
  for (const std::shared_ptr<Segment>& seg : segments) {
    synced = seg->flush();
    if (synced.ok()) continue;
    failed = seg;
    break;
  }
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  // A segment that retention or a truncation removed meanwhile has nothing left to make durable.
  auto it = failed != nullptr ? segments_.find(failed->base_offset()) : segments_.end();
  if (!synced.ok() && (it == segments_.end() || it->second != failed)) return Status{};
  if (!synced.ok()) {
    sync_failed_ = true;  // fsyncgate: the kernel may have dropped the unsynced pages
    // The batch is written but cannot be made durable: not "nothing written", never ENOSPC.
    return go_offline(synced.code() == Errc::no_space ? Status{Errc::io_error} : synced);
  }
  if (truncations != truncations_ || offline_) return Status{};  // cut meanwhile: the caller looks again
  if (target > recovery_point_) recovery_point_ = target;
  unflushed_records_ = std::max<int64_t>(unflushed_records_ - unflushed, 0);
  last_flush_ = rt_.now();
  if (rt_.now() - last_checkpoint_ >= config_.recovery_checkpoint_interval) SAMSA_TRY(write_recovery_point());
  return Status{};
}

Result<AppendResult> PartitionLog::write_stamped_locked(ConstBytes buf, const std::vector<BatchHeader>& headers,
                                                      bool* sync_after) {
  SAMSA_ASSERT(!headers.empty() && headers.front().base_offset == log_end_offset());
  AppendResult result{headers.front().base_offset, headers.back().last_offset(), static_cast<uint32_t>(headers.size()), 0};
  int64_t max_timestamp = -1;
  for (const BatchHeader& h : headers) {
    result.records += h.records_count;
    max_timestamp = std::max(max_timestamp, h.max_timestamp);
  }
  // A new epoch is recorded before the data it covers (an entry past the log end is harmless:
  // recovery drops it). Up to and including the segment write, ENOSPC means nothing was
  // written and the log stays online.
  for (const BatchHeader& h : headers) {
    if (h.leader_epoch < 0 || (epochs_.latest_epoch() && h.leader_epoch <= *epochs_.latest_epoch())) continue;
    if (Status s = epochs_.assign(h.leader_epoch, h.base_offset); !s.ok()) {
      if (s.code() != Errc::no_space) return go_offline(s);
      epochs_.forget_from_end(log_end_offset());  // an earlier batch's entry went in
      return s;
    }
  }
  if (Status s = roll_if_needed(buf.size(), max_timestamp); !s.ok()) {
    // Out of descriptors or space: the append fails, the log stays as it was and online.
    if (s.code() != Errc::no_space && s.code() != Errc::resource_exhausted) return go_offline(s);
    epochs_.forget_from_end(log_end_offset());
    return s;
  }
  if (Status s = active().append(buf, headers); !s.ok()) {
    if (s.code() != Errc::no_space) return go_offline(s);
    // Without this, a follower whose catch-up append hit a full disk kept the batches' epochs
    // and refused the same batches ever after (older than its latest epoch): found by the
    // speed runs, samsa-sim --scenario cluster --cluster-brokers 3 --send-rate 50 --seed 3.
    epochs_.forget_from_end(log_end_offset());
    return s;
  }
  if (headers.size() == 1 && headers[0].records_count > 3 && rt_.bug(Bug::log_append_twice)) {
    SAMSA_TRY(write_twice_locked(buf, headers[0]));
  }
  unflushed_records_ += result.records;
  // Asked first, so the site is reached even when the policy flushes anyway.
  const bool extra_flush = rt_.buggify("log.flush_after_append");
  const bool by_count = unflushed_records_ >= config_.flush_messages || extra_flush;
  if (by_count && rt_.bug(Bug::log_ack_before_sync)) {
    recovery_point_ = log_end_offset();  // books the data as flushed without the fsync
    unflushed_records_ = 0;
    return result;
  }
  if (by_count) {
    *sync_after = true;  // group commit: append() fsyncs once it has released the mutex
    return result;
  }
  const bool by_time = config_.flush_ms != INT64_MAX && rt_.now() - last_flush_ >= std::chrono::milliseconds(config_.flush_ms);
  if (by_time) {
    // The batch is written but cannot be made durable: not "nothing written", so never
    // report it as ENOSPC.
    if (Status s = flush_locked(); !s.ok()) return go_offline(s.code() == Errc::no_space ? Status{Errc::io_error} : s);
  }
  return result;
}

// The planted append-twice bug: the batch goes in again right behind itself.
Status PartitionLog::write_twice_locked(ConstBytes batch, BatchHeader h) {
  std::vector<std::byte> buf(batch.begin(), batch.end());
  h.base_offset = log_end_offset();
  stamp_batch(buf, h.base_offset, h.leader_epoch);
  if (Status s = active().append(buf, {h}); !s.ok()) return go_offline(s);
  return Status{};
}

Status PartitionLog::flush_locked() {
  SAMSA_TRY(sync_dir_if_due_locked());
  std::shared_ptr<Segment> from = segment_for(recovery_point_);
  const int64_t from_base = from == nullptr ? log_start_offset() : from->base_offset();
  for (auto it = segments_.lower_bound(from_base); it != segments_.end(); ++it) {
    if (Status s = it->second->flush(); !s.ok()) {
      sync_failed_ = true;  // fsyncgate: the kernel may have dropped the unsynced pages
      return s;
    }
  }
  recovery_point_ = log_end_offset();
  unflushed_records_ = 0;
  last_flush_ = rt_.now();
  if (rt_.now() - last_checkpoint_ >= config_.recovery_checkpoint_interval) SAMSA_TRY(write_recovery_point());
  return Status{};
}

// Index files of every segment below the checkpointed point must be durable first: recovery
// trusts them without rescanning. (Their log data is already synced: it is below the point.)
// At most kIndexFlushesPerCheckpointMax segments' index files are written and synced per call,
// under mu_: after a recovery rebuilt the indexes of a log of thousands of small segments, one
// call rewrote them all while every append waited (5 s without an acknowledgement: broker scenario
// --producers 16 --seed 9). The point written then stops at the first segment left, which
// recovery scans (a lower point is always safe), and the next flush goes on from there.
Status PartitionLog::write_recovery_point(size_t index_flushes_max) {
  int64_t point = recovery_point_;
  size_t flushed = 0;
  for (const auto& [base, seg] : segments_) {
    if (base >= recovery_point_) break;
    if (seg->index_durable()) continue;
    if (flushed == index_flushes_max) {
      point = base;
      break;
    }
    SAMSA_TRY(seg->flush_index());
    ++flushed;
  }
  SAMSA_ASSERT(point <= recovery_point_);
  SAMSA_TRY(write_checkpoint(rt_, dir_, kRecoveryPointFile, {std::to_string(point)}));
  // Behind the recovery point: due again at the next flush, not an interval later.
  if (point == recovery_point_) last_checkpoint_ = rt_.now();
  return Status{};
}

Status PartitionLog::flush() {
  if (offline_) return Errc::unavailable;
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  if (offline_) return Errc::unavailable;
  if (Status s = flush_locked(); !s.ok()) return go_offline(s);
  return Status{};
}

Status PartitionLog::maybe_flush() {
  if (offline_) return Errc::unavailable;
  if (Status s = sync_rolled(); !s.ok()) return go_offline(s);
  if (config_.flush_ms == INT64_MAX || unflushed_records_ == 0) return Status{};
  if (rt_.now() - last_flush_ < std::chrono::milliseconds(config_.flush_ms)) return Status{};
  return flush();
}

Status PartitionLog::checkpoint_high_watermark() {
  if (offline_ || noted_high_watermark_ == checkpointed_high_watermark_) return Status{};
  const int64_t hw = noted_high_watermark_;
  SAMSA_TRY(write_checkpoint(rt_, dir_, kHighWatermarkFile, {std::to_string(hw)}));
  checkpointed_high_watermark_ = hw;
  return Status{};
}

Status PartitionLog::checkpoint() {
  SAMSA_TRY(flush());
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  // A clean shutdown leaves nothing for recovery to scan, however long it takes.
  if (Status s = write_recovery_point(std::numeric_limits<size_t>::max()); !s.ok()) return go_offline(s);
  return Status{};
}

}  // namespace samsa

namespace samsa {

Result<LogSlice> PartitionLog::read_slice(int64_t offset, uint64_t max_bytes, int64_t max_offset, bool at_least_one_batch) {
  if (offline_) return Errc::unavailable;
  if (offset < log_start_offset() || offset > log_end_offset()) return Errc::out_of_range;
  std::shared_ptr<Segment> seg = segment_for(offset);
  SAMSA_ASSERT(seg != nullptr);
  if (offset >= seg->next_offset() && offset < log_end_offset()) seg = segment_for(seg->next_offset());
  if (offset == log_end_offset() || offset >= max_offset || offset >= seg->next_offset()) {
    return LogSlice{nullptr, active().size_bytes(), 0, offset};
  }
  uint64_t start = 0;
  SAMSA_TRY_ASSIGN(start, seg->position_of(offset));
  if (offset == seg->base_offset() && offset > 0 && rt_.bug(Bug::broker_skip_batch_on_fetch)) {
    BatchHeader first;
    SAMSA_TRY_ASSIGN(first, seg->header_at(start));
    if (first.next_offset() < seg->next_offset()) start += first.total_bytes();  // off by one batch
  }
  std::shared_ptr<File> file;
  SAMSA_TRY_ASSIGN(file, seg->log_file());
  LogSlice slice{std::move(file), start, 0, 0};
  // Snapshot the size: an append may extend the segment while we read headers.
  const uint64_t end = seg->size_bytes();
  for (uint64_t pos = start; pos < end;) {
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, seg->header_at(pos));
    if (h.base_offset >= max_offset) break;
    if ((slice.length > 0 || !at_least_one_batch) && slice.length + h.total_bytes() > max_bytes) break;
    if (slice.length == 0) slice.first_offset = h.base_offset;
    slice.length += h.total_bytes();
    pos += h.total_bytes();
    if (slice.length >= max_bytes) break;
  }
  return slice;
}

Result<int64_t> PartitionLog::offset_for_timestamp(int64_t timestamp) {
  if (offline_) return Errc::unavailable;
  std::vector<std::shared_ptr<Segment>> segs;
  for (const auto& [base, seg] : segments_) segs.push_back(seg);
  for (const auto& seg : segs) {
    if (seg->max_timestamp() < timestamp) continue;
    Result<uint64_t> pos = seg->position_for_timestamp(timestamp);
    if (pos.error() == Errc::not_found) continue;
    if (!pos.ok()) return pos.status();
    return first_record_at_or_after(*seg, *pos, timestamp);
  }
  return log_end_offset();
}

Result<int64_t> PartitionLog::first_record_at_or_after(Segment& seg, uint64_t pos, int64_t timestamp) {
  BatchHeader h;
  SAMSA_TRY_ASSIGN(h, seg.header_at(pos));
  if (h.compression() != Compression::none) return h.base_offset;  // records not decoded here
  std::vector<std::byte> batch(h.total_bytes());
  size_t n = 0;
  std::shared_ptr<File> file;
  SAMSA_TRY_ASSIGN(file, seg.log_file());
  SAMSA_TRY_ASSIGN(n, file->pread(pos, batch));
  if (n != batch.size()) return Errc::corrupt;
  std::vector<Record> records;
  SAMSA_TRY_ASSIGN(records, decode_records(batch));
  for (const Record& r : records) {
    if (r.timestamp >= timestamp) return r.offset;
  }
  return h.base_offset;
}

Result<std::optional<TimestampAndOffset>> PartitionLog::max_timestamp_offset() {
  if (offline_) return Errc::unavailable;
  std::shared_ptr<Segment> best;
  for (const auto& [base, seg] : segments_) {
    if (seg->size_bytes() > 0 && (best == nullptr || seg->max_timestamp() > best->max_timestamp())) best = seg;
  }
  if (best == nullptr) return std::optional<TimestampAndOffset>{};
  const int64_t ts = best->max_timestamp();
  const uint64_t end = best->size_bytes();
  for (uint64_t pos = 0; pos < end;) {  // one segment's headers: the batch holding its maximum
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, best->header_at(pos));
    if (h.max_timestamp == ts && h.next_offset() > log_start_offset()) {
      int64_t offset = 0;
      SAMSA_TRY_ASSIGN(offset, first_record_at_or_after(*best, pos, ts));
      return std::optional<TimestampAndOffset>{TimestampAndOffset{ts, std::max(offset, log_start_offset())}};
    }
    pos += h.total_bytes();
  }
  return std::optional<TimestampAndOffset>{};
}

uint64_t PartitionLog::size_bytes() const {
  uint64_t total = 0;
  for (const auto& [base, seg] : segments_) total += seg->size_bytes();
  return total;
}

std::vector<int64_t> PartitionLog::segment_bases() const {
  std::vector<int64_t> out;
  for (const auto& [base, seg] : segments_) out.push_back(base);
  return out;
}

Result<size_t> PartitionLog::apply_retention() {
  if (offline_) return Errc::unavailable;
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  const int64_t now_ms = rt_.wall_clock_ms();
  size_t deleted = 0;
  while (segments_.size() > 1) {
    const std::shared_ptr<Segment> oldest = segments_.begin()->second;
    const bool by_time = config_.retention_ms >= 0 && oldest->max_timestamp() < now_ms - config_.retention_ms;
    const bool by_size = config_.retention_bytes >= 0 &&
                         size_bytes() - oldest->size_bytes() >= static_cast<uint64_t>(config_.retention_bytes);
    if (!by_time && !by_size) break;
    if (Status s = delete_oldest_segment(); !s.ok()) return go_offline(s);
    ++deleted;
  }
  if (deleted == 0) return deleted;
  if (Status s = rt_.sync_dir(dir_); !s.ok()) return go_offline(s);
  if (Status s = epochs_.truncate_from_start(log_start_offset()); !s.ok()) return go_offline(s);
  recovery_point_ = std::max(recovery_point_, log_start_offset());
  return deleted;
}

Status PartitionLog::truncate_to(int64_t offset) {
  if (offline_) return Errc::unavailable;
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  if (offset >= log_end_offset()) return Status{};
  if (offset < log_start_offset()) return Errc::invalid_argument;
  ++truncations_;
  bool removed = false;
  while (active().base_offset() > offset) {
    std::shared_ptr<Segment> last = segments_.rbegin()->second;
    segments_.erase(std::prev(segments_.end()));
    if (Status s = last->remove_files(); !s.ok()) return go_offline(s);
    removed = true;
  }
  if (removed) {
    if (Status s = active().activate(); !s.ok()) return go_offline(s);
  }
  if (Status s = active().truncate_to(offset); !s.ok()) return go_offline(s);
  if (removed) {
    if (Status s = rt_.sync_dir(dir_); !s.ok()) return go_offline(s);
  }
  if (Status s = epochs_.truncate_from_end(log_end_offset()); !s.ok()) return go_offline(s);
  recovery_point_ = std::min(recovery_point_, log_end_offset());
  unflushed_records_ = 0;
  if (Status s = write_recovery_point(); !s.ok()) return go_offline(s);
  return Status{};
}

}  // namespace samsa

namespace samsa {

Status PartitionLog::delete_oldest_segment() {
  SAMSA_ASSERT(segments_.size() > 1);
  const std::shared_ptr<Segment> oldest = segments_.begin()->second;
  segments_.erase(segments_.begin());  // the log start moves first; then the files go
  return oldest->remove_files();
}

Status PartitionLog::truncate_fully_and_start_at(int64_t offset) {
  if (offline_) return Errc::unavailable;
  SAMSA_ASSERT(offset >= 0);
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  ++truncations_;
  // Old segments go before the new start is checkpointed: a crash in between leaves an empty
  // log at the old start (data a follower refetches), never old data above the new start.
  std::map<int64_t, std::shared_ptr<Segment>> old;
  old.swap(segments_);
  for (auto& [base, seg] : old) {
    if (Status s = seg->remove_files(); !s.ok()) return go_offline(s);
  }
  if (Status s = roll(offset); !s.ok()) return go_offline(s);
  if (Status s = sync_dir_if_due_locked(); !s.ok()) return go_offline(s);  // before the new start is
  if (Status s = epochs_.truncate_from_end(0); !s.ok()) return go_offline(s);
  log_start_offset_ = offset;
  if (Status s = write_checkpoint(rt_, dir_, kLogStartFile, {std::to_string(offset)}); !s.ok()) return go_offline(s);
  recovery_point_ = offset;
  unflushed_records_ = 0;
  if (Status s = write_recovery_point(); !s.ok()) return go_offline(s);
  return Status{};
}

Status PartitionLog::advance_log_start(int64_t offset) {
  if (offline_) return Errc::unavailable;
  SAMSA_TRY(mu_.lock(Deadline::never()));
  LockGuard guard(mu_);
  if (offset <= log_start_offset()) return Status{};
  if (offset > log_end_offset()) return Errc::out_of_range;
  if (Status s = write_checkpoint(rt_, dir_, kLogStartFile, {std::to_string(offset)}); !s.ok()) return go_offline(s);
  log_start_offset_ = offset;
  bool deleted = false;
  while (segments_.size() > 1 && std::next(segments_.begin())->first <= offset) {
    if (Status s = delete_oldest_segment(); !s.ok()) return go_offline(s);
    deleted = true;
  }
  if (deleted) {
    if (Status s = rt_.sync_dir(dir_); !s.ok()) return go_offline(s);
  }
  if (Status s = epochs_.truncate_from_start(offset); !s.ok()) return go_offline(s);
  recovery_point_ = std::max(recovery_point_, offset);
  return Status{};
}

}  // namespace samsa
