// Consumer with manual assignment: assign partitions, seek (offset, beginning, end, timestamp),
// poll. Fetches with Fetch v4..v11 (RecordBatch v2), decompresses batches, skips control
// batches and records below the position. OFFSET_OUT_OF_RANGE resets by auto.offset.reset.
// Threading: fibers of one node; one fiber at a time.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/cluster.h"
#include "log/record_batch.h"
#include "model/topic_partition.h"

namespace samsa::client {

// The one TopicPartition the broker, the groups coordinator and the clients share.
using TopicPartition = model::TopicPartition;

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
  // A batch whose CRC does not match: false stops at it (poll reports Errc::corrupt once nothing
  // else was read), true moves past it and logs the move.
  bool skip_corrupt_batches = false;
};

// A change of position that did not come from consuming records (a seek, a reset by
// auto.offset.reset, a corrupt batch skipped): order checks must restart there.
struct PositionMove {
  TopicPartition tp;
  int64_t from = -1, to = -1;
  std::string why;
};

class Consumer {
 public:
  static constexpr int64_t kLatest = -1, kEarliest = -2;

  Consumer(Cluster& cluster, ConsumerConfig config) : cluster_(cluster), config_(config) {}

  // Positions start unknown and are resolved by auto.offset.reset unless seek()ed.
  void assign(const std::vector<TopicPartition>& partitions);
  void seek(const TopicPartition& tp, int64_t offset) { move(tp, offset, "seek"); }
  Status seek_to(const TopicPartition& tp, int64_t timestamp_or_special);  // kEarliest, kLatest or a timestamp
  std::optional<int64_t> position(const TopicPartition& tp) const;
  const std::map<TopicPartition, int64_t>& positions() const { return positions_; }
  // Offset for a timestamp (or kEarliest/kLatest) from the partition's leader.
  Result<int64_t> list_offset(const TopicPartition& tp, int64_t timestamp);
  // Records from the assigned partitions, waiting up to `timeout` for at least one.
  Result<std::vector<ConsumedRecord>> poll(Duration timeout);
  // Moves since the last call.
  std::vector<PositionMove> take_moves() { return std::exchange(moves_, {}); }

 private:
  Status resolve_positions();
  Status fetch_once(Deadline deadline, std::vector<ConsumedRecord>& out);
  void take_records(const std::string& topic, int32_t partition, ConstBytes data, std::vector<ConsumedRecord>& out);
  void move(const TopicPartition& tp, int64_t to, std::string why);
  void skip_corrupt(const TopicPartition& tp, int64_t& pos, const Result<BatchHeader>& h);

  Cluster& cluster_;
  ConsumerConfig config_;
  // KIP-320: per partition, the leader epoch this consumer last fetched under and the leader
  // epoch of the last batch it consumed. A new leader epoch in the metadata makes it ask the
  // leader where that batch's epoch ends (OffsetForLeaderEpoch) before fetching again: below
  // the position, the log was truncated under it, and it goes back there.
  struct Epochs {
    int32_t fetched_under = -1;
    int32_t last_batch = -1;
    int64_t last_batch_from = -1;  // where this consumer first read a batch of last_batch's epoch
  };
  // False when it could not tell (the leader unreachable, the epoch moved again): the partition
  // waits for the next round while the others are fetched.
  bool validate_position(const TopicPartition& tp, int32_t leader, int32_t epoch);
  std::map<TopicPartition, Epochs> epochs_;
  std::map<TopicPartition, int64_t> positions_;  // -1: unknown, to be reset
  // Where in positions_ the next Fetch starts: a broker fills a response in the request's order
  // up to its max_bytes, so a fixed order starves the last partitions (KIP-74: clients rotate).
  size_t fetch_rotation_ = 0;
  bool dropped_last_ = false;  // planted bug consumer-drop-partition only
  std::vector<PositionMove> moves_;
  bool corrupt_ = false;  // stopped at a corrupt batch in the last fetch
};

}  // namespace samsa::client
