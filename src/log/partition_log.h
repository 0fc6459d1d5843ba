// PartitionLog: one partition's log in its own directory (`<topic>-<partition>`), as a sequence
// of segments, plus its leader-epoch checkpoint and recovery-point checkpoint.
//
// Durability contract
// - append() assigns offsets, stamps the leader epoch (CRC untouched) and writes; data is
//   durable once flush() returns ok, or when append() returns under flush.messages=1. Kafka's
//   flush policy: flush when flush.messages appends are unflushed or flush.ms has passed since
//   the last flush. A flush by count is a group commit: the append releases the mutex after
//   writing and then waits for an fsync that began after its write, so appends written while
//   one fsync runs are all covered by the next (one fsync per group, not per append).
// - open() recovers: segments from the one holding the recovery point on are validated batch by
//   batch; the log is cut at the first torn or corrupt batch (later segments are deleted) and
//   indexes are rebuilt. Afterwards the log is a prefix of what was appended and holds at least
//   everything that was flushed.
// - An EIO from the disk takes the log offline: every later call returns Errc::unavailable and
//   nothing more is acknowledged. ENOSPC fails the append (Errc::no_space) and changes nothing.
//
// Threading: all calls from fibers of one node. Mutating calls serialise on an internal mutex
// (they suspend on disk I/O); read_slice() and the accessors may run beside them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "log/leader_epoch_cache.h"
#include "log/log_config.h"
#include "log/segment.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa {

struct AppendResult {
  int64_t base_offset;  // first offset assigned
  int64_t last_offset;
  uint32_t batches;
  int64_t records;
};

// What an append still lacks before it is durable under flush.messages (PartitionLog::wait_durable
// supplies it): the log end it needs synced, and the truncation count when it was written.
struct DurableWait {
  int64_t end = -1;  // -1: nothing to wait for
  uint64_t truncations = 0;
  bool needed() const { return end >= 0; }
};

// Whole batches of one segment, ready for Runtime::send_file. length 0: nothing to read.
struct LogSlice {
  std::shared_ptr<File> file;
  uint64_t position = 0;
  uint64_t length = 0;
  int64_t first_offset = 0;  // base offset of the first batch (may be below the offset asked)
};

struct TimestampAndOffset {
  int64_t timestamp = -1;
  int64_t offset = -1;
};

struct LogRecoveryStats {
  uint64_t segments = 0;
  uint64_t batches_scanned = 0;
  uint64_t bytes_truncated = 0;
  uint64_t segments_deleted = 0;
  uint64_t indexes_rebuilt = 0;
};

class PartitionLog {
 public:
  static constexpr const char* kRecoveryPointFile = "recovery-point-offset-checkpoint";
  static constexpr const char* kLogStartFile = "log-start-offset-checkpoint";
  static constexpr const char* kHighWatermarkFile = "high-watermark-checkpoint";
  static constexpr size_t kSegmentsMax = 1'000'000;
  // Rolled segments whose index files one maintenance pass syncs; the rest wait for the next.
  static constexpr size_t kRolledSyncsMax = 16;
  // Segments whose index files one recovery-point checkpoint writes and syncs under the log's
  // lock; a checkpoint with more to do stops short of the recovery point (write_recovery_point).
  static constexpr size_t kIndexFlushesPerCheckpointMax = 16;

  // Opens (creating if needed) and recovers the log in `dir`.
  static Result<std::unique_ptr<PartitionLog>> open(Runtime& rt, std::string dir, LogConfig config);
  ~PartitionLog();

