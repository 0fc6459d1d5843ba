#include "raft/raft_wire.h"

#include "protocol/messages.h"

namespace samsa::raft::wire {

namespace {

constexpr int16_t kVote = 2, kBegin = 1, kEnd = 1, kDescribe = 1, kFetch = 12, kFetchSnapshot = 0;

kafka::ApiKey key_of(RaftApi api) { return static_cast<kafka::ApiKey>(static_cast<int16_t>(api)); }

template <typename K>
std::vector<std::byte> body(K& k, int16_t version) {
  return kafka::encode(k, version);
}

// Exactly one topic (the metadata topic) with exactly one partition (0), or nothing.
template <typename Topics>
const auto* the_partition(const Topics& topics) {
  using Partition = typename std::decay_t<decltype(topics.front().partitions)>::value_type;
  if (topics.size() != 1 || topics.front().partitions.size() != 1) return static_cast<const Partition*>(nullptr);
  return &topics.front().partitions.front();
}

std::optional<std::string> nullable(const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); }

}  // namespace

int16_t version_of(RaftApi api) {
  switch (api) {
    case RaftApi::vote: return kVote;
    case RaftApi::begin_quorum_epoch: return kBegin;
    case RaftApi::end_quorum_epoch: return kEnd;
    case RaftApi::describe_quorum: return kDescribe;
    case RaftApi::fetch: return kFetch;
    case RaftApi::fetch_snapshot: return kFetchSnapshot;
  }
  return 0;
}

// --- Vote ---

std::vector<std::byte> encode(const VoteRequest& m) {
  kafka::VoteRequest k;
  k.cluster_id = nullable(m.cluster_id);
  k.voter_id = m.voter_id;
  auto& p = k.topics.emplace_back(kafka::VoteRequest::Topic{.topic_name = kMetadataTopic}).partitions.emplace_back();
  p.replica_epoch = m.candidate_epoch;
  p.replica_id = m.candidate_id;
  p.last_offset_epoch = m.last_offset_epoch;
  p.last_offset = m.last_offset;
  p.pre_vote = m.pre_vote;
  return body(k, kVote);
}

template <>
Result<VoteRequest> decode<VoteRequest>(ConstBytes b) {
  kafka::VoteRequest k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::VoteRequest>(b, kVote));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) return Errc::corrupt;
  return VoteRequest{k.cluster_id.value_or(""), p->replica_epoch, p->replica_id, k.voter_id, p->last_offset_epoch, p->last_offset, p->pre_vote};
}

std::vector<std::byte> encode(const VoteResponse& m) {
  kafka::VoteResponse k;
  k.error_code = m.error_code;
  auto& p = k.topics.emplace_back(kafka::VoteResponse::Topic{.topic_name = kMetadataTopic}).partitions.emplace_back();
  p.error_code = m.error_code;
  p.leader_id = m.leader.leader_id;
  p.leader_epoch = m.leader.leader_epoch;
  p.vote_granted = m.vote_granted;
  return body(k, kVote);
}

template <>
Result<VoteResponse> decode<VoteResponse>(ConstBytes b) {
  kafka::VoteResponse k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::VoteResponse>(b, kVote));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) return VoteResponse{k.error_code != 0 ? k.error_code : int16_t{42}, {}, false};
  return VoteResponse{p->error_code, CurrentLeader{p->leader_id, p->leader_epoch}, p->vote_granted};
}

// --- BeginQuorumEpoch ---

std::vector<std::byte> encode(const BeginQuorumEpochRequest& m) {
  kafka::BeginQuorumEpochRequest k;
  k.cluster_id = nullable(m.cluster_id);
  k.voter_id = m.voter_id;
  auto& p = k.topics.emplace_back(kafka::BeginQuorumEpochRequest::Topic{.topic_name = kMetadataTopic}).partitions.emplace_back();
  p.leader_id = m.leader_id;
  p.leader_epoch = m.leader_epoch;
  return body(k, kBegin);
}

