// The admin APIs of RequestHandler: DescribeConfigs (topics and this broker), AlterConfigs and
// IncrementalAlterConfigs, CreatePartitions, DeleteRecords, DeleteGroups, OffsetDelete and
// DescribeCluster, as Kafka's tools and admin clients call them. In a KRaft cluster, topic
// configs are changed through the active controller and described from the metadata image;
// this broker's own (dynamic broker) configs stay its own.
#include <algorithm>

#include "broker/request_handler.h"
#include "runtime/log.h"

namespace samsa::broker {

using namespace samsa::kafka;

namespace {
constexpr int8_t kResourceTopic = DescribeConfigsRequest::kTopic;
constexpr int8_t kResourceBroker = DescribeConfigsRequest::kBroker;

// DescribeConfigs: a null key list asks for every config.
bool asked_for(const DescribeConfigsRequest::Resource& r, const std::string& name) {
  return !r.configuration_keys || std::find(r.configuration_keys->begin(), r.configuration_keys->end(), name) != r.configuration_keys->end();
}

template <typename Result>
Result resource_error(int8_t type, const std::string& name, Error e, std::string message) {
  Result r;
  r.resource_type = type;
  r.resource_name = name;
  r.error_code = code(e);
  if (e != Error::none) r.error_message = std::move(message);
  return r;
}

// AlterConfigs and IncrementalAlterConfigs. In a KRaft cluster a topic's configs are the
// metadata log's: the request's topic resources go to the active controller together
// (`forward`); the others (this broker's own configs) are answered here (`local`), and so is
// every resource of a single broker. The answers keep the request's order.
template <typename Resp, typename Req, typename Forward, typename Local>
Resp alter_config_resources(const Req& request, bool cluster, Forward&& forward, Local&& local) {
  using Result = typename decltype(Resp::responses)::value_type;
  Req topics = request;
  topics.resources.clear();
  for (const auto& res : request.resources) {
    if (cluster && res.resource_type == kResourceTopic) topics.resources.push_back(res);
  }
  Resp forwarded;
  if (!topics.resources.empty()) forwarded = forward(topics);
  Resp resp;
  size_t next = 0;
  for (const auto& res : request.resources) {
    if (!cluster || res.resource_type != kResourceTopic) {
      resp.responses.push_back(local(res));
    } else if (next < forwarded.responses.size()) {
      resp.responses.push_back(forwarded.responses[next++]);
    } else {
      resp.responses.push_back(resource_error<Result>(res.resource_type, res.resource_name, Error::unknown_server_error,
                                                      "the controller did not answer for this resource"));
    }
  }
  return resp;
}
}  // namespace

Response RequestHandler::dispatch_admin(const RequestHeader& h, ConstBytes body) {
  auto with = [&](auto request, auto&& handler) {
    return with_request<decltype(request)>(h, body, handler);
  };
  const int16_t v = h.api_version;
  switch (static_cast<ApiKey>(h.api_key)) {
    case ApiKey::describe_configs:
      return with(DescribeConfigsRequest{}, [&](DescribeConfigsRequest& r) {
        DescribeConfigsResponse resp;
        for (const auto& res : r.resources) resp.results.push_back(describe_config_resource(res));
        return make_reply(h, resp, v);
      });
    case ApiKey::alter_configs:
      return with(AlterConfigsRequest{}, [&](AlterConfigsRequest& r) {
        auto local = [&](const AlterConfigsRequest::Resource& res) {
          std::map<std::string, std::string> configs;  // the whole new set of overrides
          for (const auto& c : res.configs) {
            if (c.value) configs[c.name] = *c.value;
          }
          std::string message;
          Error e = alter_configs(res.resource_type, res.resource_name, configs, r.validate_only, &message);
          return resource_error<AlterConfigsResponse::Result>(res.resource_type, res.resource_name, e, message);
        };
        AlterConfigsResponse resp = alter_config_resources<AlterConfigsResponse>(
            r, cluster_ != nullptr, [&](const AlterConfigsRequest& topics) { return cluster_->alter_configs(topics); }, local);
        return make_reply(h, resp, v);
      });
    case ApiKey::incremental_alter_configs:
      return with(IncrementalAlterConfigsRequest{}, [&](IncrementalAlterConfigsRequest& r) {
        auto local = [&](const IncrementalAlterConfigsRequest::Resource& res) {
          const ConfigResource which{res.resource_type == kResourceBroker, res.resource_name};
          const auto* current = topics_.configs_of(which);
          std::map<std::string, std::string> configs = current != nullptr ? *current : std::map<std::string, std::string>{};
          Error e = Error::none;
          std::string message;
          if (std::optional<std::string> bad = apply_config_ops(res.configs, configs)) {
            e = Error::invalid_request;
            message = *bad;
          }
          if (e == Error::none) e = alter_configs(res.resource_type, res.resource_name, configs, r.validate_only, &message);
          return resource_error<IncrementalAlterConfigsResponse::Result>(res.resource_type, res.resource_name, e, message);
        };
        IncrementalAlterConfigsResponse resp = alter_config_resources<IncrementalAlterConfigsResponse>(
            r, cluster_ != nullptr,
            [&](const IncrementalAlterConfigsRequest& topics) { return cluster_->incremental_alter_configs(topics); }, local);
        return make_reply(h, resp, v);
      });
    case ApiKey::elect_leaders:
      return with(ElectLeadersRequest{}, [&](ElectLeadersRequest& r) {
        if (cluster_ != nullptr) {
          ElectLeadersResponse forwarded = cluster_->elect_leaders(r);
          return make_reply(h, forwarded, v);
        }
        // A single broker without a controller leads every partition it has: nothing to elect.
        ElectLeadersResponse resp;
        if (r.topic_partitions) {
          for (const auto& t : *r.topic_partitions) {
            auto& out = resp.replica_election_results.emplace_back();
            out.topic = t.topic;
            for (int32_t p : t.partitions) {
              const TopicInfo* info = topics_.find(t.topic);
              const bool exists = info != nullptr && p >= 0 && p < info->partitions;
              const Error e = exists ? Error::election_not_needed : Error::unknown_topic_or_partition;
              out.partition_result.push_back({.partition_id = p, .error_code = code(e), .error_message = std::string(error_name(e))});
            }
          }
        }
        return make_reply(h, resp, v);
      });
    case ApiKey::create_partitions:
      return with(CreatePartitionsRequest{}, [&](CreatePartitionsRequest& r) {
        if (cluster_ != nullptr) {
          CreatePartitionsResponse forwarded = cluster_->create_partitions(r);
          return make_reply(h, forwarded, v);
        }
        CreatePartitionsResponse resp;
        for (const auto& t : r.topics) {
          std::string message;
          Error e = topics_.add_partitions(t.name, t.count, r.validate_only, &message);
          resp.results.push_back({.name = t.name, .error_code = code(e),
                                  .error_message = e == Error::none ? std::nullopt : std::optional<std::string>(message)});
        }
        return make_reply(h, resp, v);
      });
    case ApiKey::delete_records:
      return with(DeleteRecordsRequest{}, [&](DeleteRecordsRequest& r) {
        DeleteRecordsResponse resp;
        for (const auto& t : r.topics) {
          DeleteRecordsResponse::Topic out{.name = t.name};
          for (const auto& p : t.partitions) out.partitions.push_back(delete_records(t.name, p));
          resp.topics.push_back(std::move(out));
        }
        return make_reply(h, resp, v);
      });
    case ApiKey::delete_groups:
      return with(DeleteGroupsRequest{}, [&](DeleteGroupsRequest& r) {
        // Each group at its own coordinator: those not served here are answered apart.
        DeleteGroupsRequest here;
        DeleteGroupsResponse elsewhere;
        for (const std::string& id : r.groups_names) {
          const Error e = coordinator_error(id);
          if (e == Error::none) here.groups_names.push_back(id);
          else elsewhere.results.push_back({.group_id = id, .error_code = code(e)});
        }
        DeleteGroupsResponse resp = groups_.delete_groups(here);
        for (auto& result : elsewhere.results) resp.results.push_back(std::move(result));
        return make_reply(h, resp, v);
      });
    case ApiKey::offset_delete:
      return with(OffsetDeleteRequest{}, [&](OffsetDeleteRequest& r) {
        OffsetDeleteResponse resp;
        if (const Error e = coordinator_error(r.group_id); e != Error::none) resp.error_code = code(e);
        else resp = groups_.delete_offsets(r);
        return make_reply(h, resp, v);
      });
    case ApiKey::describe_cluster:
      return with(DescribeClusterRequest{}, [&](DescribeClusterRequest&) {
        if (cluster_ != nullptr) {
          DescribeClusterResponse from_image = describe_cluster_from_image();
          return make_reply(h, from_image, v);
        }
        DescribeClusterResponse resp;
        resp.cluster_id = topics_.cluster_id();
        resp.controller_id = config_.node_id;
        resp.brokers.push_back({.broker_id = config_.node_id, .host = advertised_.host, .port = advertised_.port});
        return make_reply(h, resp, v);
      });
    default: return Response::close();
  }
}

Error RequestHandler::alter_configs(int8_t resource_type, const std::string& name, const std::map<std::string, std::string>& configs,
                                    bool validate_only, std::string* message) {
  if (resource_type == kResourceBroker) {
    if (!name.empty() && name != std::to_string(config_.node_id)) {
      *message = "Unknown broker " + name;
      return Error::invalid_request;
    }
    return topics_.set_configs({true, name}, configs, validate_only, message);
  }
  if (resource_type != kResourceTopic) {
    *message = "only topic and broker configs can be altered";
    return Error::invalid_request;
  }
  SAMSA_ASSERT(cluster_ == nullptr);  // a cluster's topic configs go to the controller
  return topics_.set_configs({false, name}, configs, validate_only, message);
}

// DeleteRecords: the log start moves up to `offset` (-1: the high watermark); the low watermark
// is answered. Beyond the high watermark: OFFSET_OUT_OF_RANGE.
DeleteRecordsResponse::Partition RequestHandler::delete_records(const std::string& topic, const DeleteRecordsRequest::Partition& p) {
  DeleteRecordsResponse::Partition out{.partition_index = p.partition_index, .low_watermark = -1};
  std::shared_ptr<replication::Partition> partition;
  std::shared_ptr<PartitionLog> log;
  if (Error e = serving(topic, p.partition_index, &partition, &log); e != Error::none) {
    out.error_code = code(e);
    return out;
  }
  const int64_t offset = p.offset == -1 ? partition->high_watermark() : p.offset;
  if (offset < 0 || offset > partition->high_watermark()) {
    out.error_code = code(Error::offset_out_of_range);
    return out;
  }
  if (Status s = log->advance_log_start(offset); !s.ok()) {
    out.error_code = code(error_from(s.code()));
    return out;
  }
  out.low_watermark = log->log_start_offset();
  logf(rt_, LogLevel::info, "records of {}-{} below {} deleted", topic, p.partition_index, out.low_watermark);
  return out;
}

DescribeConfigsResponse::Result RequestHandler::describe_config_resource(const DescribeConfigsRequest::Resource& r) const {
  if (r.resource_type == kResourceBroker) return describe_broker_configs(r);
  DescribeConfigsResponse::Result out;
  out.resource_type = r.resource_type;
  out.resource_name = r.resource_name;
  const std::optional<TopicInfo> info = r.resource_type == kResourceTopic ? topic_info(r.resource_name) : std::nullopt;
  if (r.resource_type != kResourceTopic) {
    out.error_code = code(Error::invalid_request);
    out.error_message = "only topic and broker configs can be described";
    return out;
  }
  if (!info) {
    out.error_code = code(Error::unknown_topic_or_partition);
    out.error_message = "Topic " + r.resource_name + " does not exist";
    return out;
  }
  for (const auto& [name, value] : describe_topic_configs(config_, info->configs)) {
    if (!asked_for(r, name)) continue;
    DescribeConfigsResponse::Config c;
    c.name = name;
    c.value = value.first;
    c.is_default = !value.second;
    c.config_source = value.second ? DescribeConfigsResponse::kSourceTopic : DescribeConfigsResponse::kSourceDefault;
    out.configs.push_back(std::move(c));
  }
  return out;
}

DescribeConfigsResponse::Result RequestHandler::describe_broker_configs(const DescribeConfigsRequest::Resource& r) const {
  DescribeConfigsResponse::Result out;
  out.resource_type = r.resource_type;
  out.resource_name = r.resource_name;
  if (!r.resource_name.empty() && r.resource_name != std::to_string(config_.node_id)) {
    out.error_code = code(Error::invalid_request);
    out.error_message = "Unknown broker " + r.resource_name;
    return out;
  }
  const std::map<std::string, std::string>& dynamic = *topics_.configs_of({true, r.resource_name});
  std::map<std::string, std::pair<std::string, int8_t>> values;
  for (const auto& [k, v] : static_broker_configs()) values[k] = {v, DescribeConfigsResponse::kSourceStaticBroker};
  for (const auto& [k, v] : dynamic) values[k] = {v, DescribeConfigsResponse::kSourceDynamicBroker};
  for (const auto& [name, value] : values) {
    if (!asked_for(r, name)) continue;
    DescribeConfigsResponse::Config c;
    c.name = name;
    c.value = value.first;
    c.read_only = !known_dynamic_broker_config(name);
    c.config_source = value.second;
    out.configs.push_back(std::move(c));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> RequestHandler::static_broker_configs() const {
  const LogConfig& l = config_.log;
  return {
      {"broker.id", std::to_string(config_.node_id)},
      {"node.id", std::to_string(config_.node_id)},
      {"listeners", "PLAINTEXT://" + config_.listener.to_string()},
      {"advertised.listeners", "PLAINTEXT://" + advertised_.to_string()},
      {"log.dirs", config_.log_dir},
      {"num.partitions", std::to_string(config_.num_partitions)},
      {"default.replication.factor", std::to_string(config_.default_replication_factor)},
      {"auto.create.topics.enable", config_.auto_create_topics ? "true" : "false"},
      {"message.max.bytes", std::to_string(config_.message_max_bytes)},
      {"socket.request.max.bytes", std::to_string(config_.socket_request_max_bytes)},
      {"log.segment.bytes", std::to_string(l.segment_bytes)},
      {"log.roll.ms", std::to_string(l.segment_ms)},
      {"log.retention.ms", std::to_string(l.retention_ms)},
      {"log.retention.bytes", std::to_string(l.retention_bytes)},
      {"log.flush.interval.messages", std::to_string(l.flush_messages)},
      {"log.flush.interval.ms", std::to_string(l.flush_ms)},
      {"log.index.interval.bytes", std::to_string(l.index_interval_bytes)},
      {"log.retention.check.interval.ms", std::to_string(config_.retention_check_interval_ms)},
      {"group.initial.rebalance.delay.ms", std::to_string(config_.group_initial_rebalance_delay_ms)},
      {"group.min.session.timeout.ms", std::to_string(config_.group_min_session_timeout_ms)},
      {"group.max.session.timeout.ms", std::to_string(config_.group_max_session_timeout_ms)},
  };
}

}  // namespace samsa::broker
