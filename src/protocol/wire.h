// Kafka's primitive wire types, read and written through one interface so that each message is
// described once (messages.h: `serde(io, version)`) and that description both decodes and
// encodes. Only non-flexible versions are used by samsa, so there are no compact or tagged
// types here.
//
// Reader bounds every length read off the wire by the bytes that remain before allocating, and
// every array by a per-message element budget; the first error sticks and later reads return
// zeros, so a message is decoded straight through and checked once at the end.
//
// Writer produces a list of parts: byte runs, and file ranges for records that go out with
// send_file (zero copy), so a Fetch response never copies log data through user space.
//
// Pure code; any fiber.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/frame_server.h"
#include "runtime/runtime.h"
#include "util/endian.h"

namespace samsa::kafka {

// A `RECORDS`/`BYTES` field that is either bytes in memory or a range of a log file.
struct RecordsField {
  bool null = false;
  std::vector<std::byte> bytes;
  std::shared_ptr<File> file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;

  uint64_t size() const { return file ? file_length : bytes.size(); }
};

class Reader {
 public:
  static constexpr size_t kArrayElementsMax = 200'000;  // per message, all arrays together
  // Memory a decode may allocate for arrays and strings: a small multiple of the frame, so a
  // frame of lies (huge counts) cannot make the broker allocate more than it received, times 8.
  static constexpr size_t kAllocFactor = 8;
  static constexpr size_t kAllocSlackBytes = 64 * 1024;

  explicit Reader(ConstBytes data) : data_(data), alloc_budget_(data.size() * kAllocFactor + kAllocSlackBytes) {}
  static constexpr bool kDecoding = true;

  bool ok() const { return ok_; }
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  void fail() { ok_ = false; }

  void i8(int8_t& v) { v = static_cast<int8_t>(take(1) ? data_[pos_ - 1] : std::byte{0}); }
  void i16(int16_t& v) { v = take(2) ? get_i16_be(&data_[pos_ - 2]) : 0; }
  void i32(int32_t& v) { v = take(4) ? get_i32_be(&data_[pos_ - 4]) : 0; }
  void i64(int64_t& v) { v = take(8) ? get_i64_be(&data_[pos_ - 8]) : 0; }
  void boolean(bool& v) {
    int8_t b = 0;
    i8(b);
    v = b != 0;
  }
  void str(std::string& s);
  void nstr(std::optional<std::string>& s);
  void bytes(std::vector<std::byte>& b);
  void nbytes(std::optional<std::vector<std::byte>>& b);
  void records(RecordsField& r);

  template <typename T, typename F>
  void array(std::vector<T>& v, F&& each) {
    int32_t n = 0;
    i32(n);
    read_elements(v, n, each);
  }
  template <typename T, typename F>
  void narray(std::optional<std::vector<T>>& v, F&& each) {
    int32_t n = 0;
    i32(n);
    if (n < 0) {
      if (n != -1) fail();
      v.reset();
      return;
    }
    v.emplace();
    read_elements(*v, n, each);
  }

 private:
  bool take(size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  // Each element takes at least one byte, so a count above what remains is a lie; and the
  // elements' memory must fit the allocation budget.
  bool admit(int32_t n, size_t element_bytes) {
    if (n < 0 || static_cast<size_t>(n) > remaining() || elements_ + static_cast<size_t>(n) > kArrayElementsMax ||
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
  template <typename T, typename F>
  void read_elements(std::vector<T>& v, int32_t n, F&& each) {
    v.clear();
    if (!admit(n, sizeof(T))) return;
    v.reserve(static_cast<size_t>(n));
    for (int32_t i = 0; i < n && ok_; ++i) each(v.emplace_back());
  }

  ConstBytes data_;
  size_t pos_ = 0;
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
  void boolean(bool v) { i8(v ? 1 : 0); }
  void str(const std::string& s);
  void nstr(const std::optional<std::string>& s);
  void bytes(const std::vector<std::byte>& b);
  void nbytes(const std::optional<std::vector<std::byte>>& b);
  void records(const RecordsField& r);

  template <typename T, typename F>
  void array(const std::vector<T>& v, F&& each) {
    i32(static_cast<int32_t>(v.size()));
    for (const T& e : v) each(const_cast<T&>(e));
  }
  template <typename T, typename F>
  void narray(const std::optional<std::vector<T>>& v, F&& each) {
    if (!v) {
      i32(-1);
      return;
    }
    array(*v, each);
  }

  // Bytes written so far, including file ranges.
  uint64_t size() const;
  // The message as response parts (byte runs and file ranges).
  std::vector<ResponsePart> take_parts();
  // The message as one byte vector (requests; asserts there are no file ranges).
  std::vector<std::byte> take_bytes();

 private:
  void put(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) buf_.push_back(static_cast<std::byte>(v >> (8 * i)));
  }

  std::vector<std::byte> buf_;
  std::vector<ResponsePart> parts_;
  uint64_t flushed_bytes_ = 0;
};

}  // namespace samsa::kafka