  // Appends one or more batches (a Produce record set). Errc::corrupt for a malformed or
  // CRC-failing batch, Errc::too_large above max_batch_bytes, Errc::no_space, Errc::unavailable.
  Result<AppendResult> append(ConstBytes record_set, int32_t leader_epoch);
  // The same, but returns once the batches are written, leaving in *durable what the flush policy
  // still asks for: the caller calls wait_durable() later, so that one connection's next request
  // can be written while this one's fsync runs (one group commit covers both).
  Result<AppendResult> append(ConstBytes record_set, int32_t leader_epoch, DurableWait* durable);
  // Returns once the log is durable up to w.end (at once if !w.needed()); fails if the log was
  // truncated since the write (the batch may be gone) or a sync failed.
  Status wait_durable(DurableWait w) { return w.needed() ? sync_to(w.end, w.truncations) : Status{}; }
  // Appends batches that already carry their offsets and leader epochs (a follower copying its
  // leader; Raft replication). The first batch must start at log_end_offset() and the rest
  // follow contiguously, with epochs that never go below the latest one in the log
  // (Errc::out_of_range otherwise; nothing is written). Each new epoch's start is recorded.
  // Written from record_set as it is: no copy in user space.
  Result<AppendResult> append_replicated(ConstBytes record_set);
  // Batches holding offsets >= `offset`, up to max_bytes, not beyond max_offset (exclusive; the
  // high watermark later). With at_least_one_batch, a first batch larger than max_bytes is still
  // returned whole (Kafka's fetch does that for the first partition with data, KIP-74); without,
  // the slice may be empty.
  Result<LogSlice> read_slice(int64_t offset, uint64_t max_bytes, int64_t max_offset, bool at_least_one_batch = true);
  Result<LogSlice> read_slice(int64_t offset, uint64_t max_bytes) { return read_slice(offset, max_bytes, log_end_offset()); }
  // Offset of the first batch whose max timestamp >= timestamp; log_end_offset() if none.
  Result<int64_t> offset_for_timestamp(int64_t timestamp);
  // The largest timestamp in the log and the offset of the first record that has it (a
  // compressed batch's base offset: records are not decoded here); nullopt for an empty log.
  // For ListOffsets' MAX_TIMESTAMP; reads the headers of one segment.
  Result<std::optional<TimestampAndOffset>> max_timestamp_offset();

  Status flush();
  // Applies the time half of the flush policy (a background fiber calls it periodically).
  Status maybe_flush();
  // Deletes whole segments past retention.ms / retention.bytes; never the active segment.
  Result<size_t> apply_retention();
  // Drops everything at and after `offset` (rounded down to a batch start), for replication.
  Status truncate_to(int64_t offset);
  // Removes every segment and restarts the log empty at `offset` (a follower too far behind
  // its leader's log start; a Raft snapshot installed). The epoch cache is cleared.
  Status truncate_fully_and_start_at(int64_t offset);
  // Moves the log start forward to `offset` (<= log_end_offset()): DeleteRecords, and the
  // metadata log after a snapshot. Reads below it fail with out_of_range; whole segments below
  // it are deleted. Persisted in kLogStartFile before anything is deleted.
  Status advance_log_start(int64_t offset);
  // Flushes and checkpoints; the log stays usable.
  Status checkpoint();

  // The high watermark replication last learned for this partition, kept in kHighWatermarkFile
  // (Kafka's replication-offset-checkpoint, one file per partition here) so that a restarted
  // follower starts from it, as Kafka's does. Not synced with the data: a hint, never above the
  // log end once read back.
  void note_high_watermark(int64_t hw) { noted_high_watermark_ = hw; }
  int64_t checkpointed_high_watermark() const { return checkpointed_high_watermark_; }
  // Writes the noted high watermark if it moved since the last write.
  Status checkpoint_high_watermark();

