#include "server/controller_apis.h"

#include "broker/request_handler.h"

namespace samsa::server {

using namespace samsa::kafka;

namespace {

struct ControllerApi {
  ApiKey key;
  int16_t min_version, max_version;
};
// Within what schema/*.def describes (the generated codecs check it).
constexpr ControllerApi kControllerApis[] = {
    {ApiKey::api_versions, 0, 3},        {ApiKey::create_topics, 0, 7},    {ApiKey::delete_topics, 0, 6},
    {ApiKey::create_partitions, 0, 3},   {ApiKey::broker_registration, 0, 3}, {ApiKey::broker_heartbeat, 0, 1}, {ApiKey::elect_leaders, 0, 2},
    {ApiKey::alter_partition, 0, 3},     {ApiKey::alter_configs, 0, 2},    {ApiKey::incremental_alter_configs, 0, 1},
};

const ControllerApi* find_api(int16_t key) {
  for (const ControllerApi& a : kControllerApis) {
    if (static_cast<int16_t>(a.key) == key) return &a;
  }
  return nullptr;
}

Response api_versions(const RequestHeader& h, int16_t version, int16_t error) {
  ApiVersionsResponse resp;
  resp.error_code = error;
  for (const ControllerApi& a : kControllerApis) {
    resp.api_keys.push_back({.api_key = static_cast<int16_t>(a.key), .min_version = a.min_version, .max_version = a.max_version});
  }
  return broker::make_reply(h, resp, version);
}

template <typename Req, typename F>
Response with(const RequestHeader& h, ConstBytes body, F&& handler) {
  Result<Req> req = decode<Req>(body, h.api_version);
  if (!req.ok()) return Response::close();
  auto resp = handler(*req);
  return broker::make_reply(h, resp, h.api_version);
}

}  // namespace

Response ControllerApis::handle(const ConnectionInfo&, FrameBuffer frame) {
  Reader r(frame);
  RequestHeader h;
  r.i16(h.api_key);
  r.i16(h.api_version);
  r.i32(h.correlation_id);
  if (!r.ok()) return Response::close();
  const ControllerApi* api = find_api(h.api_key);
  if (api == nullptr) return Response::close();
  if (h.api_version < api->min_version || h.api_version > api->max_version) {
    if (api->key == ApiKey::api_versions) return api_versions(h, 0, code(Error::unsupported_version));
    return Response::close();
  }
  Reader hr(frame);
  h.serde(hr, request_header_version(api->key, h.api_version));
  if (!hr.ok()) return Response::close();
  return dispatch(h, ConstBytes(frame).subspan(hr.position()));
}

Response ControllerApis::dispatch(const RequestHeader& h, ConstBytes body) {
  switch (static_cast<ApiKey>(h.api_key)) {
    case ApiKey::api_versions: return api_versions(h, h.api_version, 0);
    case ApiKey::broker_registration:
      return with<BrokerRegistrationRequest>(h, body, [&](auto& q) { return controller_.register_broker(q); });
    case ApiKey::broker_heartbeat:
      return with<BrokerHeartbeatRequest>(h, body, [&](auto& q) { return controller_.heartbeat(q); });
    case ApiKey::create_topics:
      return with<CreateTopicsRequest>(h, body, [&](auto& q) { return controller_.create_topics(q); });
    case ApiKey::delete_topics:
      return with<DeleteTopicsRequest>(h, body, [&](auto& q) { return controller_.delete_topics(q); });
    case ApiKey::create_partitions:
      return with<CreatePartitionsRequest>(h, body, [&](auto& q) { return controller_.create_partitions(q); });
    case ApiKey::elect_leaders:
      return with<ElectLeadersRequest>(h, body, [&](auto& q) { return controller_.elect_leaders(q); });
    case ApiKey::alter_configs:
      return with<AlterConfigsRequest>(h, body, [&](auto& q) { return controller_.alter_configs(q); });
    case ApiKey::incremental_alter_configs:
      return with<IncrementalAlterConfigsRequest>(h, body, [&](auto& q) { return controller_.incremental_alter_configs(q); });
    case ApiKey::alter_partition:
      return with<AlterPartitionRequest>(h, body, [&](auto& q) { return controller_.alter_partition(q, h.api_version); });
    default: return Response::close();
  }
}

}  // namespace samsa::server
