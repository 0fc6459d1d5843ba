#include "util/crc32c.h"

#include <array>

namespace samsa {

namespace {
constexpr uint32_t kPolyReflected = 0x82F63B78u;

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolyReflected : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = make_table();
}  // namespace

// Portable table-driven version; the hardware (SSE4.2) path arrives with the log issue.
uint32_t crc32c_extend(uint32_t crc, ConstBytes data) {
  uint32_t c = ~crc;
  for (std::byte b : data) c = kTable[(c ^ std::to_integer<uint32_t>(b)) & 0xFF] ^ (c >> 8);
  return ~c;
}

}  // namespace samsa
