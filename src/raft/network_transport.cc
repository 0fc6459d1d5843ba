#include "raft/network_transport.h"

#include "net/framing.h"
#include "protocol/messages.h"
#include "runtime/log.h"

namespace samsa::raft {

namespace {
constexpr int16_t kVersion = 0;  // samsa's own encoding until Kafka's flexible schemas are in src/protocol
}

NetworkTransport::NetworkTransport(Runtime& rt, const std::map<int32_t, Address>& voters, std::string client_id)
    : rt_(rt), client_id_(std::move(client_id)) {
  for (const auto& [id, address] : voters) peers_.emplace(id, std::make_unique<Peer>(rt, address));
}

NetworkTransport::~NetworkTransport() = default;

void NetworkTransport::close_all() {
  for (auto& [id, peer] : peers_) {
    if (peer->socket) peer->socket->close();
  }
}

Status NetworkTransport::ensure_connected(Peer& peer, Deadline deadline) {
  if (peer.socket) return Status{};
  if (rt_.now() < peer.reconnect_at) return Errc::connection_refused;  // backing off
  Result<std::unique_ptr<Socket>> socket = rt_.connect(peer.address, deadline);
  if (!socket.ok()) {
    peer.reconnect_at = rt_.now() + peer.backoff;
    peer.backoff = std::min<Duration>(peer.backoff * 2, kReconnectBackoffMax);
    return socket.status();
  }
  peer.socket = std::move(*socket);
  peer.backoff = kReconnectBackoffMin;
  return Status{};
}

Result<std::vector<std::byte>> NetworkTransport::roundtrip(Peer& peer, RaftApi api, std::vector<std::byte> body, Deadline deadline) {
  SAMSA_TRY(peer.mu.lock(deadline));
  LockGuard guard(peer.mu);
  SAMSA_TRY(ensure_connected(peer, deadline));
  kafka::RequestHeader header{static_cast<int16_t>(api), kVersion, peer.next_correlation++, client_id_};
  kafka::Writer w;
  header.serde(w);
  std::vector<std::byte> frame = w.take_bytes();
  frame.insert(frame.end(), body.begin(), body.end());
  auto broken = [&](Status s) {
    peer.socket.reset();  // an unknown part of the stream is in flight: start afresh
    return s;
  };
  if (Status s = write_frame(*peer.socket, frame, deadline); !s.ok()) return broken(s);
  Result<std::vector<std::byte>> response = read_frame(*peer.socket, kResponseBytesMax, deadline);
  if (!response.ok()) return broken(response.status());
  if (response->size() < 4 || get_i32_be(response->data()) != header.correlation_id) return broken(Errc::corrupt);
  response->erase(response->begin(), response->begin() + 4);
  return response;
}

template <typename Req, typename Resp>
Result<Resp> NetworkTransport::call(int32_t to, RaftApi api, const Req& request, Deadline deadline) {
  auto it = peers_.find(to);
  if (it == peers_.end()) return Errc::host_unreachable;
  Req copy = request;
  Result<std::vector<std::byte>> body = roundtrip(*it->second, api, kafka::encode(copy, kVersion), deadline);
  if (!body.ok()) return body.status();
  return kafka::decode<Resp>(*body, kVersion);
}

Result<VoteResponse> NetworkTransport::vote(int32_t to, const VoteRequest& request, Deadline deadline) {
  return call<VoteRequest, VoteResponse>(to, RaftApi::vote, request, deadline);
}
Result<BeginQuorumEpochResponse> NetworkTransport::begin_quorum_epoch(int32_t to, const BeginQuorumEpochRequest& request,
                                                                      Deadline deadline) {
  return call<BeginQuorumEpochRequest, BeginQuorumEpochResponse>(to, RaftApi::begin_quorum_epoch, request, deadline);
}
Result<EndQuorumEpochResponse> NetworkTransport::end_quorum_epoch(int32_t to, const EndQuorumEpochRequest& request,
                                                                  Deadline deadline) {
  return call<EndQuorumEpochRequest, EndQuorumEpochResponse>(to, RaftApi::end_quorum_epoch, request, deadline);
}
Result<FetchResponse> NetworkTransport::fetch(int32_t to, const FetchRequest& request, Deadline deadline) {
  return call<FetchRequest, FetchResponse>(to, RaftApi::fetch, request, deadline);
}
Result<FetchSnapshotResponse> NetworkTransport::fetch_snapshot(int32_t to, const FetchSnapshotRequest& request, Deadline deadline) {
  return call<FetchSnapshotRequest, FetchSnapshotResponse>(to, RaftApi::fetch_snapshot, request, deadline);
}
Result<DescribeQuorumResponse> NetworkTransport::describe_quorum(int32_t to, Deadline deadline) {
  return call<DescribeQuorumRequest, DescribeQuorumResponse>(to, RaftApi::describe_quorum, DescribeQuorumRequest{}, deadline);
}

// --- server side ---

bool RaftRequestHandler::handles(int16_t api_key) {
  switch (static_cast<RaftApi>(api_key)) {
    case RaftApi::fetch:
    case RaftApi::vote:
    case RaftApi::begin_quorum_epoch:
    case RaftApi::end_quorum_epoch:
    case RaftApi::describe_quorum:
    case RaftApi::fetch_snapshot: return true;
  }
  return false;
}

namespace {

template <typename Req, typename Handler>
Response answer(int32_t correlation_id, ConstBytes body, int16_t version, Handler&& handler) {
  Result<Req> request = kafka::decode<Req>(body, version);
  if (!request.ok()) return Response::close();
  auto response = handler(*request);
  kafka::Writer w;
  w.i32(correlation_id);
  response.serde(w, version);
  return Response::reply(w.take_bytes());
}

}  // namespace

Response RaftRequestHandler::handle(const ConnectionInfo& connection, std::vector<std::byte> frame) {
  kafka::Reader r(frame);
  kafka::RequestHeader header;
  header.serde(r);
  if (!r.ok()) return Response::close();
  if (!handles(header.api_key)) {
    return fallback_ != nullptr ? fallback_->handle(connection, std::move(frame)) : Response::close();
  }
  if (header.api_version != kVersion) return Response::close();
  const ConstBytes body = ConstBytes(frame).subspan(r.position());
  const int32_t id = header.correlation_id;
  switch (static_cast<RaftApi>(header.api_key)) {
    case RaftApi::vote: return answer<VoteRequest>(id, body, kVersion, [&](const auto& q) { return client_.handle_vote(q); });
    case RaftApi::begin_quorum_epoch:
      return answer<BeginQuorumEpochRequest>(id, body, kVersion, [&](const auto& q) { return client_.handle_begin_quorum_epoch(q); });
    case RaftApi::end_quorum_epoch:
      return answer<EndQuorumEpochRequest>(id, body, kVersion, [&](const auto& q) { return client_.handle_end_quorum_epoch(q); });
    case RaftApi::fetch: return answer<FetchRequest>(id, body, kVersion, [&](const auto& q) { return client_.handle_fetch(q); });
    case RaftApi::fetch_snapshot:
      return answer<FetchSnapshotRequest>(id, body, kVersion, [&](const auto& q) { return client_.handle_fetch_snapshot(q); });
    case RaftApi::describe_quorum:
      return answer<DescribeQuorumRequest>(id, body, kVersion, [&](const auto& q) { return client_.handle_describe_quorum(q); });
  }
  return Response::close();
}

void RaftRequestHandler::on_close(const ConnectionInfo& connection) {
  if (fallback_ != nullptr) fallback_->on_close(connection);
}

}  // namespace samsa::raft
