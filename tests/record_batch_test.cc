// RecordBatch v2 codec and CRC-32C.
#include <gtest/gtest.h>

#include <cstring>

#include "log/record_batch.h"
#include "runtime/random.h"
#include "util/crc32c.h"
#include "util/endian.h"

namespace samsa {
namespace {

// Bit-at-a-time CRC-32C straight from the polynomial: an independent reference.
uint32_t crc32c_reference(ConstBytes data) {
  uint32_t c = 0xFFFFFFFFu;
  for (std::byte b : data) {
    c ^= std::to_integer<uint32_t>(b);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

TEST(Crc32c, CheckValueAndImplementationsAgree) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);  // the catalogued check value
  EXPECT_EQ(crc32c_portable(0, as_bytes("123456789")), 0xE3069283u);
  Prng prng(1);
  std::vector<std::byte> data(5000);
  for (auto& b : data) b = std::byte(prng.next_u64());
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 1000u, 4999u}) {
    ConstBytes part(data.data() + 1, len - (len == 4999 ? 1 : 0));  // odd alignment too
    const uint32_t want = crc32c_reference(part);
    EXPECT_EQ(crc32c_portable(0, part), want) << len;
    if (crc32c_hardware_available()) {
      EXPECT_EQ(crc32c_hardware(0, part), want) << len;
    }
    // Extending in two pieces equals one pass.
    EXPECT_EQ(crc32c_extend(crc32c_extend(0, part.first(len / 2)), part.subspan(len / 2)), want);
  }
}

void put_varint(std::vector<std::byte>& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  do {
    uint8_t b = z & 0x7F;
    z >>= 7;
    out.push_back(std::byte(b | (z ? 0x80 : 0)));
  } while (z);
}

// The batch a console producer sends for one record key "k", value "Hello Kafka!", header
// ("h", "v"), assembled field by field from the protocol guide's layout.
std::vector<std::byte> hand_assembled_batch(int64_t ts) {
  std::vector<std::byte> rec;
  rec.push_back(std::byte{0});  // attributes
  put_varint(rec, 0);           // timestamp delta
  put_varint(rec, 0);           // offset delta
  put_varint(rec, 1);
  rec.push_back(std::byte{'k'});
  const std::string value = "Hello Kafka!";
  put_varint(rec, static_cast<int64_t>(value.size()));
  for (char c : value) rec.push_back(std::byte(c));
  put_varint(rec, 1);  // one header
  put_varint(rec, 1);
  rec.push_back(std::byte{'h'});
  put_varint(rec, 1);
  rec.push_back(std::byte{'v'});
  std::vector<std::byte> records;
  put_varint(records, static_cast<int64_t>(rec.size()));
  records.insert(records.end(), rec.begin(), rec.end());

  std::vector<std::byte> b(61 + records.size());
  put_u64_be(&b[0], 0);                                     // BaseOffset
  put_u32_be(&b[8], static_cast<uint32_t>(b.size() - 12));  // Length
  put_u32_be(&b[12], 0xFFFFFFFFu);                          // PartitionLeaderEpoch -1
  b[16] = std::byte{2};                                     // Magic
  put_u16_be(&b[21], 0);                                    // Attributes
  put_u32_be(&b[23], 0);                                    // LastOffsetDelta
  put_u64_be(&b[27], static_cast<uint64_t>(ts));            // BaseTimestamp
  put_u64_be(&b[35], static_cast<uint64_t>(ts));            // MaxTimestamp
  put_u64_be(&b[43], ~0ULL);                                // ProducerId -1
  put_u16_be(&b[51], 0xFFFF);                               // ProducerEpoch -1
  put_u32_be(&b[53], 0xFFFFFFFFu);                          // BaseSequence -1
  put_u32_be(&b[57], 1);                                    // RecordsCount
  std::copy(records.begin(), records.end(), b.begin() + 61);
  put_u32_be(&b[17], crc32c_reference(ConstBytes(b).subspan(21)));  // CRC over Attributes..end
  return b;
}

TEST(RecordBatch, HandAssembledBatchValidatesDecodesAndMatchesTheBuilder) {
  const int64_t ts = 1'767'225'600'123;
  std::vector<std::byte> b = hand_assembled_batch(ts);
  ASSERT_TRUE(validate_batch(b).ok());
  auto h = parse_batch_header(b);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->records_count, 1);
  EXPECT_EQ(h->producer_id, -1);
  EXPECT_EQ(h->total_bytes(), b.size());
  auto records = decode_records(b);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const Record& r = (*records)[0];
  EXPECT_EQ(r.timestamp, ts);
  EXPECT_EQ(r.offset, 0);
  ASSERT_TRUE(r.key && r.value);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size()), "Hello Kafka!");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].key, "h");

  BatchBuilder builder(ts);
  const std::vector<std::byte> v{std::byte{'v'}};
  builder.add(ts, as_bytes("k"), as_bytes("Hello Kafka!"), {RecordHeader{"h", v}});
  EXPECT_EQ(builder.build(), b) << "the builder must produce exactly the published layout";
}

