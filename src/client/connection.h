// A client connection to one broker: Kafka request/response framing with correlation ids,
// ApiVersions negotiation on connect (v3, falling back to v0 when the broker answers
// UNSUPPORTED_VERSION), request header v1 or v2 and response header v0 or v1 by the API version's
// flexibility, and a mutex so fibers share it one request at a time.
//
// Threading: fibers of one node.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "net/framing.h"
#include "protocol/messages.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::client {

class Connection {
 public:
  static constexpr uint32_t kResponseBytesMax = 128 * 1024 * 1024;

  static Result<std::unique_ptr<Connection>> open(Runtime& rt, const Address& address, const std::string& client_id,
                                                  Deadline deadline);

  // The version to use for `key`: the highest both sides support, capped at `ours_max`.
  std::optional<int16_t> version(kafka::ApiKey key, int16_t ours_max) const;

  template <typename Req, typename Resp>
  Result<Resp> call(kafka::ApiKey key, int16_t version, Req& request, Deadline deadline) {
    Result<Answer> answer = roundtrip(key, version, kafka::encode(request, version), true, deadline);
    if (!answer.ok()) return answer.status();
    const ConstBytes body = ConstBytes(*answer->frame).subspan(answer->body_at);
    return kafka::decode_shared<Resp>(body, std::move(answer->frame), version);
  }
  // For acks=0 produce: sends and does not wait for an answer.
  template <typename Req>
  Status send_only(kafka::ApiKey key, int16_t version, Req& request, Deadline deadline) {
    return roundtrip(key, version, kafka::encode(request, version), false, deadline).status();
  }

  const Address& address() const { return address_; }
  bool broken() const { return broken_; }

 private:
  Connection(Runtime& rt, std::unique_ptr<Socket> socket, Address address, std::string client_id);
  // A response frame and where its body starts (after the response header). Shared, so that
  // the decoded response's records are views into it rather than copies.
  struct Answer {
    std::shared_ptr<const FrameBuffer> frame;
    size_t body_at = 0;
  };
  Result<Answer> roundtrip(kafka::ApiKey key, int16_t version, std::vector<std::byte> body, bool expect_response,
                           Deadline deadline);
  Status negotiate(Deadline deadline);

  Runtime& rt_;
  std::unique_ptr<Socket> socket_;
  Address address_;
  std::string client_id_;
  Mutex mu_;
  int32_t next_correlation_ = 1;
  bool broken_ = false;
  std::map<int16_t, std::pair<int16_t, int16_t>> broker_versions_;
};

}  // namespace samsa::client
