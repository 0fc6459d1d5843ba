// The consumer-group APIs of RequestHandler: thin decoding and encoding around GroupCoordinator.
#include "broker/request_handler.h"
#include "protocol/group_messages.h"
#include "runtime/log.h"

namespace samsa::broker {

using namespace samsa::kafka;

FindCoordinatorResponse::Coordinator RequestHandler::coordinator_for(const std::string& key, int8_t key_type) const {
  FindCoordinatorResponse::Coordinator c;
  c.key = key;
  if (key_type != 0) {
    c.error_code = code(Error::coordinator_not_available);  // no transactions yet
    c.error_message = "transaction coordinator not supported";
  } else {
    c.node_id = config_.node_id;
    c.host = advertised_.host;
    c.port = advertised_.port;
  }
  return c;
}

Response RequestHandler::dispatch_groups(const RequestHeader& h, ConstBytes body, const ConnectionInfo& connection) {
  auto with = [&](auto request, auto&& handler) {
    return with_request<decltype(request)>(h, body, handler);
  };
  const int16_t v = h.api_version;
  switch (static_cast<ApiKey>(h.api_key)) {
    case ApiKey::find_coordinator:
      return with(FindCoordinatorRequest{}, [&](FindCoordinatorRequest& r) {
        FindCoordinatorResponse resp;
        if (v >= 4) {  // several keys at once
          for (const std::string& key : r.coordinator_keys) resp.coordinators.push_back(coordinator_for(key, r.key_type));
        } else {
          FindCoordinatorResponse::Coordinator c = coordinator_for(r.key, r.key_type);
          resp.error_code = c.error_code;
          resp.error_message = c.error_message;
          resp.node_id = c.node_id;
          resp.host = c.host;
          resp.port = c.port;
        }
        return make_reply(h, resp, v);
      });
    case ApiKey::join_group:
      return with(JoinGroupRequest{}, [&](JoinGroupRequest& r) {
        JoinGroupResponse resp = groups_.join(r, v, h.client_id.value_or(""), connection.peer.host);
        return make_reply(h, resp, v);
      });
    case ApiKey::sync_group:
      return with(SyncGroupRequest{}, [&](SyncGroupRequest& r) {
        SyncGroupResponse resp = groups_.sync(r);
        return make_reply(h, resp, v);
      });
    case ApiKey::heartbeat:
      return with(HeartbeatRequest{}, [&](HeartbeatRequest& r) {
        HeartbeatResponse resp;
        resp.error_code = code(groups_.heartbeat(r));
        return make_reply(h, resp, v);
      });
    case ApiKey::leave_group:
      return with(LeaveGroupRequest{}, [&](LeaveGroupRequest& r) {
        LeaveGroupResponse resp = groups_.leave(r, v);
        return make_reply(h, resp, v);
      });
    case ApiKey::offset_commit:
      return with(OffsetCommitRequest{}, [&](OffsetCommitRequest& r) {
        OffsetCommitResponse resp = groups_.commit(r);
        return make_reply(h, resp, v);
      });
    case ApiKey::offset_fetch:
      return with(OffsetFetchRequest{}, [&](OffsetFetchRequest& r) {
        OffsetFetchResponse resp = groups_.fetch_offsets(r);
        return make_reply(h, resp, v);
      });
    case ApiKey::list_groups:
      return with(ListGroupsRequest{}, [&](ListGroupsRequest& r) {
        ListGroupsResponse resp = groups_.list(r.states_filter);
        return make_reply(h, resp, v);
      });
    case ApiKey::describe_groups:
      return with(DescribeGroupsRequest{}, [&](DescribeGroupsRequest& r) {
        DescribeGroupsResponse resp = groups_.describe(r);
        return make_reply(h, resp, v);
      });
    default: return Response::close();
  }
}

}  // namespace samsa::broker
