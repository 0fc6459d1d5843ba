// Consumer with manual assignment: assign partitions, seek (offset, beginning, end, timestamp),
// poll. Fetches with Fetch v4..v11 (RecordBatch v2), decompresses batches, skips control
// batches and records below the position. OFFSET_OUT_OF_RANGE resets by auto.offset.reset.
// Threading: fibers of one node; one fiber at a time.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/cluster.h"
#include "log/record_batch.h"

namespace samsa::client {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

struct ConsumedRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::vector<std::byte>> key;
  std::optional<std::vector<std::byte>> value;
  std::vector<RecordHeader> headers;
};

struct ConsumerConfig {
  enum class Reset { earliest, latest, none };
  int32_t fetch_max_wait_ms = 500;
  int32_t fetch_min_bytes = 1;
  int32_t max_partition_fetch_bytes = 1024 * 1024;
  int32_t fetch_max_bytes = 50 * 1024 * 1024;
  Reset auto_offset_reset = Reset::latest;
};

class Consumer {
 public:
  static constexpr int64_t kLatest = -1, kEarliest = -2;

  Consumer(Cluster& cluster, ConsumerConfig config) : cluster_(cluster), config_(config) {}

  // Positions start unknown and are resolved by auto.offset.reset unless seek()ed.
  void assign(const std::vector<TopicPartition>& partitions);
  void seek(const TopicPartition& tp, int64_t offset) { positions_[tp] = offset; }
  Status seek_to(const TopicPartition& tp, int64_t timestamp_or_special);  // kEarliest, kLatest or a timestamp
  std::optional<int64_t> position(const TopicPartition& tp) const;
  const std::map<TopicPartition, int64_t>& positions() const { return positions_; }
  // Offset for a timestamp (or kEarliest/kLatest) from the partition's leader.
  Result<int64_t> list_offset(const TopicPartition& tp, int64_t timestamp);
  // Records from the assigned partitions, waiting up to `timeout` for at least one.
  Result<std::vector<ConsumedRecord>> poll(Duration timeout);

 private:
  Status resolve_positions();
  Status fetch_once(Deadline deadline, std::vector<ConsumedRecord>& out);
  void take_records(const std::string& topic, int32_t partition, ConstBytes data, std::vector<ConsumedRecord>& out);

  Cluster& cluster_;
  ConsumerConfig config_;
  std::map<TopicPartition, int64_t> positions_;  // -1: unknown, to be reset
};

}  // namespace samsa::client
