// Zigzag varints (Protocol Buffers encoding), used inside Kafka records. Decoding is bounded:
// a varint longer than its type allows, or one running past the buffer, is an error.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/runtime.h"

namespace samsa {

inline void put_varint64(std::vector<std::byte>& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(std::byte(static_cast<uint8_t>(z) | 0x80));
    z >>= 7;
  }
  out.push_back(std::byte(static_cast<uint8_t>(z)));
}

inline size_t varint_size(int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  size_t n = 1;
  while (z >= 0x80) {
    z >>= 7;
    ++n;
  }
  return n;
}

// Reads a zigzag varint at `pos`, advancing it. max_bytes: 5 for int32 fields, 10 for int64.
inline Result<int64_t> get_varint(ConstBytes in, size_t& pos, int max_bytes = 10) {
  uint64_t z = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (pos >= in.size()) return Errc::corrupt;
    const uint64_t b = std::to_integer<uint64_t>(in[pos++]);
    z |= (b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      const int64_t v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
      if (max_bytes <= 5 && (v > INT32_MAX || v < INT32_MIN)) return Errc::corrupt;
      return v;
    }
  }
  return Errc::corrupt;
}

}  // namespace samsa
