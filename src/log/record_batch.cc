#include "log/record_batch.h"

#include <algorithm>

#include "log/varint.h"
#include "util/crc32c.h"
#include "util/endian.h"

namespace samsa {

namespace f = batch_field;

ConstBytes as_bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

Result<BatchHeader> parse_batch_header(ConstBytes d) {
  if (d.size() < kBatchHeaderBytes) return Errc::corrupt;
  BatchHeader h;
  h.base_offset = get_i64_be(&d[f::base_offset]);
  h.length = get_i32_be(&d[f::length]);
  h.leader_epoch = get_i32_be(&d[f::leader_epoch]);
  h.magic = static_cast<int8_t>(d[f::magic]);
  h.crc = get_u32_be(&d[f::crc]);
  h.attributes = get_i16_be(&d[f::attributes]);
  h.last_offset_delta = get_i32_be(&d[f::last_offset_delta]);
  h.base_timestamp = get_i64_be(&d[f::base_timestamp]);
  h.max_timestamp = get_i64_be(&d[f::max_timestamp]);
  h.producer_id = get_i64_be(&d[f::producer_id]);
  h.producer_epoch = get_i16_be(&d[f::producer_epoch]);
  h.base_sequence = get_i32_be(&d[f::base_sequence]);
  h.records_count = get_i32_be(&d[f::records_count]);
  if (h.magic != kMagicV2) return Errc::corrupt;
  if (h.length < static_cast<int32_t>(kBatchHeaderBytes - kBatchLengthPrefixBytes)) return Errc::corrupt;
  return h;
}

uint32_t compute_batch_crc(ConstBytes batch) {
  SAMSA_ASSERT(batch.size() >= kBatchHeaderBytes);
  return crc32c(batch.subspan(f::attributes));
}

void stamp_batch(Bytes batch, int64_t base_offset, int32_t leader_epoch) {
  SAMSA_ASSERT(batch.size() >= kBatchHeaderBytes);
  put_u64_be(&batch[f::base_offset], static_cast<uint64_t>(base_offset));
  put_u32_be(&batch[f::leader_epoch], static_cast<uint32_t>(leader_epoch));
}

Status validate_batch(ConstBytes batch) {
  BatchHeader h;
  SAMSA_TRY_ASSIGN(h, parse_batch_header(batch));
  if (h.total_bytes() != batch.size()) return Errc::corrupt;
  if (compute_batch_crc(batch) != h.crc) return Errc::corrupt;
  if (static_cast<uint8_t>(h.compression()) > static_cast<uint8_t>(Compression::zstd)) return Errc::corrupt;
  if (h.records_count < 0 || h.last_offset_delta < 0) return Errc::corrupt;
  if (h.records_count == 0 && !h.is_control()) return Errc::corrupt;  // an empty batch carries nothing
  if (h.records_count > 0 && h.last_offset_delta != h.records_count - 1) return Errc::corrupt;
  if (h.compression() != Compression::none) return Status{};  // inner records checked by clients
  return check_record_list(batch.subspan(kBatchHeaderBytes), h.records_count, h.base_offset, h.base_timestamp);
}

Result<std::vector<ConstBytes>> split_batches(ConstBytes data, uint64_t batch_bytes_max) {
  std::vector<ConstBytes> out;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kBatchHeaderBytes) return Errc::corrupt;
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, parse_batch_header(data.subspan(pos)));
    if (h.total_bytes() > batch_bytes_max) return Errc::too_large;
    if (h.total_bytes() > data.size() - pos) return Errc::corrupt;
    out.push_back(data.subspan(pos, h.total_bytes()));
    pos += h.total_bytes();
  }
  return out;
}

