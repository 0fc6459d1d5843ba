#include "raft/network_transport.h"

#include "net/framing.h"
#include "raft/raft_wire.h"
#include "runtime/log.h"

namespace samsa::raft {

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
  const int32_t correlation_id = peer.next_correlation++;
  const std::vector<std::byte> frame = wire::request_frame(api, correlation_id, client_id_, body);
  auto broken = [&](Status s) {
    peer.socket.reset();  // an unknown part of the stream is in flight: start afresh
    return s;
  };
  if (Status s = write_frame(*peer.socket, frame, deadline); !s.ok()) return broken(s);
  Result<FrameBuffer> response = read_frame(*peer.socket, kResponseBytesMax, deadline);
  if (!response.ok()) return broken(response.status());
  Result<std::vector<std::byte>> payload = wire::response_body(api, correlation_id, *response);
  if (!payload.ok()) return broken(payload.status());
  return payload;
}

template <typename Req, typename Resp>
Result<Resp> NetworkTransport::call(int32_t to, RaftApi api, const Req& request, Deadline deadline) {
  auto it = peers_.find(to);
  if (it == peers_.end()) return Errc::host_unreachable;
  Result<std::vector<std::byte>> body = roundtrip(*it->second, api, wire::encode(request), deadline);
  if (!body.ok()) return body.status();
  return wire::decode<Resp>(*body);
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

namespace {

template <typename Req, typename Handler>
Response answer(const wire::RequestHead& head, ConstBytes body, Handler&& handler) {
  Result<Req> request = wire::decode<Req>(body);
  if (!request.ok()) return Response::close();
  return Response::reply(wire::response_frame(head.api, head.correlation_id, wire::encode(handler(*request))));
}

}  // namespace

Response RaftRequestHandler::handle(const ConnectionInfo& connection, FrameBuffer frame) {
  Result<wire::RequestHead> head = wire::parse_request_head(frame);
  if (head.error() == Errc::not_found) {
    return fallback_ != nullptr ? fallback_->handle(connection, std::move(frame)) : Response::close();
  }
  if (!head.ok()) return Response::close();
  const ConstBytes body = ConstBytes(frame).subspan(head->body_offset);
  switch (head->api) {
    case RaftApi::vote: return answer<VoteRequest>(*head, body, [&](const auto& q) { return client_.handle_vote(q); });
    case RaftApi::begin_quorum_epoch:
      return answer<BeginQuorumEpochRequest>(*head, body, [&](const auto& q) { return client_.handle_begin_quorum_epoch(q); });
    case RaftApi::end_quorum_epoch:
      return answer<EndQuorumEpochRequest>(*head, body, [&](const auto& q) { return client_.handle_end_quorum_epoch(q); });
    case RaftApi::fetch: return answer<FetchRequest>(*head, body, [&](const auto& q) { return client_.handle_fetch(q); });
    case RaftApi::fetch_snapshot:
      return answer<FetchSnapshotRequest>(*head, body, [&](const auto& q) { return client_.handle_fetch_snapshot(q); });
    case RaftApi::describe_quorum:
      return answer<DescribeQuorumRequest>(*head, body, [&](const auto& q) {
        return describe_ ? describe_(q) : client_.handle_describe_quorum(q);
      });
  }
  return Response::close();
}

void RaftRequestHandler::on_close(const ConnectionInfo& connection) {
  if (fallback_ != nullptr) fallback_->on_close(connection);
}

}  // namespace samsa::raft
