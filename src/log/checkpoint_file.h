// Small text checkpoint files (Kafka's format: a version line, a count line, entry lines),
// replaced atomically: write a temporary file, fsync it, rename over the old one, fsync the
// directory. A crash leaves either the old or the new file, never a mix.
// Callable from any fiber of the node; suspends on disk I/O.
#pragma once

#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace samsa {

// Writes `data` to dir/name atomically (temporary file "<name>.tmp", fsync, rename, directory
// fsync); recovery of a partition and of the Raft log removes leftover ".tmp" files. With
// `durable` false nothing is synced (planted bugs only). Also used by src/raft for its
// quorum-state and snapshot files.
Status write_file_atomically(Runtime& rt, const std::string& dir, const std::string& name, ConstBytes data,
                             bool durable = true);

Status write_checkpoint(Runtime& rt, const std::string& dir, const std::string& name,
                        const std::vector<std::string>& entries);

// Entries of a checkpoint; Errc::not_found if absent, Errc::corrupt if malformed.
Result<std::vector<std::string>> read_checkpoint(Runtime& rt, const std::string& dir, const std::string& name);

}  // namespace samsa
