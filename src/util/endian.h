// Big-endian (network order) integer encoding, as every Kafka wire and file format uses.
// Pure functions; callers guarantee the buffer is long enough (they bound lengths first).
#pragma once

#include <cstddef>
#include <cstdint>

namespace samsa {

inline void put_u16_be(std::byte* out, uint16_t v) {
  out[0] = std::byte(v >> 8);
  out[1] = std::byte(v);
}
inline void put_u32_be(std::byte* out, uint32_t v) {
  out[0] = std::byte(v >> 24);
  out[1] = std::byte(v >> 16);
  out[2] = std::byte(v >> 8);
  out[3] = std::byte(v);
}
inline void put_u64_be(std::byte* out, uint64_t v) {
  put_u32_be(out, static_cast<uint32_t>(v >> 32));
  put_u32_be(out + 4, static_cast<uint32_t>(v));
}
inline uint16_t get_u16_be(const std::byte* in) {
  return static_cast<uint16_t>((std::to_integer<uint16_t>(in[0]) << 8) | std::to_integer<uint16_t>(in[1]));
}
inline uint32_t get_u32_be(const std::byte* in) {
  return (std::to_integer<uint32_t>(in[0]) << 24) | (std::to_integer<uint32_t>(in[1]) << 16) |
         (std::to_integer<uint32_t>(in[2]) << 8) | std::to_integer<uint32_t>(in[3]);
}
inline uint64_t get_u64_be(const std::byte* in) {
  return (uint64_t{get_u32_be(in)} << 32) | get_u32_be(in + 4);
}
inline int16_t get_i16_be(const std::byte* in) { return static_cast<int16_t>(get_u16_be(in)); }
inline int32_t get_i32_be(const std::byte* in) { return static_cast<int32_t>(get_u32_be(in)); }
inline int64_t get_i64_be(const std::byte* in) { return static_cast<int64_t>(get_u64_be(in)); }

}  // namespace samsa
