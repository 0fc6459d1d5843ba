// The KRaft RPCs as plain structs with Kafka's field names and meanings (KIP-595, KIP-996,
// KIP-630), flattened to the one partition the metadata quorum has (__cluster_metadata-0).
//
// These are what src/raft works with; raft_wire.{h,cc} alone turns them into Kafka's messages
// (src/protocol's generated Vote v2, BeginQuorumEpoch v1, EndQuorumEpoch v1, DescribeQuorum v1,
// Fetch v12, FetchSnapshot v0, all flexible) and back.
//
// Pure data; any fiber.
#pragma once

#include <cstdint>
#include <string>
#include <vector>


namespace samsa::raft {

// Kafka's API keys for the quorum RPCs.
enum class RaftApi : int16_t {
  fetch = 1,
  vote = 52,
  begin_quorum_epoch = 53,
  end_quorum_epoch = 54,
  describe_quorum = 55,
  fetch_snapshot = 59,
};

// Kafka's error codes that the quorum RPCs return.
enum class RaftError : int16_t {
  none = 0,
  offset_out_of_range = 1,
  not_leader_or_follower = 6,
  invalid_request = 42,
  inconsistent_voter_set = 68,
  fenced_leader_epoch = 74,
  unknown_leader_epoch = 75,
  snapshot_not_found = 98,
  position_out_of_range = 99,
  inconsistent_cluster_id = 104,
  unavailable = 5,  // LEADER_NOT_AVAILABLE: stopped, failed or no leader known
};

inline constexpr int32_t kNoNode = -1;

// A response carrying only an error code.
template <typename Response>
Response error_response(RaftError error) {
  Response r;
  r.error_code = static_cast<int16_t>(error);
  return r;
}

// Kafka's OffsetAndEpoch: an end offset (exclusive) and the epoch of the entry before it.
struct OffsetAndEpoch {
  int64_t end_offset = -1;
  int32_t epoch = -1;
  friend bool operator==(const OffsetAndEpoch&, const OffsetAndEpoch&) = default;
};

// Every response names the leader as the responder knows it, so a stale node catches up.
struct CurrentLeader {
  int32_t leader_id = kNoNode;
  int32_t leader_epoch = -1;
};

struct VoteRequest {
  std::string cluster_id;
  int32_t candidate_epoch = 0;  // for a pre-vote: the epoch the candidate would run in
  int32_t candidate_id = kNoNode;
  int32_t voter_id = kNoNode;
  int32_t last_offset_epoch = 0;  // epoch of the candidate's last entry
  int64_t last_offset = 0;        // the candidate's log end offset
  bool pre_vote = false;          // KIP-996: ask without bumping anyone's epoch
};
struct VoteResponse {
  int16_t error_code = 0;
  CurrentLeader leader;  // the voter's epoch and the leader it knows in it
  bool vote_granted = false;
};

struct BeginQuorumEpochRequest {
  std::string cluster_id;
  int32_t leader_id = kNoNode;
  int32_t leader_epoch = 0;
  int32_t voter_id = kNoNode;
};
struct BeginQuorumEpochResponse {
  int16_t error_code = 0;
  CurrentLeader leader;
};

struct EndQuorumEpochRequest {
  std::string cluster_id;
  int32_t leader_id = kNoNode;
  int32_t leader_epoch = 0;
  std::vector<int32_t> preferred_successors;  // most caught-up voters first
};
struct EndQuorumEpochResponse {
  int16_t error_code = 0;
  CurrentLeader leader;
};

struct FetchRequest {
  std::string cluster_id;
  int32_t replica_id = kNoNode;  // ReplicaState.ReplicaId: a voter or an observer
  int32_t max_wait_ms = 0;
  int32_t max_bytes = 0;
  int32_t current_leader_epoch = 0;  // the fetcher's epoch (KIP-320 fencing)
  int64_t fetch_offset = 0;          // the fetcher's log end offset: everything before it is synced
  int32_t last_fetched_epoch = 0;    // epoch of the entry before fetch_offset (KIP-595)
  int64_t log_start_offset = 0;
};
struct FetchResponse {
  int16_t error_code = 0;
  CurrentLeader leader;
  int64_t high_watermark = -1;
  int64_t log_start_offset = 0;
  OffsetAndEpoch diverging_epoch;  // end_offset -1: none. Truncate to it, then fetch again
  OffsetAndEpoch snapshot_id;      // end_offset -1: none. The fetch offset is below the log start
  std::vector<std::byte> records;  // whole RecordBatch v2 batches from fetch_offset
};

struct FetchSnapshotRequest {
  std::string cluster_id;
  int32_t replica_id = kNoNode;
  int32_t current_leader_epoch = 0;
  OffsetAndEpoch snapshot_id;
  int64_t position = 0;
  int32_t max_bytes = 0;
};
struct FetchSnapshotResponse {
  int16_t error_code = 0;
  CurrentLeader leader;
  OffsetAndEpoch snapshot_id;
  int64_t size = 0;      // of the whole snapshot file
  int64_t position = 0;  // of this chunk
  std::vector<std::byte> unaligned_records;  // the chunk (Kafka's field name)
};

struct DescribeQuorumRequest {
};
// DescribeQuorum's content (and RaftClient::describe()'s).
struct ReplicaInfo {
  int32_t replica_id = kNoNode;
  int64_t log_end_offset = -1;
  int64_t last_fetch_timestamp = -1;       // wall clock ms; -1 unknown
  int64_t last_caught_up_timestamp = -1;   // wall clock ms; -1 unknown
};
struct DescribeQuorumResponse {
  int16_t error_code = 0;
  int32_t leader_id = kNoNode;
  int32_t leader_epoch = 0;
  int64_t high_watermark = 0;
  std::vector<ReplicaInfo> current_voters;
  std::vector<ReplicaInfo> observers;
};

// Control record type of Kafka's LeaderChange record (its value: kafka::LeaderChangeMessage).
inline constexpr int16_t kControlTypeLeaderChange = 2;

}  // namespace samsa::raft