template <>
Result<BeginQuorumEpochRequest> decode<BeginQuorumEpochRequest>(ConstBytes b) {
  kafka::BeginQuorumEpochRequest k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::BeginQuorumEpochRequest>(b, kBegin));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) return Errc::corrupt;
  return BeginQuorumEpochRequest{k.cluster_id.value_or(""), p->leader_id, p->leader_epoch, k.voter_id};
}

// BeginQuorumEpoch and EndQuorumEpoch answer with the same shape.
template <typename K, typename M>
std::vector<std::byte> encode_epoch_response(const M& m, int16_t version) {
  K k;
  k.error_code = m.error_code;
  auto& p = k.topics.emplace_back(typename K::Topic{.topic_name = kMetadataTopic}).partitions.emplace_back();
  p.error_code = m.error_code;
  p.leader_id = m.leader.leader_id;
  p.leader_epoch = m.leader.leader_epoch;
  return body(k, version);
}

template <typename K, typename M>
Result<M> decode_epoch_response(ConstBytes b, int16_t version) {
  K k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<K>(b, version));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) return M{k.error_code != 0 ? k.error_code : int16_t{42}, {}};
  return M{p->error_code, CurrentLeader{p->leader_id, p->leader_epoch}};
}

std::vector<std::byte> encode(const BeginQuorumEpochResponse& m) {
  return encode_epoch_response<kafka::BeginQuorumEpochResponse>(m, kBegin);
}
template <>
Result<BeginQuorumEpochResponse> decode<BeginQuorumEpochResponse>(ConstBytes b) {
  return decode_epoch_response<kafka::BeginQuorumEpochResponse, BeginQuorumEpochResponse>(b, kBegin);
}
std::vector<std::byte> encode(const EndQuorumEpochResponse& m) {
  return encode_epoch_response<kafka::EndQuorumEpochResponse>(m, kEnd);
}
template <>
Result<EndQuorumEpochResponse> decode<EndQuorumEpochResponse>(ConstBytes b) {
  return decode_epoch_response<kafka::EndQuorumEpochResponse, EndQuorumEpochResponse>(b, kEnd);
}

// --- EndQuorumEpoch ---

std::vector<std::byte> encode(const EndQuorumEpochRequest& m) {
  kafka::EndQuorumEpochRequest k;
  k.cluster_id = nullable(m.cluster_id);
  auto& p = k.topics.emplace_back(kafka::EndQuorumEpochRequest::Topic{.topic_name = kMetadataTopic}).partitions.emplace_back();
  p.leader_id = m.leader_id;
  p.leader_epoch = m.leader_epoch;
  for (int32_t id : m.preferred_successors) p.preferred_candidates.push_back({.candidate_id = id});
  return body(k, kEnd);
}

template <>
Result<EndQuorumEpochRequest> decode<EndQuorumEpochRequest>(ConstBytes b) {
  kafka::EndQuorumEpochRequest k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::EndQuorumEpochRequest>(b, kEnd));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) return Errc::corrupt;
  EndQuorumEpochRequest m{k.cluster_id.value_or(""), p->leader_id, p->leader_epoch, {}};
  for (const auto& c : p->preferred_candidates) m.preferred_successors.push_back(c.candidate_id);
  return m;
}

}  // namespace samsa::raft::wire

