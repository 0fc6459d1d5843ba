// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2. Pure functions; any thread.
// crc32c_extend uses the SSE4.2 crc32 instruction when the CPU has it (checked per call through
// the compiler's CPU-feature probe, which reads no OS state), else the portable table.
#pragma once

#include <cstdint>

#include "runtime/runtime.h"

namespace samsa {

// Extends `crc` (0 to start) over data.
uint32_t crc32c_extend(uint32_t crc, ConstBytes data);
inline uint32_t crc32c(ConstBytes data) { return crc32c_extend(0, data); }

// The two implementations, exposed for tests and benchmarks.
uint32_t crc32c_portable(uint32_t crc, ConstBytes data);
uint32_t crc32c_hardware(uint32_t crc, ConstBytes data);  // requires crc32c_hardware_available()
bool crc32c_hardware_available();

}  // namespace samsa
