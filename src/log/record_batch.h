// Kafka RecordBatch v2 (magic 2): parse, validate, build, and stamp offsets in place.
// Written from the published protocol guide's layout (see shared/reference/kafka-clients.md):
//
//   BaseOffset i64 | Length i32 | PartitionLeaderEpoch i32 | Magic i8 | CRC u32 |
//   Attributes i16 | LastOffsetDelta i32 | BaseTimestamp i64 | MaxTimestamp i64 |
//   ProducerId i64 | ProducerEpoch i16 | BaseSequence i32 | RecordsCount i32 | Records...
//
// The CRC-32C covers Attributes to the end, so a broker assigns offsets and stamps the leader
// epoch without recomputing it. Compressed batches are stored as they came.
//
// Pure functions on byte spans; any thread. Every length is bounded before it is trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace samsa {

inline constexpr size_t kBatchHeaderBytes = 61;
inline constexpr size_t kBatchLengthPrefixBytes = 12;  // BaseOffset + Length: outside Length
inline constexpr int8_t kMagicV2 = 2;
inline constexpr int32_t kNoLeaderEpoch = -1;

namespace batch_field {
inline constexpr size_t base_offset = 0, length = 8, leader_epoch = 12, magic = 16, crc = 17, attributes = 21,
                        last_offset_delta = 23, base_timestamp = 27, max_timestamp = 35, producer_id = 43,
                        producer_epoch = 51, base_sequence = 53, records_count = 57;
}

enum class Compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t length = 0;
  int32_t leader_epoch = kNoLeaderEpoch;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;

  uint64_t total_bytes() const { return kBatchLengthPrefixBytes + static_cast<uint64_t>(length); }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  int64_t next_offset() const { return last_offset() + 1; }
  Compression compression() const { return static_cast<Compression>(attributes & 0x7); }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
};

// Parses the fixed 61-byte header. Checks magic and that Length is at least a header's worth;
// not the CRC (validate_batch does that).
Result<BatchHeader> parse_batch_header(ConstBytes data);

// Full validation of one batch whose span is exactly the batch: size agrees with Length, magic 2,
// CRC-32C, a known codec, a record count that agrees with LastOffsetDelta, and for uncompressed
// batches records that decode and whose offset deltas run 0..count-1.
Status validate_batch(ConstBytes batch);

uint32_t compute_batch_crc(ConstBytes batch);

// Writes BaseOffset and PartitionLeaderEpoch in place; the CRC stays valid.
void stamp_batch(Bytes batch, int64_t base_offset, int32_t leader_epoch);

// Splits a record set (one or more whole batches back to back) into batches. Errc::corrupt for
// a truncated or malformed batch, Errc::too_large for one above batch_bytes_max.
Result<std::vector<ConstBytes>> split_batches(ConstBytes data, uint64_t batch_bytes_max);

struct RecordHeader {
  std::string key;
  std::optional<std::vector<std::byte>> value;
  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

struct Record {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::vector<std::byte>> key;
  std::optional<std::vector<std::byte>> value;
  std::vector<RecordHeader> headers;
};

// Decodes the records of an uncompressed batch (Errc::invalid_argument for a compressed one:
// decompression belongs to the client library).
Result<std::vector<Record>> decode_records(ConstBytes batch);
// Decodes a record list (the uncompressed bytes after RecordsCount).
Result<std::vector<Record>> decode_record_list(ConstBytes records, int32_t count, int64_t base_offset, int64_t base_timestamp);
// Checks what decode_record_list would (every record's framing, offsets in order from
// base_offset) without copying a key, value or header out: ok exactly when it would decode.
Status check_record_list(ConstBytes records, int32_t count, int64_t base_offset, int64_t base_timestamp);

// Builds an uncompressed batch the way a non-idempotent producer does (ProducerId/Epoch/
// BaseSequence -1, leader epoch -1, base offset 0).
class BatchBuilder {
 public:
  static constexpr size_t kRecordsMax = 1'000'000;

  explicit BatchBuilder(int64_t base_timestamp) : base_timestamp_(base_timestamp), max_timestamp_(base_timestamp) {}
  void add(int64_t timestamp, std::optional<ConstBytes> key, std::optional<ConstBytes> value,
           const std::vector<RecordHeader>& headers = {});
  size_t count() const { return count_; }
  std::vector<std::byte> build() const;

 private:
  int64_t base_timestamp_;
  int64_t max_timestamp_;
  int32_t count_ = 0;
  std::vector<std::byte> records_;
};

ConstBytes as_bytes(std::string_view s);

}  // namespace samsa