namespace samsa::raft::wire {

// --- Fetch (v12: topic names, LastFetchedEpoch; the answer's DivergingEpoch, CurrentLeader and
// SnapshotId are tagged fields) ---

std::vector<std::byte> encode(const FetchRequest& m) {
  kafka::FetchRequest k;
  k.cluster_id = nullable(m.cluster_id);
  k.replica_id = m.replica_id;
  k.max_wait_ms = m.max_wait_ms;
  k.max_bytes = m.max_bytes;
  auto& p = k.topics.emplace_back(kafka::FetchRequest::Topic{.topic = kMetadataTopic}).partitions.emplace_back();
  p.current_leader_epoch = m.current_leader_epoch;
  p.fetch_offset = m.fetch_offset;
  p.last_fetched_epoch = m.last_fetched_epoch;
  p.log_start_offset = m.log_start_offset;
  p.partition_max_bytes = m.max_bytes;
  return body(k, kFetch);
}

template <>
Result<FetchRequest> decode<FetchRequest>(ConstBytes b) {
  kafka::FetchRequest k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::FetchRequest>(b, kFetch));
  const auto* p = the_partition(k.topics);
  if (p == nullptr || k.topics.front().topic != kMetadataTopic) return Errc::corrupt;
  return FetchRequest{k.cluster_id.value_or(""), k.replica_id, k.max_wait_ms, std::min(k.max_bytes, p->partition_max_bytes),
                      p->current_leader_epoch, p->fetch_offset, p->last_fetched_epoch, p->log_start_offset};
}

std::vector<std::byte> encode(const FetchResponse& m) {
  kafka::FetchResponse k;
  k.error_code = 0;
  auto& p = k.responses.emplace_back(kafka::FetchResponse::Topic{.topic = kMetadataTopic}).partitions.emplace_back();
  p.error_code = m.error_code;
  p.high_watermark = m.high_watermark;
  p.log_start_offset = m.log_start_offset;
  p.diverging_epoch = {.epoch = m.diverging_epoch.epoch, .end_offset = m.diverging_epoch.end_offset};
  p.current_leader = {.leader_id = m.leader.leader_id, .leader_epoch = m.leader.leader_epoch};
  p.snapshot_id = {.end_offset = m.snapshot_id.end_offset, .epoch = m.snapshot_id.epoch};
  p.records.bytes = m.records;
  return body(k, kFetch);
}

template <>
Result<FetchResponse> decode<FetchResponse>(ConstBytes b) {
  kafka::FetchResponse k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::FetchResponse>(b, kFetch));
  if (k.responses.size() != 1 || k.responses.front().partitions.size() != 1) {
    return error_response<FetchResponse>(k.error_code != 0 ? static_cast<RaftError>(k.error_code) : RaftError::invalid_request);
  }
  auto& p = k.responses.front().partitions.front();
  FetchResponse m;
  m.error_code = p.error_code;
  m.leader = CurrentLeader{p.current_leader.leader_id, p.current_leader.leader_epoch};
  m.high_watermark = p.high_watermark;
  m.log_start_offset = p.log_start_offset;
  m.diverging_epoch = OffsetAndEpoch{p.diverging_epoch.end_offset, p.diverging_epoch.epoch};
  m.snapshot_id = OffsetAndEpoch{p.snapshot_id.end_offset, p.snapshot_id.epoch};
  m.records = p.records.take_bytes();
  return m;
}

// --- FetchSnapshot (v0) ---

std::vector<std::byte> encode(const FetchSnapshotRequest& m) {
  kafka::FetchSnapshotRequest k;
  k.cluster_id = nullable(m.cluster_id);
  k.replica_id = m.replica_id;
  k.max_bytes = m.max_bytes;
  auto& p = k.topics.emplace_back(kafka::FetchSnapshotRequest::Topic{.name = kMetadataTopic}).partitions.emplace_back();
  p.current_leader_epoch = m.current_leader_epoch;
  p.snapshot_id = {.end_offset = m.snapshot_id.end_offset, .epoch = m.snapshot_id.epoch};
  p.position = m.position;
  return body(k, kFetchSnapshot);
}

