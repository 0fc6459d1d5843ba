#include "protocol/wire.h"

#include <cstring>

namespace samsa::kafka {

namespace {
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// By ranges, not a search of the alphabet: replica fetchers parse topic ids on every fetch.
int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  if (c >= '0' && c <= '9') return 52 + (c - '0');
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

std::string Uuid::to_string() const {
  std::string out;
  out.reserve(22);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kBase64Url[(acc << (6 - bits)) & 63];
  return out;  // 16 bytes: 21 full characters and one of 2 bits, 22 in all
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 22) return std::nullopt;
  Uuid u;
  uint32_t acc = 0;
  int bits = 0;
  size_t at = 0;
  for (char c : text) {
    const int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (at < u.bytes.size()) u.bytes[at++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return u;
}

Uuid Uuid::from_random(uint64_t hi, uint64_t lo) {
  Uuid u;
  for (int i = 0; i < 8; ++i) {
    u.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    u.bytes[static_cast<size_t>(8 + i)] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0f) | 0x40);  // version 4
  u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3f) | 0x80);  // IETF variant
  // Base64 of the first byte starts with '-' (62) when its top six bits are 111110.
  if ((u.bytes[0] >> 2) == 62) u.bytes[0] = static_cast<uint8_t>(u.bytes[0] & 0x7f);
  return u;
}

void Reader::f64(double& v) {
  int64_t bits = 0;
  i64(bits);
  std::memcpy(&v, &bits, sizeof v);
}

void Reader::uuid(Uuid& u) {
  if (!take(16)) {
    u = Uuid{};
    return;
  }
  std::memcpy(u.bytes.data(), &data_[pos_ - 16], 16);
}

void Reader::uvarint(uint32_t& v) {
  v = 0;
  for (int i = 0; i < kUvarintBytesMax; ++i) {
    int8_t b = 0;
    i8(b);
    if (!ok_) return;
    const uint32_t bits = static_cast<uint8_t>(b) & 0x7f;
    if (i == kUvarintBytesMax - 1 && bits > 0x0f) break;  // more than 32 bits
    v |= bits << (7 * i);
    if ((static_cast<uint8_t>(b) & 0x80) == 0) return;
  }
  v = 0;
  fail();
}

int64_t Reader::length(bool compact, int width) {
  if (compact) {
    uint32_t n = 0;
    uvarint(n);
    if (!ok_) return -2;
    return static_cast<int64_t>(n) - 1;
  }
  if (width == 2) {
    int16_t n = 0;
    i16(n);
    if (!ok_ || n < -1) return -2;
    return n;
  }
  int32_t n = 0;
  i32(n);
  if (!ok_ || n < -1) return -2;
  return n;
}

void Reader::string(std::string& s, bool compact) {
  const std::byte* p = take_run(length(compact, 2));
  if (p == nullptr) {
    s.clear();
    return;
  }
  s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(data_.data() + pos_ - p));
}

void Reader::nstring(std::optional<std::string>& s, bool compact, bool nullable) {
  const int64_t n = length(compact, 2);
  s.reset();
  if (n == kNull && nullable) return;
  const std::byte* p = take_run(n);
  if (p != nullptr) s.emplace(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

void Reader::bytes(std::vector<std::byte>& b, bool compact) {
  const int64_t n = length(compact, 4);
  const std::byte* p = take_run(n);
  if (p == nullptr) {
    b.clear();
    return;
  }
  b.assign(p, p + n);
}

void Reader::nbytes(std::optional<std::vector<std::byte>>& b, bool compact, bool nullable) {
  const int64_t n = length(compact, 4);
  b.reset();
  if (n == kNull && nullable) return;
  const std::byte* p = take_run(n);
  if (p != nullptr) b.emplace(p, p + n);
}

void Reader::records(RecordsField& r, bool compact) {
  r = RecordsField{};
  const int64_t n = length(compact, 4);
  if (n == kNull) {
    r.null = true;
    return;
  }
  const std::byte* p = take_run(n);
  if (p == nullptr) return;
  if (frame_) {
    r.frame = frame_;
    r.view = ConstBytes(p, static_cast<size_t>(n));
  } else {
    r.bytes.assign(p, p + n);
  }
}

void Writer::f64(double v) {
  int64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  i64(bits);
}

void Writer::uuid(const Uuid& u) {
  const auto* p = reinterpret_cast<const std::byte*>(u.bytes.data());
  buf_.insert(buf_.end(), p, p + u.bytes.size());
}

void Writer::uvarint(uint32_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<std::byte>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<std::byte>(v));
}

void Writer::length(int64_t n, bool compact, int width) {
  SAMSA_ASSERT(n >= -1 && n <= (width == 2 ? INT16_MAX : INT32_MAX));
  if (compact) {
    uvarint(static_cast<uint32_t>(n + 1));
  } else if (width == 2) {
    i16(static_cast<int16_t>(n));
  } else {
    i32(static_cast<int32_t>(n));
  }
}

void Writer::string(const std::string& s, bool compact) {
  length(static_cast<int64_t>(s.size()), compact, 2);
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  buf_.insert(buf_.end(), p, p + s.size());
}

void Writer::nstring(const std::optional<std::string>& s, bool compact, bool nullable) {
  if (!s) {
    length(nullable ? -1 : 0, compact, 2);
    return;
  }
  string(*s, compact);
}

void Writer::bytes(const std::vector<std::byte>& b, bool compact) {
  length(static_cast<int64_t>(b.size()), compact, 4);
  buf_.insert(buf_.end(), b.begin(), b.end());
}

void Writer::nbytes(const std::optional<std::vector<std::byte>>& b, bool compact, bool nullable) {
  if (!b) {
    length(nullable ? -1 : 0, compact, 4);
    return;
  }
  bytes(*b, compact);
}

void Writer::records(const RecordsField& r, bool compact) {
  if (r.null) {
    length(-1, compact, 4);
    return;
  }
  length(static_cast<int64_t>(r.size()), compact, 4);
  if (!r.file) {
    const ConstBytes d = r.data();
    buf_.insert(buf_.end(), d.begin(), d.end());
    return;
  }
  if (r.file_length == 0) return;
  flushed_bytes_ += buf_.size();
  parts_.push_back(ResponsePart{std::move(buf_), nullptr, 0, 0});
  buf_.clear();
  parts_.push_back(ResponsePart{{}, r.file, r.file_offset, r.file_length});
  flushed_bytes_ += r.file_length;
}

uint64_t Writer::size() const { return flushed_bytes_ + buf_.size(); }

std::vector<ResponsePart> Writer::take_parts() {
  if (!buf_.empty()) parts_.push_back(ResponsePart{std::move(buf_), nullptr, 0, 0});
  buf_.clear();
  flushed_bytes_ = 0;
  return std::move(parts_);
}

std::vector<std::byte> Writer::take_bytes() {
  SAMSA_ASSERT(parts_.empty());
  flushed_bytes_ = 0;
  return std::move(buf_);
}

}  // namespace samsa::kafka
