// The quorum RPCs in Kafka's wire formats: the only place in src/raft that knows their bytes.
// raft_messages.h's plain structs are turned into src/protocol's generated messages (and back)
// at these versions, all flexible: Vote v2 (KIP-996 pre_vote), BeginQuorumEpoch v1,
// EndQuorumEpoch v1, DescribeQuorum v1, Fetch v12 (LastFetchedEpoch, DivergingEpoch,
// CurrentLeader, SnapshotId) and FetchSnapshot v0, on topic __cluster_metadata partition 0.
// Headers: request header v2 and response header v1, as Kafka uses for flexible versions.
//
// Decoding refuses (Errc::corrupt) a message that is malformed or that does not name exactly the
// metadata partition. Pure functions; any fiber.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft/raft_messages.h"
#include "runtime/runtime.h"

namespace samsa::raft::wire {

inline constexpr const char* kMetadataTopic = "__cluster_metadata";

int16_t version_of(RaftApi api);

std::vector<std::byte> encode(const VoteRequest& m);
std::vector<std::byte> encode(const VoteResponse& m);
std::vector<std::byte> encode(const BeginQuorumEpochRequest& m);
std::vector<std::byte> encode(const BeginQuorumEpochResponse& m);
std::vector<std::byte> encode(const EndQuorumEpochRequest& m);
std::vector<std::byte> encode(const EndQuorumEpochResponse& m);
std::vector<std::byte> encode(const FetchRequest& m);
std::vector<std::byte> encode(const FetchResponse& m);
std::vector<std::byte> encode(const FetchSnapshotRequest& m);
std::vector<std::byte> encode(const FetchSnapshotResponse& m);
std::vector<std::byte> encode(const DescribeQuorumRequest& m);
std::vector<std::byte> encode(const DescribeQuorumResponse& m);

// decode<T>(body) for each message type above.
template <typename T>
Result<T> decode(ConstBytes body);

// A request frame (header and body) and a response frame (header and body), for the transport.
std::vector<std::byte> request_frame(RaftApi api, int32_t correlation_id, const std::string& client_id,
                                     const std::vector<std::byte>& body);
struct RequestHead {
  RaftApi api;
  int16_t version;
  int32_t correlation_id;
  size_t body_offset;
};
// Errc::not_found for an api key that is not a quorum RPC (the frame may be someone else's),
// Errc::corrupt for a malformed header or a version other than ours.
Result<RequestHead> parse_request_head(ConstBytes frame);
std::vector<std::byte> response_frame(RaftApi api, int32_t correlation_id, const std::vector<std::byte>& body);
// The body of a response frame after checking its correlation id.
Result<std::vector<std::byte>> response_body(RaftApi api, int32_t correlation_id, ConstBytes frame);

// The LeaderChange control record's value (kafka::LeaderChangeMessage v0).
std::vector<std::byte> encode_leader_change(int32_t leader_id, const std::vector<int32_t>& voters,
                                            const std::vector<int32_t>& granting_voters);

}  // namespace samsa::raft::wire
