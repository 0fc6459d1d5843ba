// Snapshot files of the metadata log (KIP-630): `<20-digit end offset>-<10-digit epoch>.checkpoint`
// in the log's directory, holding a state machine image that covers every entry before the end
// offset (the epoch is that of the last entry covered). A file is written whole and atomically
// (log/checkpoint_file.h's write_file_atomically) before the log start moves past it, so a log start
// above zero always has a snapshot that covers what was deleted.
//
// File layout: magic "SAMSASN1" | end offset i64 | epoch i32 | image length u64 | CRC-32C of the
// image u32 | image. The bytes travel unchanged in FetchSnapshot chunks and are validated whole.
//
// Pure functions plus directory helpers called from the owning node's fibers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raft/raft_messages.h"
#include "runtime/runtime.h"

namespace samsa::raft {

inline constexpr size_t kSnapshotHeaderBytes = 8 + 8 + 4 + 8 + 4;

std::string snapshot_file_name(const OffsetAndEpoch& id);
std::optional<OffsetAndEpoch> parse_snapshot_file_name(std::string_view name);

std::vector<std::byte> encode_snapshot(const OffsetAndEpoch& id, ConstBytes image);
// The image, after checking magic, id, length and checksum (Errc::corrupt otherwise).
Result<std::vector<std::byte>> decode_snapshot(ConstBytes file, const OffsetAndEpoch& id);

// Snapshot ids present in dir, oldest first (names only; contents are checked when read).
Result<std::vector<OffsetAndEpoch>> list_snapshots(Runtime& rt, const std::string& dir);
// Reads and validates one snapshot file; returns its image.
Result<std::vector<std::byte>> read_snapshot(Runtime& rt, const std::string& dir, const OffsetAndEpoch& id,
                                             uint64_t size_max);
// Removes every snapshot older than `keep`, then syncs the directory.
Status delete_snapshots_before(Runtime& rt, const std::string& dir, const OffsetAndEpoch& keep);

}  // namespace samsa::raft
