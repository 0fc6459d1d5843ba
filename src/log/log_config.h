// Per-partition log settings, with Kafka's names and defaults (topic-level names in comments;
// the broker maps log.* properties onto them).
#pragma once

#include <cstdint>
#include <limits>

#include "runtime/time.h"

namespace samsa {

struct LogConfig {
  uint64_t segment_bytes = 1024ULL * 1024 * 1024;                 // segment.bytes
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;                     // segment.ms
  int64_t retention_bytes = -1;                                    // retention.bytes (-1: no limit)
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;                   // retention.ms (-1: no limit)
  int64_t flush_messages = std::numeric_limits<int64_t>::max();    // flush.messages
  int64_t flush_ms = std::numeric_limits<int64_t>::max();          // flush.ms
  uint32_t index_interval_bytes = 4096;                            // index.interval.bytes
  uint32_t max_batch_bytes = 1024 * 1024 + 12;                     // max.message.bytes
  // How often the recovery point is checkpointed (log.flush.offset.checkpoint.interval.ms).
  Duration recovery_checkpoint_interval = std::chrono::seconds(60);
};

// Hard limits on what is read off disk, whatever the configuration says.
inline constexpr uint64_t kBatchBytesReadMax = 64ULL * 1024 * 1024;
inline constexpr uint64_t kCheckpointBytesMax = 1024 * 1024;

}  // namespace samsa
