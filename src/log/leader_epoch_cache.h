// Leader epoch -> start offset map, persisted beside the log as `leader-epoch-checkpoint`
// (Kafka's file name and format). Replication uses it to truncate by epoch (KIP-101, KIP-279)
// instead of by high watermark.
//
// Owned by one PartitionLog; its fibers call it with the log's mutex held.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/runtime.h"

namespace samsa {

class LeaderEpochCache {
 public:
  static constexpr const char* kFileName = "leader-epoch-checkpoint";
  static constexpr size_t kEntriesMax = 100'000;

  struct Entry {
    int32_t epoch;
    int64_t start_offset;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  LeaderEpochCache(Runtime& rt, std::string dir) : rt_(rt), dir_(std::move(dir)) {}

  // Loads the checkpoint; a missing file is an empty cache, a malformed one Errc::corrupt.
  Status load();
  // Records that `epoch` starts at `start_offset` if it is newer than the latest; persists.
  Status assign(int32_t epoch, int64_t start_offset);
  // Drops entries starting at or after end_offset (the log was truncated there).
  Status truncate_from_end(int64_t end_offset);
  // The same in memory only, when the write that would have followed the entries failed (a full
  // disk): the checkpoint may keep them, which is harmless (recovery drops entries past the log
  // end), but in memory they would make the log's latest epoch one its data does not have.
  void forget_from_end(int64_t end_offset) {
    while (!entries_.empty() && entries_.back().start_offset >= end_offset) entries_.pop_back();
  }
  // The log now starts at start_offset: entries wholly before it go, the one spanning it moves up.
  Status truncate_from_start(int64_t start_offset);
  // Kafka's OffsetForLeaderEpoch answer: the largest epoch <= `epoch` and the offset where it
  // ends (the next epoch's start, or log_end_offset for the latest). nullopt if none is <= epoch.
  std::optional<std::pair<int32_t, int64_t>> end_offset_for(int32_t epoch, int64_t log_end_offset) const;
  // The same, and for an epoch older than every entry Kafka's answer for it: that epoch, ending
  // where the first entry starts (nothing here is known to match it past there). nullopt only
  // when there are no entries. What partition replication answers and truncates by.
  std::optional<std::pair<int32_t, int64_t>> end_offset_or_first_start(int32_t epoch, int64_t log_end_offset) const;

  std::optional<int32_t> latest_epoch() const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  // Writes `entries` and only then adopts them, so memory never runs ahead of the file.
  Status persist(std::vector<Entry> entries);

  Runtime& rt_;
  std::string dir_;
  std::vector<Entry> entries_;  // epochs and start offsets strictly increasing
};

}  // namespace samsa