  int64_t log_start_offset() const { return std::max(log_start_offset_, segments_.begin()->second->base_offset()); }
  int64_t log_end_offset() const { return active().next_offset(); }
  int64_t recovery_point() const { return recovery_point_; }
  // What consumers may read. With flush.messages=1 (acknowledged means durable) it is the
  // recovery point, so a reader never sees a record that a crash could still take back and a
  // later record could replace at the same offset. Otherwise the log end, as on a Kafka
  // broker whose durability comes from replicas rather than fsync.
  int64_t high_watermark() const {
    return config_.flush_messages == 1 ? std::min(recovery_point_, log_end_offset()) : log_end_offset();
  }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  std::vector<int64_t> segment_bases() const;
  bool offline() const { return offline_; }
  // An fsync of a segment failed: after it the page cache may no longer hold what was written
  // unsynced (Linux drops dirty pages on failed writeback), so this replica may have lost data.
  bool sync_failed() const { return sync_failed_; }
  // A reader outside the log (sendfile of a fetch) met a disk error in its files.
  void take_offline(Status cause) { (void)go_offline(cause); }
  const LogRecoveryStats& recovery_stats() const { return recovery_stats_; }
  LeaderEpochCache& epochs() { return epochs_; }
  const std::string& dir() const { return dir_; }
  const LogConfig& config() const { return config_; }
  // New settings (a topic config change), used from the next append, flush and retention on.
  void set_config(LogConfig config) { config_ = std::move(config); }
  Segment& active() const { return *segments_.rbegin()->second; }

 private:
  PartitionLog(Runtime& rt, std::string dir, LogConfig config);
  Status recover();
  Status load_segments(const std::vector<int64_t>& bases);
  Status roll_if_needed(uint64_t incoming_bytes, int64_t incoming_max_timestamp);
  Status roll(int64_t base_offset);
  Status sync_dir_if_due_locked();
  // Syncs the directory if `due` (a flag the caller took from dir_sync_due_); on failure the
  // flag is set again.
  Status sync_dir_taken(bool due);
  Status sync_rolled();
  // Writes batches stamped with their offsets and epochs (headers describe them), recording
  // new epochs first, and applies the flush policy. Called with mu_ held.
  // *sync_after: the flush policy asks for an fsync, which the caller makes with sync_to()
  // once it has released mu_ (group commit).
  Result<AppendResult> write_stamped_locked(ConstBytes buf, const std::vector<BatchHeader>& headers, bool* sync_after);
  Result<std::vector<ConstBytes>> checked_batches(ConstBytes record_set, uint64_t batch_bytes_max) const;
  // Writes under mu_; what the flush policy then asks for goes to *durable (nullptr: waited for here).
  Result<AppendResult> write_then_sync(const std::function<Result<AppendResult>(bool* sync_after)>& write,
                                       DurableWait* durable = nullptr);
  // Makes the log durable up to `end` (exclusive), unless a flush since has already; fails if
  // the log was truncated since the batch was written (`truncations` as it was then).
  Status sync_to(int64_t end, uint64_t truncations);
  Status sync_written();
  Status delete_oldest_segment();
  Status write_twice_locked(ConstBytes batch, BatchHeader h);
  Result<int64_t> first_record_at_or_after(Segment& seg, uint64_t pos, int64_t timestamp);
  Status flush_locked();
  Status write_recovery_point(size_t index_flushes_max = kIndexFlushesPerCheckpointMax);
  Status go_offline(Status cause);
  std::shared_ptr<Segment> segment_for(int64_t offset) const;

  Runtime& rt_;
  std::string dir_;
  LogConfig config_;
  Mutex mu_;
  // By base offset; never empty once open. shared_ptr: a read in progress keeps a segment (and
  // its open file) alive while retention or truncation removes it from the map.
  std::map<int64_t, std::shared_ptr<Segment>> segments_;
  LeaderEpochCache epochs_;
  int64_t recovery_point_ = 0;
  int64_t log_start_offset_ = 0;  // checkpointed; the first segment's base may be above it
  int64_t unflushed_records_ = 0;
  bool syncing_ = false;        // a group commit's fsync is in flight (sync_to)
  bool dir_sync_due_ = false;   // a roll created a segment whose name is not yet durable
  WaitQueue synced_;            // woken when it ends
  uint64_t truncations_ = 0;    // a sync begun before a truncation books nothing
  int64_t noted_high_watermark_ = 0, checkpointed_high_watermark_ = 0;
  Instant last_flush_{};
  Instant last_checkpoint_{};
  bool offline_ = false;
  bool sync_failed_ = false;
  LogRecoveryStats recovery_stats_;
};

}  // namespace samsa
