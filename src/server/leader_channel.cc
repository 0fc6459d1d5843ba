#include "server/leader_channel.h"

#include <fmt/format.h>

#include "broker/request_handler.h"

namespace samsa::server {

Result<client::Connection*> LeaderConnections::connection(int32_t leader, Deadline deadline) {
  auto it = connections_.find(leader);
  if (it != connections_.end() && !it->second->broken()) return it->second.get();
  if (it != connections_.end()) connections_.erase(it);
  const controller::BrokerRegistration* b = metadata_.image().broker(leader);
  if (b == nullptr) return Errc::unavailable;
  std::optional<Address> address;
  for (const controller::BrokerEndpoint& e : b->endpoints) {
    if (e.name == broker::kBrokerListenerName || !address) address = Address{e.host, e.port};
  }
  if (!address) return Errc::unavailable;
  std::unique_ptr<client::Connection> c;
  SAMSA_TRY_ASSIGN(c, client::Connection::open(rt_, *address, fmt::format("samsa-replica-{}", self_), deadline));
  client::Connection* raw = c.get();
  connections_[leader] = std::move(c);  // the open suspended: a stale entry is replaced
  return raw;
}

Result<kafka::FetchResponse> LeaderConnections::fetch(int32_t leader, kafka::FetchRequest& request, int16_t version,
                                                      Deadline deadline) {
  client::Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, connection(leader, deadline));
  // The highest version both speak (a leader of an older samsa serves v12: names, no epoch).
  const std::optional<int16_t> v = c->version(kafka::ApiKey::fetch, version);
  if (!v) {
    connections_.erase(leader);  // asked again on a new connection after the fetcher's backoff
    return Errc::unavailable;
  }
  Result<kafka::FetchResponse> r = c->call<kafka::FetchRequest, kafka::FetchResponse>(kafka::ApiKey::fetch, *v, request, deadline);
  if (!r.ok()) connections_.erase(leader);
  return r;
}

}  // namespace samsa::server
