// Kafka's primitive wire types, read and written through one interface so that each message is
// described once (schema/*.def, from which `serde(io, version)` is generated) and that
// description both decodes and encodes.
//
// Every variable-length type comes in the classic form (INT16/INT32 length, -1 for null) and the
// compact form of flexible versions (unsigned varint of length + 1, 0 for null); the generated
// code passes `compact` per field. Flexible versions end every struct with a tagged-field buffer:
// known tags are decoded, unknown ones skipped; only fields that differ from their default are
// written.
//
// Reader bounds every length read off the wire by the bytes that remain before allocating
// (classic and varint lengths alike), and every array by a per-message element budget and an
// allocation budget proportional to the frame; the first error sticks and later reads return
// zeros, so a message is decoded straight through and checked once at the end.
//
// Writer produces a list of parts: byte runs, and file ranges for records that go out with
// send_file (zero copy), so a Fetch response never copies log data through user space. A null
// value in a version where the field is not nullable is written as empty (Kafka would refuse);
// samsa's handlers never rely on that.
//
// Pure code; any fiber.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/frame_server.h"
#include "runtime/runtime.h"
#include "util/endian.h"

namespace samsa::kafka {

// A `RECORDS` field: bytes it owns, a view into the frame it was decoded from (which it keeps
// alive: see Reader's `frame`), or a range of a log file (written with send_file).
struct RecordsField {
  bool null = false;
  std::vector<std::byte> bytes;
  std::shared_ptr<File> file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  std::shared_ptr<const FrameBuffer> frame;  // set: the records are `view`, inside *frame
  ConstBytes view;

  // The records in memory (empty for a file range).
  ConstBytes data() const { return frame ? view : ConstBytes(bytes); }
  uint64_t size() const { return file ? file_length : data().size(); }
  // The records as owned bytes: moved out when owned, copied out of a frame.
  std::vector<std::byte> take_bytes() {
    if (!frame) return std::move(bytes);
    return std::vector<std::byte>(view.begin(), view.end());
  }
  bool operator==(const RecordsField& o) const {
    const ConstBytes a = data(), b = o.data();
    return null == o.null && std::equal(a.begin(), a.end(), b.begin(), b.end()) && file == o.file &&
           file_offset == o.file_offset && file_length == o.file_length;
  }
};

// Kafka's UUID (topic ids, incarnation ids, directory ids): 16 bytes; all zero means "none".
struct Uuid {
  std::array<uint8_t, 16> bytes{};

  bool is_zero() const { return *this == Uuid{}; }
  // Kafka's text form: URL-safe base64 without padding (22 characters).
  std::string to_string() const;
  static std::optional<Uuid> parse(std::string_view text);
  // A version-4 UUID from 128 random bits, never zero and never starting with '-' in text form
  // (Kafka avoids those so that command-line tools can take an id as an argument).
  static Uuid from_random(uint64_t hi, uint64_t lo);
  bool operator==(const Uuid&) const = default;
};

class Reader {
 public:
  static constexpr size_t kArrayElementsMax = 200'000;  // per message, all arrays together
  // Memory a decode may allocate for arrays and strings: a small multiple of the frame, so a
  // frame of lies (huge counts) cannot make the broker allocate more than it received, times 8.
  static constexpr size_t kAllocFactor = 8;
  static constexpr size_t kAllocSlackBytes = 64 * 1024;
  static constexpr int kUvarintBytesMax = 5;  // a uint32 in 7-bit groups

  explicit Reader(ConstBytes data)
      : data_(data), end_(data.size()), alloc_budget_(data.size() * kAllocFactor + kAllocSlackBytes) {}
  // Decodes `data`, a part of *frame: RECORDS fields become views into the frame, sharing it,
  // instead of copies (a produce request's or a follower's fetch answer's records, the bulk of
  // the frame).
  Reader(ConstBytes data, std::shared_ptr<const FrameBuffer> frame) : Reader(data) {
    // A null frame makes this a copying reader, as Reader(data) is.
    SAMSA_ASSERT(frame == nullptr || data.empty() ||
                 (data.data() >= frame->data() && data.data() + data.size() <= frame->data() + frame->size()));
    frame_ = std::move(frame);
  }
  static constexpr bool kDecoding = true;

