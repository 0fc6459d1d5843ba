// The consumer-group APIs of RequestHandler: thin decoding and encoding around GroupCoordinator.
#include "broker/offsets_store.h"
#include "broker/request_handler.h"
#include "protocol/group_messages.h"
#include "runtime/log.h"

namespace samsa::broker {

using namespace samsa::kafka;

FindCoordinatorResponse::Coordinator RequestHandler::coordinator_for(const std::string& key, int8_t key_type) {
  FindCoordinatorResponse::Coordinator c;
  c.key = key;
  if (key_type == 0 && cluster_ != nullptr) return coordinator_from_image(key);
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

// Commits to partitions that do not exist are answered UNKNOWN_TOPIC_OR_PARTITION per partition
// before the coordinator sees them, as Kafka does; the rest are committed as usual. The answer
// keeps the request's order.
OffsetCommitResponse RequestHandler::commit_known_partitions(OffsetCommitRequest& req) {
  const OffsetCommitRequest original = req;
  for (auto& t : req.topics) {
    const std::optional<TopicInfo> info = topic_info(t.name);
    std::erase_if(t.partitions, [&](const auto& p) {
      return !info || p.partition_index < 0 || p.partition_index >= info->partitions;
    });
  }
  std::erase_if(req.topics, [](const auto& t) { return t.partitions.empty(); });
  const OffsetCommitResponse committed = groups_.commit(req);
  std::map<model::TopicPartition, int16_t> errors;
  for (const auto& t : committed.topics) {
    for (const auto& p : t.partitions) errors[{t.name, p.partition_index}] = p.error_code;
  }
  OffsetCommitResponse resp;
  for (const auto& t : original.topics) {
    OffsetCommitResponse::Topic out{.name = t.name};
    for (const auto& p : t.partitions) {
      auto it = errors.find({t.name, p.partition_index});
      const int16_t e = it != errors.end() ? it->second : code(Error::unknown_topic_or_partition);
      out.partitions.push_back({.partition_index = p.partition_index, .error_code = e});
    }
    resp.topics.push_back(std::move(out));
  }
  return resp;
}

Error RequestHandler::coordinator_error(const std::string& group_id) const {
  if (cluster_ == nullptr) return Error::none;
  if (!cluster_->ready()) return Error::not_coordinator;
  const Error e = groups_.serves(group_id);
  if (e != Error::not_coordinator) return e;
  // The image already names this broker the partition's leader, but its log is still being
  // opened (the coordinator hosts it from the next reconciliation): the client should wait here
  // rather than look elsewhere.
  int32_t partition = -1;
  const controller::PartitionState* p = offsets_partition_of(cluster_->image(), group_id, &partition);
  return p != nullptr && p->leader == config_.node_id ? Error::coordinator_load_in_progress : e;
}

namespace {

// A group request sent to a broker that is not the group's coordinator: NOT_COORDINATOR, so
// the client asks FindCoordinator again (its coordinator moved, or it asked the wrong broker),
// or COORDINATOR_LOAD_IN_PROGRESS while its groups load here.
OffsetCommitResponse not_coordinator_commit(const OffsetCommitRequest& req, Error e) {
  OffsetCommitResponse resp;
  for (const auto& t : req.topics) {
    OffsetCommitResponse::Topic out{.name = t.name};
    for (const auto& p : t.partitions) {
      out.partitions.push_back({.partition_index = p.partition_index, .error_code = code(e)});
    }
    resp.topics.push_back(std::move(out));
  }
  return resp;
}

OffsetFetchResponse not_coordinator_fetch(const OffsetFetchRequest& req, Error e) {
  OffsetFetchResponse resp;
  resp.error_code = code(e);  // v2+
  for (const auto& t : req.topics.value_or(std::vector<OffsetFetchRequest::Topic>{})) {
    OffsetFetchResponse::Topic out{.name = t.name};
    for (int32_t index : t.partition_indexes) {  // v0-1 have only per-partition errors
      OffsetFetchResponse::Partition part;
      part.partition_index = index;
      part.error_code = code(e);
      out.partitions.push_back(std::move(part));
    }
    resp.topics.push_back(std::move(out));
  }
  return resp;
}

}  // namespace

Response RequestHandler::dispatch_groups(const RequestHeader& h, ConstBytes body, const ConnectionInfo& connection) {
  auto with = [&](auto request, auto&& handler) {
    return with_request<decltype(request)>(h, body, handler);
  };
  const int16_t v = h.api_version;
  // JoinGroup, SyncGroup, Heartbeat and LeaveGroup answer one top-level error code.
  auto refuse = [&](auto resp, Error e) {
    resp.error_code = code(e);
    return make_reply(h, resp, v);
  };
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
        if (const Error e = coordinator_error(r.group_id); e != Error::none) return refuse(JoinGroupResponse{}, e);
        JoinGroupResponse resp = groups_.join(r, v, h.client_id.value_or(""), connection.peer.host);
        return make_reply(h, resp, v);
      });
    case ApiKey::sync_group:
      return with(SyncGroupRequest{}, [&](SyncGroupRequest& r) {
        if (const Error e = coordinator_error(r.group_id); e != Error::none) return refuse(SyncGroupResponse{}, e);
        SyncGroupResponse resp = groups_.sync(r);
        return make_reply(h, resp, v);
      });
    case ApiKey::heartbeat:
      return with(HeartbeatRequest{}, [&](HeartbeatRequest& r) {
        if (const Error e = coordinator_error(r.group_id); e != Error::none) return refuse(HeartbeatResponse{}, e);
        HeartbeatResponse resp;
        resp.error_code = code(groups_.heartbeat(r));
        return make_reply(h, resp, v);
      });
    case ApiKey::leave_group:
      return with(LeaveGroupRequest{}, [&](LeaveGroupRequest& r) {
        if (const Error e = coordinator_error(r.group_id); e != Error::none) return refuse(LeaveGroupResponse{}, e);
        LeaveGroupResponse resp = groups_.leave(r, v);
        return make_reply(h, resp, v);
      });
    case ApiKey::offset_commit:
      return with(OffsetCommitRequest{}, [&](OffsetCommitRequest& r) {
        const Error e = coordinator_error(r.group_id);
        OffsetCommitResponse resp = e == Error::none ? commit_known_partitions(r) : not_coordinator_commit(r, e);
        return make_reply(h, resp, v);
      });
    case ApiKey::offset_fetch:
      return with(OffsetFetchRequest{}, [&](OffsetFetchRequest& r) {
        const Error e = coordinator_error(r.group_id);
        OffsetFetchResponse resp = e == Error::none ? groups_.fetch_offsets(r) : not_coordinator_fetch(r, e);
        return make_reply(h, resp, v);
      });
    case ApiKey::list_groups:
      return with(ListGroupsRequest{}, [&](ListGroupsRequest& r) {
        ListGroupsResponse resp;
        // Kafka's answer while a partition of the offsets topic loads here (the list would be
        // partial); a cluster broker that has not caught up knows no groups yet.
        if (cluster_ != nullptr && !cluster_->ready()) resp.error_code = code(Error::coordinator_not_available);
        else if (groups_.loading()) resp.error_code = code(Error::coordinator_load_in_progress);
        else resp = groups_.list(r.states_filter);
        return make_reply(h, resp, v);
      });
    case ApiKey::describe_groups:
      return with(DescribeGroupsRequest{}, [&](DescribeGroupsRequest& r) {
        DescribeGroupsResponse resp = groups_.describe(r);
        for (auto& g : resp.groups) {
          if (const Error e = coordinator_error(g.group_id); e != Error::none) g = {.error_code = code(e), .group_id = g.group_id};
        }
        return make_reply(h, resp, v);
      });
    default: return dispatch_admin(h, body);
  }
}

}  // namespace samsa::broker
