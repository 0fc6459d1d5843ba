// Segment: one `<20-digit base offset>.log` file with its sparse `.index` (relative offset u32,
// position u32) and `.timeindex` (timestamp i64, relative offset u32), as Kafka lays them out.
//
// File handles: only the active segment keeps its .log open. Older segments open theirs when
// read (readers share one handle while any holds it) and the index files are opened only to be
// written or loaded, so a partition costs one descriptor however many segments it has.
//
// The in-memory index is the truth while running. Index files are written and synced just
// before a recovery point past the segment is checkpointed (after the log data they point to
// was synced), so recovery only trusts index files of segments below that point; load()
// checks them (monotonic, in bounds, last entry verified against the batch header it points at),
// discards them if wrong, and scans and validates every batch after the last good entry,
// truncating the file at the first torn or corrupt batch.
//
// Owned by a PartitionLog; called from its fibers with the log's mutex held. read paths
// (lookup) may run concurrently with an append because they only read stable bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "log/log_config.h"
#include "log/record_batch.h"
#include "runtime/runtime.h"

namespace samsa {

struct SegmentRecoveryStats {
  uint64_t batches_scanned = 0;
  uint64_t bytes_truncated = 0;
  bool index_rebuilt = false;
};

class Segment {
 public:
  struct IndexEntry {
    int64_t offset;     // base offset of the batch
    uint32_t position;  // its byte position in the .log
  };
  struct TimeEntry {
    int64_t timestamp;  // largest timestamp so far in the segment
    int64_t offset;     // base offset of the batch that brought it
  };

  static std::string file_name(const std::string& dir, int64_t base_offset, const char* suffix);

  // Creates an empty .log (replacing leftovers, removing stale index files); the segment starts
  // active. The caller syncs the directory.
  static Result<std::unique_ptr<Segment>> create(Runtime& rt, const std::string& dir, int64_t base_offset,
                                                 const LogConfig& config);
  // Opens existing files. full_scan: ignore the index files and validate every batch (the
  // segment holds data past the recovery point). The segment starts active.
  static Result<std::unique_ptr<Segment>> open(Runtime& rt, const std::string& dir, int64_t base_offset,
                                               const LogConfig& config, bool full_scan, SegmentRecoveryStats& stats);

  // Appends batches already stamped with their offsets (first one at next_offset()). On
  // Errc::no_space the file is cut back and nothing changes.
  Status append(ConstBytes batches, const std::vector<BatchHeader>& headers);
  // Position of the batch holding `offset` (base_offset() <= offset < next_offset()).
  Result<uint64_t> position_of(int64_t offset);
  // Header of the batch at a position.
  Result<BatchHeader> header_at(uint64_t position);
  // The .log file: the active segment's handle, or one opened (and shared) for readers.
  Result<std::shared_ptr<File>> log_file();
  // Only the active segment holds its handle; deactivate() releases it (readers may still hold
  // one), activate() takes it again (truncation makes an older segment the last).
  void deactivate() { active_log_.reset(); }
  Status activate();
  // First batch whose max timestamp >= ts: its position, or nullopt-like Errc::not_found.
  Result<uint64_t> position_for_timestamp(int64_t timestamp);
  // Syncs the log data (one fdatasync: the cost of flush.messages=1).
  Status flush();
  // Writes the index entries added since the last call and, with `sync`, makes the files
  // durable (syncing what an earlier call wrote without). Called with sync before a recovery
  // point past this segment is checkpointed: only then does recovery trust these files.
  Status flush_index(bool sync = true);
  // Syncs index files written without sync. May run beside the partition's appends (it reads
  // no entries); a write meanwhile leaves them unsynced for the next call.
  Status sync_index();
  bool index_unsynced() const { return index_unsynced_; }
  // The index files hold every entry and are synced: flush_index() has nothing to do.
  bool index_durable() const {
    return index_persisted_ == index_.size() && time_index_persisted_ == time_index_.size() && !index_files_stale_ &&
           !index_unsynced_;
  }
  // Removes every batch with last offset >= offset (whole batches: a batch spanning `offset` goes).
  Status truncate_to(int64_t offset);
  Status remove_files();

  int64_t base_offset() const { return base_offset_; }
  int64_t next_offset() const { return next_offset_; }
  uint64_t size_bytes() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t max_timestamp() const { return max_timestamp_; }
  int64_t first_batch_timestamp() const { return first_batch_timestamp_; }
  const std::vector<IndexEntry>& index() const { return index_; }

 private:
  Segment(Runtime& rt, std::string dir, int64_t base_offset, const LogConfig& config);
  Status load_index(SegmentRecoveryStats& stats);
  Status load_time_index();
  Status scan_from(File& log, uint64_t position, int64_t expected_offset, SegmentRecoveryStats& stats);
  void note_batch(const BatchHeader& h, uint64_t position);
  Result<BatchHeader> header_at(File& log, uint64_t position);
  Result<uint64_t> position_of(File& log, int64_t offset);
  // Writes entries [persisted, size) of an index (after cutting the file to `persisted` when it
  // may hold stale ones) and, with `sync`, syncs it.
  Status write_index(const char* suffix, size_t persisted, bool cut, const std::vector<std::byte>& raw, uint64_t entry_bytes,
                     bool sync);

  Runtime& rt_;
  std::string dir_;
  int64_t base_offset_;
  LogConfig config_;
  std::shared_ptr<File> active_log_;  // held only while this is the active segment
  std::weak_ptr<File> shared_log_;    // the handle readers share, while any holds it
  int64_t next_offset_;
  uint64_t size_ = 0;
  int64_t max_timestamp_ = -1;
  int64_t first_batch_timestamp_ = -1;
  uint64_t bytes_since_index_ = 0;
  std::vector<IndexEntry> index_;
  std::vector<TimeEntry> time_index_;
  size_t index_persisted_ = 0;       // entries already in the .index file
  size_t time_index_persisted_ = 0;  // entries already in the .timeindex file
  bool index_files_stale_ = true;    // the files may hold entries past *_persisted_: cut them first
  bool index_unsynced_ = false;      // written by flush_index(false), not synced since
  uint64_t index_writes_ = 0;        // a sync_index that saw a write begin meanwhile books nothing
};

}  // namespace samsa
