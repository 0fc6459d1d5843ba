#include "broker/request_handler.h"
#include "broker/topic_config.h"

#include "protocol/api_versions.h"
#include "runtime/log.h"

namespace samsa::broker {

using namespace samsa::kafka;

RequestHandler::RequestHandler(Runtime& rt, const BrokerConfig& config, TopicManager& topics, LogManager& logs,
                               const replication::PartitionTable& partitions, groups::GroupCoordinator& groups,
                               Address advertised)
    : rt_(rt),
      config_(config),
      topics_(topics),
      logs_(logs),
      partitions_(partitions),
      groups_(groups),
      advertised_(std::move(advertised)) {}

Response RequestHandler::handle(const ConnectionInfo& connection, FrameBuffer frame) {
  ++stats_.requests;
  Reader r(frame);
  RequestHeader h;
  r.i16(h.api_key);
  r.i16(h.api_version);
  r.i32(h.correlation_id);
  if (!r.ok()) {
    ++stats_.closed_malformed;
    return Response::close();
  }
  if (describe_quorum_ != nullptr && static_cast<ApiKey>(h.api_key) == ApiKey::describe_quorum) {
    return describe_quorum_->handle(connection, std::move(frame));
  }
  const std::optional<ApiRange> range = supported_range(h.api_key);
  if (!range) {
    ++stats_.closed_unknown_api;
    logf(rt_, LogLevel::warn, "connection {} from {}: unknown API key {}, closing", connection.id,
         connection.peer.to_string(), h.api_key);
    return Response::close();
  }
  if (h.api_version < range->min_version || h.api_version > range->max_version) {
    if (static_cast<ApiKey>(h.api_key) == ApiKey::api_versions) {
      return api_versions(h, 0, code(Error::unsupported_version));  // v0 body, as clients expect
    }
    ++stats_.closed_unsupported_version;
    logf(rt_, LogLevel::warn, "connection {}: API {} version {} not supported, closing", connection.id, h.api_key,
         h.api_version);
    return Response::close();
  }
  // The whole header again, now that its version is known (client id, and tags in v2).
  Reader hr(frame);
  h.serde(hr, request_header_version(static_cast<ApiKey>(h.api_key), h.api_version));
  if (!hr.ok()) {
    ++stats_.closed_malformed;
    return Response::close();
  }
  const size_t body_at = hr.position();
  const auto shared = std::make_shared<const FrameBuffer>(std::move(frame));  // produce's records stay views into it
  return dispatch(h, ConstBytes(*shared).subspan(body_at), shared, connection);
}

Response RequestHandler::dispatch(const RequestHeader& h, ConstBytes body, const std::shared_ptr<const FrameBuffer>& frame,
                                  const ConnectionInfo& connection) {
  auto with = [&](auto request, auto&& handler) {
    return with_request<decltype(request)>(h, body, frame, handler);
  };
  switch (static_cast<ApiKey>(h.api_key)) {
    case ApiKey::api_versions:
      return with(ApiVersionsRequest{}, [&](ApiVersionsRequest&) { return api_versions(h, h.api_version, 0); });
    case ApiKey::metadata: return with(MetadataRequest{}, [&](MetadataRequest& r) { return metadata(h, r); });
    case ApiKey::create_topics:
      return with(CreateTopicsRequest{}, [&](CreateTopicsRequest& r) { return create_topics(h, r); });
    case ApiKey::delete_topics:
      return with(DeleteTopicsRequest{}, [&](DeleteTopicsRequest& r) { return delete_topics(h, r); });
    case ApiKey::produce: return with(ProduceRequest{}, [&](ProduceRequest& r) { return produce(h, r); });
    case ApiKey::fetch: return with(FetchRequest{}, [&](FetchRequest& r) { return fetch(h, r); });
    case ApiKey::list_offsets:
      return with(ListOffsetsRequest{}, [&](ListOffsetsRequest& r) { return list_offsets(h, r); });
    case ApiKey::offset_for_leader_epoch:
      return with(OffsetForLeaderEpochRequest{}, [&](OffsetForLeaderEpochRequest& r) { return offset_for_leader_epoch(h, r); });
    default: return dispatch_groups(h, body, connection);  // then dispatch_admin
  }
}

Response RequestHandler::malformed(const RequestHeader& h) {
  ++stats_.closed_malformed;
  logf(rt_, LogLevel::warn, "malformed request (API {} v{}), closing", h.api_key, h.api_version);
  return Response::close();
}

Response RequestHandler::api_versions(const RequestHeader& h, int16_t version, int16_t error) {
  ApiVersionsResponse resp;
  resp.error_code = error;
  for (const ApiRange& r : kSupportedApis) {
    resp.api_keys.push_back({.api_key = static_cast<int16_t>(r.key), .min_version = r.min_version, .max_version = r.max_version});
  }
  return make_reply(h, resp, version);
}

MetadataResponse::Topic RequestHandler::describe_topic(const std::string& name, bool allow_create) {
  MetadataResponse::Topic t;
  t.name = name;
  const TopicInfo* info = topics_.find(name);
  if (info == nullptr && allow_create && config_.auto_create_topics) {
    std::string message;
    Error e = topics_.create(name, -1, -1, {}, false, &message);
    if (e != Error::none && e != Error::topic_already_exists) {
      t.error_code = code(e);
      return t;
    }
    info = topics_.find(name);
  }
  if (info == nullptr) {
    t.error_code = code(TopicManager::valid_topic_name(name) ? Error::unknown_topic_or_partition : Error::invalid_topic_exception);
    return t;
  }
  t.topic_id = info->topic_id;
  for (int32_t p = 0; p < info->partitions; ++p) {
    MetadataResponse::Partition part;
    part.partition_index = p;
    part.leader_id = config_.node_id;
    part.leader_epoch = 0;  // the single broker's partitions never change leader
    part.replica_nodes = {config_.node_id};
    part.isr_nodes = {config_.node_id};
    t.partitions.push_back(std::move(part));
  }
  return t;
}

Response RequestHandler::metadata(const RequestHeader& h, MetadataRequest& req) {
  if (cluster_ != nullptr) return metadata_from_image(h, req);
  MetadataResponse resp;
  resp.brokers.push_back({.node_id = config_.node_id, .host = advertised_.host, .port = advertised_.port, .rack = std::nullopt});
  resp.cluster_id = topics_.cluster_id();
  resp.controller_id = config_.node_id;
  const bool allow_create = h.api_version < 4 || req.allow_auto_topic_creation;
  // v0: an empty list means every topic; v1+: a null list does.
  if (!req.topics || (h.api_version == 0 && req.topics->empty())) {
    for (const auto& [name, info] : topics_.topics()) resp.topics.push_back(describe_topic(name, false));
    return make_reply(h, resp, h.api_version);
  }
  for (const MetadataRequest::Topic& t : *req.topics) {
    if (t.name) {
      resp.topics.push_back(describe_topic(*t.name, allow_create));
      continue;
    }
    const TopicInfo* info = topics_.find_by_id(t.topic_id);  // v10+: by id, name null
    MetadataResponse::Topic out;
    if (info == nullptr) {
      out.name.reset();
      out.topic_id = t.topic_id;
      out.error_code = code(Error::unknown_topic_id);
    } else {
      out = describe_topic(info->name, false);
    }
    resp.topics.push_back(std::move(out));
  }
  return make_reply(h, resp, h.api_version);
}

Response RequestHandler::create_topics(const RequestHeader& h, CreateTopicsRequest& req) {
  if (cluster_ != nullptr) {
    // The internal topics are the brokers' to create (the offsets topic on the first
    // FindCoordinator), never a client's.
    CreateTopicsResponse refused;
    std::erase_if(req.topics, [&](const CreateTopicsRequest::Topic& t) {
      if (!internal_topic(t.name)) return false;
      refused.topics.push_back({.name = t.name, .error_code = code(Error::invalid_request),
                                .error_message = "Topic '" + t.name + "' is an internal topic and cannot be created"});
      return true;
    });
    CreateTopicsResponse forwarded = req.topics.empty() ? CreateTopicsResponse{} : cluster_->create_topics(req);
    for (auto& t : refused.topics) forwarded.topics.push_back(std::move(t));
    return make_reply(h, forwarded, h.api_version);
  }
  CreateTopicsResponse resp;
  for (CreateTopicsRequest::Topic& t : req.topics) {
    int32_t partitions = t.num_partitions;
    int16_t rf = t.replication_factor;
    if (!t.assignments.empty()) {  // manual assignment: its shape gives the counts
      partitions = static_cast<int32_t>(t.assignments.size());
      rf = static_cast<int16_t>(t.assignments.front().broker_ids.size());
    }
    std::map<std::string, std::string> configs;
    for (const auto& c : t.configs) {
      if (c.value) configs[c.name] = *c.value;
    }
    std::string message;
    Error e = topics_.create(t.name, partitions, rf, configs, req.validate_only, &message);
    CreateTopicsResponse::Topic out;
    out.name = t.name;
    out.error_code = code(e);
    if (e != Error::none) {
      out.error_message = message;
    } else if (const TopicInfo* info = topics_.find(t.name); info != nullptr || req.validate_only) {
      // v5+: what was created (or would be), v7+: its id.
      out.num_partitions = info != nullptr ? info->partitions : (partitions == -1 ? config_.num_partitions : partitions);
      out.replication_factor = info != nullptr ? info->replication_factor : (rf == -1 ? config_.default_replication_factor : rf);
      if (info != nullptr) {
        out.topic_id = info->topic_id;
        out.configs.emplace();
        for (const auto& [name, value] : describe_topic_configs(config_, info->configs)) {
          out.configs->push_back({.name = name, .value = value.first,
                                  .config_source = value.second ? DescribeConfigsResponse::kSourceTopic : DescribeConfigsResponse::kSourceDefault});
        }
      }
    }
    resp.topics.push_back(std::move(out));
  }
  return make_reply(h, resp, h.api_version);
}

Response RequestHandler::delete_topics(const RequestHeader& h, DeleteTopicsRequest& req) {
  if (cluster_ != nullptr) {
    // Deleting __consumer_offsets would delete every group's commits: refused, as Kafka does.
    DeleteTopicsResponse refused;
    auto refuse = [&](const std::string& name, const Uuid& id) {
      refused.responses.push_back({.name = name, .topic_id = id, .error_code = code(Error::invalid_request),
                                   .error_message = "Topic '" + name + "' is an internal topic and cannot be deleted"});
    };
    std::erase_if(req.topic_names, [&](const std::string& n) { return internal_topic(n) ? (refuse(n, Uuid{}), true) : false; });
    std::erase_if(req.topics, [&](const DeleteTopicsRequest::Topic& t) {
      const controller::TopicImage* by_id = t.topic_id != Uuid{} ? cluster_->image().topic_by_id(t.topic_id) : nullptr;
      const std::string name = t.name ? *t.name : by_id != nullptr ? by_id->name : std::string();
      return internal_topic(name) ? (refuse(name, t.topic_id), true) : false;
    });
    const bool none_left = req.topic_names.empty() && req.topics.empty();
    DeleteTopicsResponse forwarded = none_left ? DeleteTopicsResponse{} : cluster_->delete_topics(req);
    for (auto& t : refused.responses) forwarded.responses.push_back(std::move(t));
    return make_reply(h, forwarded, h.api_version);
  }
  DeleteTopicsResponse resp;
  auto remove = [&](const std::string& name, const Uuid& id) {
    DeleteTopicsResponse::Topic out;
    out.name = name;
    out.topic_id = id;
    out.error_code = code(topics_.remove(name));
    resp.responses.push_back(std::move(out));
  };
  for (const std::string& name : req.topic_names) remove(name, Uuid{});  // v0-5
  for (const DeleteTopicsRequest::Topic& t : req.topics) {               // v6+: by name or id
    if (t.name) {
      const TopicInfo* info = topics_.find(*t.name);
      remove(*t.name, info != nullptr ? info->topic_id : Uuid{});
    } else if (const TopicInfo* info = topics_.find_by_id(t.topic_id); info != nullptr) {
      remove(std::string(info->name), t.topic_id);
    } else {
      DeleteTopicsResponse::Topic out;
      out.topic_id = t.topic_id;
      out.error_code = code(Error::unknown_topic_id);
      resp.responses.push_back(std::move(out));
    }
  }
  return make_reply(h, resp, h.api_version);
}

}  // namespace samsa::broker
