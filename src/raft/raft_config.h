// RaftConfig: the settings of one node of the metadata quorum, with Kafka's property names
// (quorum.* and controller.quorum.voters) in comments, and the planted-bug switches the
// simulator uses to show that its checkers catch real Raft mistakes.
//
// Plain values: copied into a RaftClient at construction; any fiber.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "log/log_config.h"
#include "runtime/address.h"
#include "runtime/status.h"

namespace samsa::raft {

// Deliberate bugs, each off by default. Each breaks one rule the simulator's raft checker
// verifies; `samsa-sim --scenario raft --bug <name>` switches one on.
struct RaftBugs {
  bool vote_twice = false;             // grant a second vote in an epoch (ignores voted-for)
  bool stale_vote = false;             // count a granted vote from an older candidacy's epoch
  bool commit_old_epoch = false;       // advance the high watermark without an entry of the own epoch
  bool ack_before_fsync = false;       // never sync the log: voters fetch again, the leader counts its log, unsynced
  bool volatile_quorum_state = false;  // write quorum-state without fsync or directory sync
  bool follower_hw_regress = false;    // a follower adopts the leader's high watermark even if lower

  bool any() const {
    return vote_twice || stale_vote || commit_old_epoch || ack_before_fsync || volatile_quorum_state || follower_hw_regress;
  }
  // Switches one on by its command-line name; false for an unknown name.
  bool enable(std::string_view name);
  static constexpr const char* kNames[] = {"vote-twice", "stale-vote", "commit-old-epoch", "ack-before-fsync",
                                           "volatile-quorum-state", "follower-hw-regress"};
};

struct RaftConfig {
  int32_t node_id = -1;                    // node.id
  std::map<int32_t, Address> voters;       // controller.quorum.voters (id@host:port,...)
  std::string log_dir = "data";            // metadata.log.dir: holds __cluster_metadata-0
  std::string cluster_id = "samsa";        // cluster.id: requests of another cluster are refused
  int64_t election_timeout_ms = 1000;      // quorum.election.timeout.ms (plus seeded jitter of as much)
  int64_t election_backoff_max_ms = 1000;  // quorum.election.backoff.max.ms
  int64_t fetch_timeout_ms = 2000;         // quorum.fetch.timeout.ms
  int64_t request_timeout_ms = 2000;       // quorum.request.timeout.ms
  int64_t retry_backoff_ms = 20;           // quorum.retry.backoff.ms
  int64_t fetch_max_wait_ms = 500;         // a leader long-polls an empty fetch this long
  uint32_t fetch_max_bytes = 1024 * 1024;  // per fetch response (at least one whole batch)
  uint32_t snapshot_chunk_bytes = 256 * 1024;  // per FetchSnapshot response
  size_t append_records_max = 10'000;          // records in one append()
  uint64_t snapshot_bytes_max = 256ULL * 1024 * 1024;
  LogConfig log;  // the metadata log's segments (flushing is Raft's, not the log's policy)
  RaftBugs bugs;

  bool is_voter(int32_t id) const { return voters.count(id) != 0; }
  size_t majority() const { return voters.size() / 2 + 1; }
};

// Parses controller.quorum.voters: "1@host:9093,2@host2:9093". Errc::invalid_argument for a
// malformed entry, a duplicate id or an empty list.
Result<std::map<int32_t, Address>> parse_voters(std::string_view text);

}  // namespace samsa::raft
