// Decompression of Kafka record batches: gzip, snappy (raw, or the xerial framing Java clients
// use), lz4 (frame format) and zstd, through Debian's libraries. Output is bounded: a batch that
// would inflate past out_bytes_max is refused (Errc::too_large) rather than allocated.
// Pure functions; any fiber.
#pragma once

#include <vector>

#include "log/record_batch.h"
#include "runtime/runtime.h"

namespace samsa::client {

inline constexpr size_t kDecompressedBytesMax = 64 * 1024 * 1024;

Result<std::vector<std::byte>> decompress(Compression codec, ConstBytes in, size_t out_bytes_max = kDecompressedBytesMax);
Result<std::vector<std::byte>> compress(Compression codec, ConstBytes in);

// Records of any batch, compressed or not.
Result<std::vector<Record>> decode_batch_records(ConstBytes batch);

}  // namespace samsa::client

namespace samsa::client {
// Compresses the records of an uncompressed batch (as BatchBuilder made it) with `codec`,
// setting the attribute bits, Length and CRC.
Result<std::vector<std::byte>> compress_batch(ConstBytes batch, Compression codec);
}  // namespace samsa::client