namespace {

Result<std::optional<ConstBytes>> get_nullable_view(ConstBytes in, size_t& pos) {
  int64_t len = 0;
  SAMSA_TRY_ASSIGN(len, get_varint(in, pos, 5));
  if (len < 0) return std::optional<ConstBytes>{};
  if (static_cast<uint64_t>(len) > in.size() - pos) return Errc::corrupt;
  const ConstBytes v = in.subspan(pos, static_cast<size_t>(len));
  pos += static_cast<size_t>(len);
  return std::optional<ConstBytes>(v);
}

std::optional<std::vector<std::byte>> owned(const std::optional<ConstBytes>& v) {
  if (!v) return std::nullopt;
  return std::vector<std::byte>(v->begin(), v->end());
}

// One record's fields as views into the batch; its headers go to on_header(key, value) as they
// are met. Allocates nothing, so validating a batch costs a walk, not a copy of its records.
struct RecordView {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<ConstBytes> key, value;
};

template <typename OnHeader>
Result<RecordView> parse_one(ConstBytes in, size_t& pos, int64_t base_offset, int64_t base_timestamp, OnHeader&& on_header) {
  int64_t length = 0;
  SAMSA_TRY_ASSIGN(length, get_varint(in, pos, 5));
  if (length < 0 || static_cast<uint64_t>(length) > in.size() - pos) return Errc::corrupt;
  const size_t end = pos + static_cast<size_t>(length);
  ConstBytes rec = in.first(end);
  RecordView r;
  if (pos >= end) return Errc::corrupt;
  ++pos;  // record attributes (unused in v2)
  int64_t ts_delta = 0, offset_delta = 0, header_count = 0;
  SAMSA_TRY_ASSIGN(ts_delta, get_varint(rec, pos));
  SAMSA_TRY_ASSIGN(offset_delta, get_varint(rec, pos, 5));
  r.timestamp = base_timestamp + ts_delta;
  r.offset = base_offset + offset_delta;
  SAMSA_TRY_ASSIGN(r.key, get_nullable_view(rec, pos));
  SAMSA_TRY_ASSIGN(r.value, get_nullable_view(rec, pos));
  SAMSA_TRY_ASSIGN(header_count, get_varint(rec, pos, 5));
  if (header_count < 0 || static_cast<uint64_t>(header_count) > end - pos) return Errc::corrupt;
  for (int64_t i = 0; i < header_count; ++i) {
    std::optional<ConstBytes> key, value;
    SAMSA_TRY_ASSIGN(key, get_nullable_view(rec, pos));
    if (!key) return Errc::corrupt;  // header keys are non-null strings
    SAMSA_TRY_ASSIGN(value, get_nullable_view(rec, pos));
    on_header(*key, value);
  }
  if (pos != end) return Errc::corrupt;  // the record's Length must match its fields
  return r;
}

// Walks `count` records: on_record(in, pos, i) parses the i-th at pos and moves pos past it.
// The list must end exactly at the end of `in`.
template <typename OnRecord>
Status walk_record_list(ConstBytes in, int32_t count, OnRecord&& on_record) {
  if (count < 0) return Errc::corrupt;
  constexpr size_t kRecordBytesMin = 7;  // length, attributes, 2 deltas, 2 lengths, header count
  if (static_cast<uint64_t>(count) > in.size() / kRecordBytesMin + 1) return Errc::corrupt;  // bound before reserve
  size_t pos = 0;
  for (int32_t i = 0; i < count; ++i) SAMSA_TRY(on_record(in, pos, i));
  if (pos != in.size()) return Errc::corrupt;
  return Status{};
}

}  // namespace

Status check_record_list(ConstBytes in, int32_t count, int64_t base_offset, int64_t base_timestamp) {
  return walk_record_list(in, count, [&](ConstBytes list, size_t& pos, int32_t i) -> Status {
    RecordView r;
    SAMSA_TRY_ASSIGN(r, parse_one(list, pos, base_offset, base_timestamp, [](ConstBytes, const std::optional<ConstBytes>&) {}));
    if (r.offset != base_offset + i) return Errc::corrupt;
    return Status{};
  });
}