template <>
Result<FetchSnapshotRequest> decode<FetchSnapshotRequest>(ConstBytes b) {
  kafka::FetchSnapshotRequest k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::FetchSnapshotRequest>(b, kFetchSnapshot));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) return Errc::corrupt;
  return FetchSnapshotRequest{k.cluster_id.value_or(""), k.replica_id, p->current_leader_epoch,
                              OffsetAndEpoch{p->snapshot_id.end_offset, p->snapshot_id.epoch}, p->position, k.max_bytes};
}

std::vector<std::byte> encode(const FetchSnapshotResponse& m) {
  kafka::FetchSnapshotResponse k;
  k.error_code = 0;
  auto& p = k.topics.emplace_back(kafka::FetchSnapshotResponse::Topic{.name = kMetadataTopic}).partitions.emplace_back();
  p.error_code = m.error_code;
  p.snapshot_id = {.end_offset = m.snapshot_id.end_offset, .epoch = m.snapshot_id.epoch};
  p.current_leader = {.leader_id = m.leader.leader_id, .leader_epoch = m.leader.leader_epoch};
  p.size = m.size;
  p.position = m.position;
  p.unaligned_records.bytes = m.unaligned_records;
  return body(k, kFetchSnapshot);
}

template <>
Result<FetchSnapshotResponse> decode<FetchSnapshotResponse>(ConstBytes b) {
  kafka::FetchSnapshotResponse k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::FetchSnapshotResponse>(b, kFetchSnapshot));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) {
    return error_response<FetchSnapshotResponse>(k.error_code != 0 ? static_cast<RaftError>(k.error_code) : RaftError::invalid_request);
  }
  FetchSnapshotResponse m;
  m.error_code = p->error_code;
  m.leader = CurrentLeader{p->current_leader.leader_id, p->current_leader.leader_epoch};
  m.snapshot_id = OffsetAndEpoch{p->snapshot_id.end_offset, p->snapshot_id.epoch};
  m.size = p->size;
  m.position = p->position;
  m.unaligned_records.assign(p->unaligned_records.data().begin(), p->unaligned_records.data().end());
  return m;
}

// --- DescribeQuorum (v1) ---

std::vector<std::byte> encode(const DescribeQuorumRequest&) {
  kafka::DescribeQuorumRequest k;
  k.topics.emplace_back(kafka::DescribeQuorumRequest::Topic{.topic_name = kMetadataTopic}).partitions.emplace_back();
  return body(k, kDescribe);
}

template <>
Result<DescribeQuorumRequest> decode<DescribeQuorumRequest>(ConstBytes b) {
  kafka::DescribeQuorumRequest k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::DescribeQuorumRequest>(b, kDescribe));
  if (the_partition(k.topics) == nullptr) return Errc::corrupt;
  return DescribeQuorumRequest{};
}

std::vector<std::byte> encode(const DescribeQuorumResponse& m) {
  kafka::DescribeQuorumResponse k;
  k.error_code = 0;
  auto& p = k.topics.emplace_back(kafka::DescribeQuorumResponse::Topic{.topic_name = kMetadataTopic}).partitions.emplace_back();
  p.error_code = m.error_code;
  p.leader_id = m.leader_id;
  p.leader_epoch = m.leader_epoch;
  p.high_watermark = m.high_watermark;
  auto add = [](std::vector<kafka::DescribeQuorumResponse::ReplicaState>& out, const std::vector<ReplicaInfo>& in) {
    for (const ReplicaInfo& r : in) {
      out.push_back({.replica_id = r.replica_id, .log_end_offset = r.log_end_offset, .last_fetch_timestamp = r.last_fetch_timestamp,
                     .last_caught_up_timestamp = r.last_caught_up_timestamp});
    }
  };
  add(p.current_voters, m.current_voters);
  add(p.observers, m.observers);
  return body(k, kDescribe);
}