  bool ok() const { return ok_; }
  size_t remaining() const { return end_ - pos_; }
  size_t position() const { return pos_; }
  void fail() { ok_ = false; }

  void i8(int8_t& v) { v = static_cast<int8_t>(take(1) ? data_[pos_ - 1] : std::byte{0}); }
  void i16(int16_t& v) { v = take(2) ? get_i16_be(&data_[pos_ - 2]) : 0; }
  void i32(int32_t& v) { v = take(4) ? get_i32_be(&data_[pos_ - 4]) : 0; }
  void i64(int64_t& v) { v = take(8) ? get_i64_be(&data_[pos_ - 8]) : 0; }
  void u16(uint16_t& v) { v = take(2) ? get_u16_be(&data_[pos_ - 2]) : 0; }
  void u32(uint32_t& v) { v = take(4) ? get_u32_be(&data_[pos_ - 4]) : 0; }
  void f64(double& v);
  void boolean(bool& v) {
    int8_t b = 0;
    i8(b);
    v = b != 0;
  }
  void uuid(Uuid& u);
  void uvarint(uint32_t& v);

  void string(std::string& s, bool compact);
  void nstring(std::optional<std::string>& s, bool compact, bool nullable);
  void bytes(std::vector<std::byte>& b, bool compact = false);
  void nbytes(std::optional<std::vector<std::byte>>& b, bool compact = false, bool nullable = true);
  void records(RecordsField& r, bool compact);
  // Classic shorthands, for samsa's own on-disk encodings.
  void str(std::string& s) { string(s, false); }
  void nstr(std::optional<std::string>& s) { nstring(s, false, true); }

  template <typename T, typename F>
  void array(std::vector<T>& v, bool compact, F&& each) {
    v.clear();
    const int64_t n = length(compact, 4);
    if (n < 0) {
      fail();
      return;
    }
    read_elements(v, n, each);
  }
  template <typename T, typename F>
  void narray(std::optional<std::vector<T>>& v, bool compact, bool nullable, F&& each) {
    const int64_t n = length(compact, 4);
    v.reset();
    if (n == kNull && nullable) return;
    if (n < 0) {
      fail();
      return;
    }
    read_elements(v.emplace(), n, each);
  }

  // The tagged-field buffer that ends a struct in flexible versions. `fields(dispatch)` calls
  // dispatch.field(tag, is_default, read) for each field the schema knows; the one whose tag was
  // read decodes from exactly its tag's bytes. Unknown tags are skipped; tags must ascend.
  template <typename F>
  void tagged_fields(F&& fields) {
    uint32_t n = 0;
    uvarint(n);
    if (n > remaining()) fail();
    int64_t last = -1;
    for (uint32_t i = 0; i < n && ok_; ++i) {
      uint32_t tag = 0, size = 0;
      uvarint(tag);
      uvarint(size);
      if (!ok_ || static_cast<int64_t>(tag) <= last || size > remaining()) {
        fail();
        return;
      }
      last = tag;
      const size_t field_end = pos_ + size, outer_end = end_;
      end_ = field_end;
      TagDispatch dispatch{*this, tag};
      fields(dispatch);
      if (!dispatch.matched) pos_ = field_end;
      if (pos_ != field_end) fail();  // a known field must fill its tag exactly
      end_ = outer_end;
    }
  }

 private:
  static constexpr int64_t kNull = -1;
  struct TagDispatch {
    Reader& io;
    uint32_t tag;
    bool matched = false;
    template <typename F>
    void field(uint32_t t, bool /*is_default*/, F&& read) {
      if (t != tag) return;
      matched = true;
      read(io);
    }
  };

