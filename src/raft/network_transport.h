// The quorum RPCs over the Runtime's network (the CONTROLLER listener).
//
// NetworkTransport (client side): one connection per voter, opened on first use and reopened
// after any failure with exponential backoff. Requests carry Kafka's request header v1 (api key,
// version, correlation id, client id) in 4-byte size-prefixed frames; a response must echo the
// correlation id. One request at a time per connection (the server answers in order), so a
// request to a voter waits behind a long-polling Fetch to it for at most the fetch max wait.
// A timeout or a mismatched response closes the connection: its byte stream is unusable.
//
// RaftRequestHandler (server side): a FrameHandler that decodes the quorum RPCs and calls the
// RaftClient; frames with other api keys go to an optional fallback handler (the controller's
// RPCs on the same listener), or close the connection.
//
// Threading: fibers of one node. NetworkTransport must outlive the RaftClient using it; its
// destructor closes sockets and never suspends.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "net/frame_server.h"
#include "raft/raft_client.h"
#include "runtime/sync.h"

namespace samsa::raft {

class NetworkTransport final : public RaftTransport {
 public:
  static constexpr uint32_t kResponseBytesMax = 64 * 1024 * 1024;
  static constexpr Duration kReconnectBackoffMin = std::chrono::milliseconds(50);
  static constexpr Duration kReconnectBackoffMax = std::chrono::seconds(1);

  NetworkTransport(Runtime& rt, const std::map<int32_t, Address>& voters, std::string client_id);
  ~NetworkTransport() override;

  Result<VoteResponse> vote(int32_t to, const VoteRequest& request, Deadline deadline) override;
  Result<BeginQuorumEpochResponse> begin_quorum_epoch(int32_t to, const BeginQuorumEpochRequest& request,
                                                      Deadline deadline) override;
  Result<EndQuorumEpochResponse> end_quorum_epoch(int32_t to, const EndQuorumEpochRequest& request, Deadline deadline) override;
  Result<FetchResponse> fetch(int32_t to, const FetchRequest& request, Deadline deadline) override;
  Result<FetchSnapshotResponse> fetch_snapshot(int32_t to, const FetchSnapshotRequest& request, Deadline deadline) override;
  // DescribeQuorum, for tools (samsa metadata-quorum).
  Result<DescribeQuorumResponse> describe_quorum(int32_t to, Deadline deadline);

  // Closes every connection (pending calls fail); later calls reconnect.
  void close_all();

 private:
  struct Peer {
    explicit Peer(Runtime& rt, Address a) : address(std::move(a)), mu(rt) {}
    Address address;
    std::unique_ptr<Socket> socket;
    Mutex mu;
    int32_t next_correlation = 1;
    Instant reconnect_at{};
    Duration backoff = kReconnectBackoffMin;
  };

  template <typename Req, typename Resp>
  Result<Resp> call(int32_t to, RaftApi api, const Req& request, Deadline deadline);
  Result<std::vector<std::byte>> roundtrip(Peer& peer, RaftApi api, std::vector<std::byte> body, Deadline deadline);
  Status ensure_connected(Peer& peer, Deadline deadline);

  Runtime& rt_;
  std::string client_id_;
  std::map<int32_t, std::unique_ptr<Peer>> peers_;
};

class RaftRequestHandler final : public FrameHandler {
 public:
  explicit RaftRequestHandler(RaftClient& client, FrameHandler* fallback = nullptr) : client_(client), fallback_(fallback) {}
  // Answers DescribeQuorum with `describe` instead of the client's own view (a broker listener
  // forwards it to the leader, as Kafka's brokers forward to the active controller). May suspend.
  void set_describe(std::function<DescribeQuorumResponse(const DescribeQuorumRequest&)> describe) {
    describe_ = std::move(describe);
  }
  Response handle(const ConnectionInfo& connection, FrameBuffer frame) override;
  void on_close(const ConnectionInfo& connection) override;

 private:
  RaftClient& client_;
  FrameHandler* fallback_;
  std::function<DescribeQuorumResponse(const DescribeQuorumRequest&)> describe_;
};

}  // namespace samsa::raft