template <>
Result<DescribeQuorumResponse> decode<DescribeQuorumResponse>(ConstBytes b) {
  kafka::DescribeQuorumResponse k;
  SAMSA_TRY_ASSIGN(k, kafka::decode<kafka::DescribeQuorumResponse>(b, kDescribe));
  const auto* p = the_partition(k.topics);
  if (p == nullptr) return error_response<DescribeQuorumResponse>(k.error_code != 0 ? static_cast<RaftError>(k.error_code) : RaftError::invalid_request);
  DescribeQuorumResponse m;
  m.error_code = p->error_code;
  m.leader_id = p->leader_id;
  m.leader_epoch = p->leader_epoch;
  m.high_watermark = p->high_watermark;
  auto take = [](std::vector<ReplicaInfo>& out, const std::vector<kafka::DescribeQuorumResponse::ReplicaState>& in) {
    for (const auto& r : in) out.push_back(ReplicaInfo{r.replica_id, r.log_end_offset, r.last_fetch_timestamp, r.last_caught_up_timestamp});
  };
  take(m.current_voters, p->current_voters);
  take(m.observers, p->observers);
  return m;
}

// --- frames ---

std::vector<std::byte> request_frame(RaftApi api, int32_t correlation_id, const std::string& client_id,
                                     const std::vector<std::byte>& request_body) {
  const int16_t version = version_of(api);
  kafka::RequestHeader h{.api_key = static_cast<int16_t>(api), .api_version = version, .correlation_id = correlation_id, .client_id = client_id};
  kafka::Writer w;
  h.serde(w, kafka::request_header_version(key_of(api), version));
  std::vector<std::byte> frame = w.take_bytes();
  frame.insert(frame.end(), request_body.begin(), request_body.end());
  return frame;
}

Result<RequestHead> parse_request_head(ConstBytes frame) {
  if (frame.size() < 4) return Errc::corrupt;
  const int16_t key = get_i16_be(frame.data());
  const RaftApi api = static_cast<RaftApi>(key);
  switch (api) {
    case RaftApi::fetch: case RaftApi::vote: case RaftApi::begin_quorum_epoch: case RaftApi::end_quorum_epoch:
    case RaftApi::describe_quorum: case RaftApi::fetch_snapshot: break;
    default: return Errc::not_found;
  }
  const int16_t version = get_i16_be(frame.data() + 2);
  if (version != version_of(api)) return Errc::corrupt;
  kafka::Reader r(frame);
  kafka::RequestHeader h;
  h.serde(r, kafka::request_header_version(key_of(api), version));
  if (!r.ok()) return Errc::corrupt;
  return RequestHead{api, version, h.correlation_id, r.position()};
}

std::vector<std::byte> response_frame(RaftApi api, int32_t correlation_id, const std::vector<std::byte>& response_body) {
  kafka::ResponseHeader h{.correlation_id = correlation_id};
  kafka::Writer w;
  h.serde(w, kafka::response_header_version(key_of(api), version_of(api)));
  std::vector<std::byte> frame = w.take_bytes();
  frame.insert(frame.end(), response_body.begin(), response_body.end());
  return frame;
}

Result<std::vector<std::byte>> response_body(RaftApi api, int32_t correlation_id, ConstBytes frame) {
  kafka::Reader r(frame);
  kafka::ResponseHeader h;
  h.serde(r, kafka::response_header_version(key_of(api), version_of(api)));
  if (!r.ok() || h.correlation_id != correlation_id) return Errc::corrupt;
  return std::vector<std::byte>(frame.begin() + static_cast<std::ptrdiff_t>(r.position()), frame.end());
}

std::vector<std::byte> encode_leader_change(int32_t leader_id, const std::vector<int32_t>& voters,
                                            const std::vector<int32_t>& granting_voters) {
  kafka::LeaderChangeMessage m;
  m.version = 0;
  m.leader_id = leader_id;
  for (int32_t v : voters) m.voters.push_back({.voter_id = v});
  for (int32_t v : granting_voters) m.granting_voters.push_back({.voter_id = v});
  return kafka::encode(m, 0);
}

}  // namespace samsa::raft::wire