TEST(RecordBatch, StampingOffsetAndEpochKeepsTheCrcValid) {
  BatchBuilder builder(1000);
  for (int i = 0; i < 10; ++i) builder.add(1000 + i, std::nullopt, as_bytes("v" + std::to_string(i)));
  std::vector<std::byte> b = builder.build();
  stamp_batch(b, 123'456, 7);
  ASSERT_TRUE(validate_batch(b).ok());
  auto h = parse_batch_header(b);
  EXPECT_EQ(h->base_offset, 123'456);
  EXPECT_EQ(h->leader_epoch, 7);
  EXPECT_EQ(h->last_offset(), 123'465);
  EXPECT_EQ(h->max_timestamp, 1009);
  auto records = decode_records(b);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->back().offset, 123'465);
  EXPECT_FALSE(records->front().key.has_value());
}

TEST(RecordBatch, ValidationRejectsDamage) {
  const std::vector<std::byte> good = hand_assembled_batch(5);
  // Every single-bit flip inside the CRC's coverage (and in magic and CRC) is caught.
  for (size_t i = 16; i < good.size(); ++i) {
    std::vector<std::byte> bad = good;
    bad[i] ^= std::byte{0x10};
    EXPECT_FALSE(validate_batch(bad).ok()) << "flip at byte " << i;
  }
  // BaseOffset and leader epoch are outside the CRC by design.
  std::vector<std::byte> restamped = good;
  restamped[3] ^= std::byte{1};
  EXPECT_TRUE(validate_batch(restamped).ok());

  auto with = [&](size_t at, uint32_t v, bool recrc) {
    std::vector<std::byte> b = good;
    put_u32_be(&b[at], v);
    if (recrc) put_u32_be(&b[17], compute_batch_crc(b));
    return b;
  };
  EXPECT_FALSE(validate_batch(with(8, 1'000'000, false)).ok());  // Length beyond the data
  EXPECT_FALSE(validate_batch(with(8, 10, false)).ok());         // Length below a header
  EXPECT_FALSE(validate_batch(with(23, 5, true)).ok());          // LastOffsetDelta disagrees with count
  EXPECT_FALSE(validate_batch(with(57, 3, true)).ok());          // count disagrees with records
  EXPECT_FALSE(validate_batch(ConstBytes(good).first(60)).ok());
  EXPECT_FALSE(validate_batch(ConstBytes(good).first(good.size() - 1)).ok());
}

TEST(RecordBatch, SplitBatchesBoundsEveryLength) {
  std::vector<std::byte> set;
  for (int i = 0; i < 3; ++i) {
    auto b = hand_assembled_batch(i);
    set.insert(set.end(), b.begin(), b.end());
  }
  auto parts = split_batches(set, 1 << 20);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->size(), 3u);
  EXPECT_EQ(split_batches(ConstBytes(set).first(set.size() - 3), 1 << 20).error(), Errc::corrupt);
  EXPECT_EQ(split_batches(set, 50).error(), Errc::too_large);
  EXPECT_TRUE(split_batches({}, 100)->empty());
}

TEST(RecordBatch, RandomMutationsNeverCrashTheDecoder) {
  Prng prng(99);
  const std::vector<std::byte> good = hand_assembled_batch(77);
  int accepted = 0, walked = 0, walked_ok = 0;
  for (int round = 0; round < 20'000; ++round) {
    std::vector<std::byte> b = good;
    const int flips = 1 + static_cast<int>(prng.next_u64() % 4);
    for (int k = 0; k < flips; ++k) b[prng.next_u64() % b.size()] = std::byte(prng.next_u64());
    if (prng.next_u64() % 4 == 0) b.resize(prng.next_u64() % b.size());
    if (b.size() >= kBatchHeaderBytes) put_u32_be(&b[17], compute_batch_crc(b));  // get past the CRC
    accepted += validate_batch(b).ok() ? 1 : 0;
    (void)decode_records(b);
    (void)split_batches(b, 1 << 20);
    // Validation walks the records without copying them: it accepts exactly what decoding
    // accepts with every offset in place.
    const Result<BatchHeader> h = parse_batch_header(b);
    if (!h.ok() || h->total_bytes() != b.size()) continue;
    const ConstBytes list = ConstBytes(b).subspan(kBatchHeaderBytes);
    const Result<std::vector<Record>> decoded = decode_record_list(list, h->records_count, h->base_offset, h->base_timestamp);
    bool in_place = decoded.ok();
    for (size_t i = 0; in_place && i < decoded->size(); ++i) {
      in_place = (*decoded)[i].offset == h->base_offset + static_cast<int64_t>(i);
    }
    EXPECT_EQ(check_record_list(list, h->records_count, h->base_offset, h->base_timestamp).ok(), in_place) << "round " << round;
    walked += 1;
    walked_ok += in_place ? 1 : 0;
  }
  EXPECT_LT(accepted, 20'000);
  EXPECT_GT(walked_ok, 100) << "the comparison saw valid record lists";
  EXPECT_GT(walked - walked_ok, 100) << "the comparison saw invalid record lists";
}

}  // namespace
}  // namespace samsa
