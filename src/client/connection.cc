#include "client/connection.h"

#include "net/framing.h"
#include "protocol/errors.h"

namespace samsa::client {

using namespace samsa::kafka;

Connection::Connection(Runtime& rt, std::unique_ptr<Socket> socket, Address address, std::string client_id)
    : rt_(rt), socket_(std::move(socket)), address_(std::move(address)), client_id_(std::move(client_id)), mu_(rt) {}

Result<std::unique_ptr<Connection>> Connection::open(Runtime& rt, const Address& address, const std::string& client_id,
                                                     Deadline deadline) {
  std::unique_ptr<Socket> socket;
  SAMSA_TRY_ASSIGN(socket, rt.connect(address, deadline));
  std::unique_ptr<Connection> c(new Connection(rt, std::move(socket), address, client_id));
  SAMSA_TRY(c->negotiate(deadline));
  return c;
}

Status Connection::negotiate(Deadline deadline) {
  ApiVersionsRequest req;
  req.client_software_name = "samsa";
  req.client_software_version = "1.0";
  // v3 first; a broker that does not know it answers UNSUPPORTED_VERSION in a v0 body.
  for (int16_t v : {int16_t{3}, int16_t{0}}) {
    Result<ApiVersionsResponse> resp = call<ApiVersionsRequest, ApiVersionsResponse>(ApiKey::api_versions, v, req, deadline);
    if (!resp.ok() && v == 3) continue;  // an older broker may answer v3 with a shorter v0 body
    if (!resp.ok()) return resp.status();
    if (resp->error_code == code(Error::unsupported_version)) continue;
    if (resp->error_code != 0) return Errc::invalid_argument;
    for (const auto& k : resp->api_keys) broker_versions_[k.api_key] = {k.min_version, k.max_version};
    return Status{};
  }
  return Errc::invalid_argument;
}

std::optional<int16_t> Connection::version(ApiKey key, int16_t ours_max) const {
  auto it = broker_versions_.find(static_cast<int16_t>(key));
  if (it == broker_versions_.end()) return std::nullopt;
  const int16_t v = std::min(ours_max, it->second.second);
  if (v < it->second.first) return std::nullopt;
  return v;
}

Result<Connection::Answer> Connection::roundtrip(ApiKey key, int16_t version, std::vector<std::byte> body, bool expect_response,
                                                  Deadline deadline) {
  if (broken_) return Errc::connection_reset;
  if (rt_.buggify("client.drop_connection")) {  // as a NAT or a load balancer might, before sending
    broken_ = true;
    socket_->close();
    return Errc::connection_reset;
  }
  SAMSA_TRY(mu_.lock(deadline));
  LockGuard guard(mu_);
  RequestHeader h{.api_key = static_cast<int16_t>(key), .api_version = version, .correlation_id = next_correlation_++,
                  .client_id = client_id_};
  Writer w;
  h.serde(w, request_header_version(key, version));
  std::vector<std::byte> frame = w.take_bytes();
  frame.insert(frame.end(), body.begin(), body.end());
  if (Status s = write_frame(*socket_, frame, deadline); !s.ok()) {
    broken_ = true;  // an unknown prefix went out: the stream is unusable
    return s;
  }
  if (!expect_response) return Answer{};
  Result<FrameBuffer> resp = read_frame(*socket_, kResponseBytesMax, deadline);
  if (!resp.ok()) {
    broken_ = true;
    return resp.status();
  }
  Reader r(*resp);
  ResponseHeader rh;
  rh.serde(r, response_header_version(key, version));
  if (!r.ok() || rh.correlation_id != h.correlation_id) {
    broken_ = true;
    return Errc::corrupt;
  }
  return Answer{std::make_shared<const FrameBuffer>(std::move(*resp)), r.position()};
}

}  // namespace samsa::client