Result<std::vector<Record>> decode_record_list(ConstBytes in, int32_t count, int64_t base_offset, int64_t base_timestamp) {
  std::vector<Record> out;
  if (count >= 0 && static_cast<uint64_t>(count) <= in.size()) out.reserve(static_cast<size_t>(count));
  SAMSA_TRY(walk_record_list(in, count, [&](ConstBytes list, size_t& pos, int32_t) -> Status {
    Record r;
    RecordView v;
    SAMSA_TRY_ASSIGN(v, parse_one(list, pos, base_offset, base_timestamp, [&](ConstBytes key, const std::optional<ConstBytes>& value) {
      r.headers.push_back(RecordHeader{std::string(reinterpret_cast<const char*>(key.data()), key.size()), owned(value)});
    }));
    r.offset = v.offset;
    r.timestamp = v.timestamp;
    r.key = owned(v.key);
    r.value = owned(v.value);
    out.push_back(std::move(r));
    return Status{};
  }));
  return out;
}

Result<std::vector<Record>> decode_records(ConstBytes batch) {
  BatchHeader h;
  SAMSA_TRY_ASSIGN(h, parse_batch_header(batch));
  if (h.total_bytes() != batch.size()) return Errc::corrupt;
  if (h.compression() != Compression::none) return Errc::invalid_argument;
  return decode_record_list(batch.subspan(kBatchHeaderBytes), h.records_count, h.base_offset, h.base_timestamp);
}

namespace {
void put_nullable(std::vector<std::byte>& out, const std::optional<ConstBytes>& v) {
  if (!v) {
    put_varint64(out, -1);
    return;
  }
  put_varint64(out, static_cast<int64_t>(v->size()));
  out.insert(out.end(), v->begin(), v->end());
}
}  // namespace

void BatchBuilder::add(int64_t timestamp, std::optional<ConstBytes> key, std::optional<ConstBytes> value,
                       const std::vector<RecordHeader>& headers) {
  SAMSA_ASSERT(static_cast<size_t>(count_) < kRecordsMax);
  std::vector<std::byte> body;
  body.push_back(std::byte{0});  // attributes
  put_varint64(body, timestamp - base_timestamp_);
  put_varint64(body, count_);
  put_nullable(body, key);
  put_nullable(body, value);
  put_varint64(body, static_cast<int64_t>(headers.size()));
  for (const RecordHeader& h : headers) {
    put_nullable(body, as_bytes(h.key));
    put_nullable(body, h.value ? std::optional<ConstBytes>(ConstBytes(*h.value)) : std::nullopt);
  }
  put_varint64(records_, static_cast<int64_t>(body.size()));
  records_.insert(records_.end(), body.begin(), body.end());
  max_timestamp_ = std::max(max_timestamp_, timestamp);
  ++count_;
}

std::vector<std::byte> BatchBuilder::build() const {
  SAMSA_ASSERT(count_ > 0);
  std::vector<std::byte> b(kBatchHeaderBytes + records_.size());
  put_u64_be(&b[f::base_offset], 0);
  put_u32_be(&b[f::length], static_cast<uint32_t>(b.size() - kBatchLengthPrefixBytes));
  put_u32_be(&b[f::leader_epoch], static_cast<uint32_t>(kNoLeaderEpoch));
  b[f::magic] = std::byte{kMagicV2};
  put_u16_be(&b[f::attributes], 0);
  put_u32_be(&b[f::last_offset_delta], static_cast<uint32_t>(count_ - 1));
  put_u64_be(&b[f::base_timestamp], static_cast<uint64_t>(base_timestamp_));
  put_u64_be(&b[f::max_timestamp], static_cast<uint64_t>(max_timestamp_));
  put_u64_be(&b[f::producer_id], static_cast<uint64_t>(-1));
  put_u16_be(&b[f::producer_epoch], static_cast<uint16_t>(-1));
  put_u32_be(&b[f::base_sequence], static_cast<uint32_t>(-1));
  put_u32_be(&b[f::records_count], static_cast<uint32_t>(count_));
  std::copy(records_.begin(), records_.end(), b.begin() + kBatchHeaderBytes);
  put_u32_be(&b[f::crc], compute_batch_crc(b));
  return b;
}

}  // namespace samsa
