// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2. Pure function; any thread.
#pragma once

#include <cstdint>

#include "runtime/runtime.h"

namespace samsa {

// Extends `crc` (0 to start) over data.
uint32_t crc32c_extend(uint32_t crc, ConstBytes data);
inline uint32_t crc32c(ConstBytes data) { return crc32c_extend(0, data); }

}  // namespace samsa