  bool take(size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  // A length prefix: classic (`width` bytes, -1 null) or compact (uvarint n+1, 0 null). Returns
  // kNull, a length >= 0, or -2 on a malformed prefix (and fails).
  int64_t length(bool compact, int width);
  // Each element takes at least one byte, so a count above what remains is a lie; and the
  // elements' memory must fit the allocation budget.
  bool admit(int64_t n, size_t element_bytes) {
    if (n < 0 || static_cast<uint64_t>(n) > remaining() || elements_ + static_cast<size_t>(n) > kArrayElementsMax ||
        !charge(static_cast<size_t>(n) * element_bytes)) {
      ok_ = false;
      return false;
    }
    elements_ += static_cast<size_t>(n);
    return true;
  }
  bool charge(size_t bytes) {
    if (bytes > alloc_budget_) return false;
    alloc_budget_ -= bytes;
    return true;
  }
  // Takes `n` bytes for a string or byte field, bounded by what remains and the budget.
  const std::byte* take_run(int64_t n) {
    if (n < 0 || static_cast<uint64_t>(n) > remaining() || !charge(static_cast<size_t>(n)) || !take(static_cast<size_t>(n))) {
      ok_ = false;
      return nullptr;
    }
    return data_.data() + pos_ - static_cast<size_t>(n);
  }
  template <typename T, typename F>
  void read_elements(std::vector<T>& v, int64_t n, F&& each) {
    if (!admit(n, sizeof(T))) return;
    v.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n && ok_; ++i) each(v.emplace_back());
  }

  ConstBytes data_;
  std::shared_ptr<const FrameBuffer> frame_;  // set: data_ lies in it, and records are views
  size_t pos_ = 0;
  size_t end_;  // the end of the current tagged field, or of the data
  size_t elements_ = 0;
  size_t alloc_budget_;
  bool ok_ = true;
};

class Writer {
 public:
  static constexpr bool kDecoding = false;

  void i8(int8_t v) { buf_.push_back(static_cast<std::byte>(v)); }
  void i16(int16_t v) { put(static_cast<uint16_t>(v), 2); }
  void i32(int32_t v) { put(static_cast<uint32_t>(v), 4); }
  void i64(int64_t v) { put(static_cast<uint64_t>(v), 8); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void f64(double v);
  void boolean(bool v) { i8(v ? 1 : 0); }
  void uuid(const Uuid& u);
  void uvarint(uint32_t v);

  void string(const std::string& s, bool compact);
  void nstring(const std::optional<std::string>& s, bool compact, bool nullable);
  void bytes(const std::vector<std::byte>& b, bool compact = false);
  void nbytes(const std::optional<std::vector<std::byte>>& b, bool compact = false, bool nullable = true);
  void records(const RecordsField& r, bool compact);
  void str(const std::string& s) { string(s, false); }
  void nstr(const std::optional<std::string>& s) { nstring(s, false, true); }

  template <typename T, typename F>
  void array(const std::vector<T>& v, bool compact, F&& each) {
    length(static_cast<int64_t>(v.size()), compact, 4);
    for (const T& e : v) each(const_cast<T&>(e));
  }
  template <typename T, typename F>
  void narray(const std::optional<std::vector<T>>& v, bool compact, bool nullable, F&& each) {
    if (!v) {
      if (nullable) length(-1, compact, 4); else length(0, compact, 4);
      return;
    }
    array(*v, compact, each);
  }

  // Writes the fields that differ from their default, in tag order (see Reader::tagged_fields).
  template <typename F>
  void tagged_fields(F&& fields) {
    TagCollector c;
    fields(c);
    uvarint(static_cast<uint32_t>(c.tags.size()));
    for (auto& [tag, data] : c.tags) {
      uvarint(tag);
      uvarint(static_cast<uint32_t>(data.size()));
      buf_.insert(buf_.end(), data.begin(), data.end());
    }
  }

  // Bytes written so far, including file ranges.
  uint64_t size() const;
  // The message as response parts (byte runs and file ranges).
  std::vector<ResponsePart> take_parts();
  // The message as one byte vector (requests; asserts there are no file ranges).
  std::vector<std::byte> take_bytes();

 private:
  struct TagCollector {
    std::vector<std::pair<uint32_t, std::vector<std::byte>>> tags;
    template <typename F>
    void field(uint32_t tag, bool is_default, F&& write) {
      if (is_default) return;
      SAMSA_ASSERT_MSG(tags.empty() || tags.back().first < tag, "tagged fields out of order");
      Writer w;
      write(w);
      tags.emplace_back(tag, w.take_bytes());
    }
  };
  void put(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) buf_.push_back(static_cast<std::byte>(v >> (8 * i)));
  }
  // Classic: `width` bytes (-1 null); compact: uvarint of n+1 (0 null).
  void length(int64_t n, bool compact, int width);

  std::vector<std::byte> buf_;
  std::vector<ResponsePart> parts_;
  uint64_t flushed_bytes_ = 0;
};

}  // namespace samsa::kafka
