// The durable `quorum-state` file: the current epoch, the leader known in it and the vote cast
// in it. Raft's safety rests on it: a node votes at most once per epoch and never goes back to
// an older epoch, across crashes, only if every change is durable before it is acted on.
//
// Written as Kafka's JSON shape ({"leaderId":..,"leaderEpoch":..,"votedId":..,...}) to a
// temporary file that is fsynced, renamed over the old one, and the directory fsynced: a crash
// leaves the old or the new state, never a mix.
//
// Called from fibers of the owning node (RaftClient, with its mutex held); suspends on disk I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace samsa::raft {

struct ElectionState {
  int32_t epoch = 0;
  std::optional<int32_t> leader_id;
  std::optional<int32_t> voted_id;
  friend bool operator==(const ElectionState&, const ElectionState&) = default;
};

class QuorumStateFile {
 public:
  static constexpr const char* kFileName = "quorum-state";
  static constexpr uint64_t kFileBytesMax = 64 * 1024;

  QuorumStateFile(Runtime& rt, std::string dir) : rt_(rt), dir_(std::move(dir)) {}

  // The stored state; a missing file is epoch 0 with no leader and no vote. Errc::corrupt for a
  // file that does not parse (the node must not start: it could vote twice).
  Result<ElectionState> load();
  // Replaces the file atomically and durably. With `durable` false (a planted bug) the file is
  // written and renamed but neither it nor the directory is synced.
  Status store(const ElectionState& state, const std::vector<int32_t>& voters, bool durable = true);

  static std::string encode(const ElectionState& state, const std::vector<int32_t>& voters);
  static Result<ElectionState> decode(std::string_view text);

 private:
  Runtime& rt_;
  std::string dir_;
};

}  // namespace samsa::raft
