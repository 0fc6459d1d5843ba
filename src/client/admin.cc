#include "client/admin.h"

#include <algorithm>

namespace samsa::client {

using namespace samsa::kafka;

Result<AdminResult> Admin::create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                        const std::map<std::string, std::string>& configs) {
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, cluster_.any());
  std::optional<int16_t> v = c->version(ApiKey::create_topics, 7);
  if (!v) return Errc::invalid_argument;
  CreateTopicsRequest req;
  CreateTopicsRequest::Topic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = replication_factor;
  for (const auto& [k, val] : configs) t.configs.push_back({.name = k, .value = val});
  req.topics.push_back(std::move(t));
  CreateTopicsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (c->call<CreateTopicsRequest, CreateTopicsResponse>(ApiKey::create_topics, *v, req, cluster_.request_deadline())));
  if (resp.topics.size() != 1) return Errc::corrupt;
  return AdminResult{static_cast<Error>(resp.topics[0].error_code), resp.topics[0].error_message.value_or("")};
}

Result<AdminResult> Admin::delete_topic(const std::string& name) {
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, cluster_.any());
  std::optional<int16_t> v = c->version(ApiKey::delete_topics, 5);
  if (!v) return Errc::invalid_argument;
  DeleteTopicsRequest req;
  req.topic_names = {name};
  DeleteTopicsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (c->call<DeleteTopicsRequest, DeleteTopicsResponse>(ApiKey::delete_topics, *v, req, cluster_.request_deadline())));
  if (resp.responses.size() != 1) return Errc::corrupt;
  return AdminResult{static_cast<Error>(resp.responses[0].error_code), ""};
}

Result<std::vector<std::string>> Admin::list_topics() {
  MetadataResponse m;
  SAMSA_TRY_ASSIGN(m, cluster_.metadata(std::nullopt, false));
  std::vector<std::string> names;
  for (const auto& t : m.topics) names.push_back(t.name.value_or(""));
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<TopicDescription>> Admin::describe_topics(const std::optional<std::vector<std::string>>& names) {
  MetadataResponse m;
  SAMSA_TRY_ASSIGN(m, cluster_.metadata(names, false));
  std::vector<TopicDescription> out;
  for (const auto& t : m.topics) out.push_back(TopicDescription{t.name.value_or(""), t.error_code, t.partitions, {}});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, cluster_.any());
  std::optional<int16_t> v = c->version(ApiKey::describe_configs, 4);
  if (!v) return out;  // configs are optional in the description
  DescribeConfigsRequest req;
  for (const auto& d : out) {
    if (d.error == 0) req.resources.push_back({.resource_type = DescribeConfigsRequest::kTopic, .resource_name = d.name, .configuration_keys = std::nullopt});
  }
  if (req.resources.empty()) return out;
  DescribeConfigsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (c->call<DescribeConfigsRequest, DescribeConfigsResponse>(ApiKey::describe_configs, *v, req, cluster_.request_deadline())));
  for (const auto& r : resp.results) {
    for (auto& d : out) {
      if (d.name != r.resource_name) continue;
      for (const auto& cfg : r.configs) {
        const bool is_override = *v == 0 ? !cfg.is_default : cfg.config_source == DescribeConfigsResponse::kSourceTopic;
        if (is_override) d.overrides.push_back({cfg.name, cfg.value.value_or("")});
      }
    }
  }
  return out;
}

namespace {
// Requests grouped by topic, in the order given.
template <typename Topic, typename F>
std::vector<Topic> by_topic(const std::vector<PartitionResult>& ps, F&& partition) {
  std::vector<Topic> out;
  for (const auto& p : ps) {
    if (out.empty() || out.back().name != p.topic) out.push_back(Topic{.name = p.topic});
    out.back().partitions.push_back(partition(p));
  }
  return out;
}

template <typename Resp>
std::vector<PartitionResult> flatten(const Resp& resp) {
  std::vector<PartitionResult> out;
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      PartitionResult r{.topic = t.name, .partition = p.partition_index, .error = static_cast<Error>(p.error_code)};
      if constexpr (requires { p.low_watermark; }) r.offset = p.low_watermark;
      out.push_back(r);
    }
  }
  return out;
}
}  // namespace

template <typename Req, typename Resp>
Result<Resp> Admin::call(ApiKey key, int16_t ours_max, Req& req) {
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, cluster_.any());
  std::optional<int16_t> v = c->version(key, ours_max);
  if (!v) return Errc::invalid_argument;  // the broker does not implement it
  return c->call<Req, Resp>(key, *v, req, cluster_.request_deadline());
}

template <typename Req, typename Resp>
Result<Resp> Admin::call_coordinator(const std::string& group, ApiKey key, int16_t ours_max, Req& req) {
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, cluster_.coordinator(group));
  std::optional<int16_t> v = c->version(key, ours_max);
  if (!v) return Errc::invalid_argument;
  return c->call<Req, Resp>(key, *v, req, cluster_.request_deadline());
}

Result<AdminResult> Admin::create_partitions(const std::string& topic, int32_t count) {
  CreatePartitionsRequest req;
  req.topics.push_back({.name = topic, .count = count, .assignments = std::nullopt});
  req.timeout_ms = 30000;
  CreatePartitionsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call<CreatePartitionsRequest, CreatePartitionsResponse>(ApiKey::create_partitions, 3, req)));
  if (resp.results.size() != 1) return Errc::corrupt;
  return AdminResult{static_cast<Error>(resp.results[0].error_code), resp.results[0].error_message.value_or("")};
}

Result<std::vector<ConfigEntry>> Admin::describe_configs(int8_t resource_type, const std::string& name, AdminResult* error) {
  DescribeConfigsRequest req;
  req.resources.push_back({.resource_type = resource_type, .resource_name = name, .configuration_keys = std::nullopt});
  DescribeConfigsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call<DescribeConfigsRequest, DescribeConfigsResponse>(ApiKey::describe_configs, 4, req)));
  if (resp.results.size() != 1) return Errc::corrupt;
  const auto& r = resp.results[0];
  *error = AdminResult{static_cast<Error>(r.error_code), r.error_message.value_or("")};
  std::vector<ConfigEntry> out;
  for (const auto& c : r.configs) out.push_back({c.name, c.value, c.config_source, c.read_only});
  return out;
}

Result<AdminResult> Admin::alter_configs(int8_t resource_type, const std::string& name, const std::map<std::string, std::string>& set,
                                         const std::vector<std::string>& remove) {
  IncrementalAlterConfigsRequest req;
  IncrementalAlterConfigsRequest::Resource res{.resource_type = resource_type, .resource_name = name};
  for (const auto& [k, v] : set) res.configs.push_back({.name = k, .config_operation = IncrementalAlterConfigsRequest::kSet, .value = v});
  for (const auto& k : remove) res.configs.push_back({.name = k, .config_operation = IncrementalAlterConfigsRequest::kDelete});
  req.resources.push_back(std::move(res));
  IncrementalAlterConfigsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(ApiKey::incremental_alter_configs, 1, req)));
  if (resp.responses.size() != 1) return Errc::corrupt;
  return AdminResult{static_cast<Error>(resp.responses[0].error_code), resp.responses[0].error_message.value_or("")};
}

Result<std::vector<PartitionResult>> Admin::delete_records(const std::vector<PartitionResult>& below) {
  DeleteRecordsRequest req;
  req.topics = by_topic<DeleteRecordsRequest::Topic>(below, [](const PartitionResult& p) {
    return DeleteRecordsRequest::Partition{.partition_index = p.partition, .offset = p.offset};
  });
  req.timeout_ms = 30000;
  DeleteRecordsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call<DeleteRecordsRequest, DeleteRecordsResponse>(ApiKey::delete_records, 2, req)));
  return flatten(resp);
}

Result<std::vector<PartitionResult>> Admin::elect_leaders(int8_t election_type, const std::vector<PartitionResult>& partitions) {
  ElectLeadersRequest req;
  req.election_type = election_type;
  if (!partitions.empty()) {
    req.topic_partitions.emplace();
    for (const PartitionResult& p : partitions) {
      if (req.topic_partitions->empty() || req.topic_partitions->back().topic != p.topic) {
        req.topic_partitions->push_back({.topic = p.topic, .partitions = {}});
      }
      req.topic_partitions->back().partitions.push_back(p.partition);
    }
  }
  ElectLeadersResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call<ElectLeadersRequest, ElectLeadersResponse>(ApiKey::elect_leaders, 2, req)));
  std::vector<PartitionResult> out;
  if (resp.error_code != 0) out.push_back({.topic = "", .partition = -1, .offset = -1, .error = static_cast<Error>(resp.error_code)});
  for (const auto& t : resp.replica_election_results) {
    for (const auto& p : t.partition_result) {
      out.push_back({.topic = t.topic, .partition = p.partition_id, .offset = -1, .error = static_cast<Error>(p.error_code)});
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, Error>>> Admin::delete_groups(const std::vector<std::string>& groups) {
  std::vector<std::pair<std::string, Error>> out;
  for (const std::string& group : groups) {  // each to its own coordinator
    DeleteGroupsRequest req{.groups_names = {group}};
    DeleteGroupsResponse resp;
    SAMSA_TRY_ASSIGN(resp, (call_coordinator<DeleteGroupsRequest, DeleteGroupsResponse>(group, ApiKey::delete_groups, 2, req)));
    for (const auto& r : resp.results) out.push_back({r.group_id, static_cast<Error>(r.error_code)});
  }
  return out;
}

Result<std::vector<PartitionResult>> Admin::delete_offsets(const std::string& group, const std::vector<PartitionResult>& partitions,
                                                           Error* group_error) {
  OffsetDeleteRequest req{.group_id = group};
  req.topics = by_topic<OffsetDeleteRequest::Topic>(partitions, [](const PartitionResult& p) {
    return OffsetDeleteRequest::Partition{.partition_index = p.partition};
  });
  OffsetDeleteResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call_coordinator<OffsetDeleteRequest, OffsetDeleteResponse>(group, ApiKey::offset_delete, 0, req)));
  *group_error = static_cast<Error>(resp.error_code);
  return flatten(resp);
}

Result<std::vector<PartitionResult>> Admin::commit_offsets(const std::string& group, const std::vector<PartitionResult>& offsets) {
  OffsetCommitRequest req{.group_id = group};  // generation -1, no member: a standalone commit
  req.topics = by_topic<OffsetCommitRequest::Topic>(offsets, [](const PartitionResult& p) {
    return OffsetCommitRequest::Partition{.partition_index = p.partition, .committed_offset = p.offset};
  });
  OffsetCommitResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call_coordinator<OffsetCommitRequest, OffsetCommitResponse>(group, ApiKey::offset_commit, 8, req)));
  return flatten(resp);
}

Result<std::vector<PartitionResult>> Admin::committed_offsets(const std::string& group) {
  OffsetFetchRequest req{.group_id = group, .topics = std::nullopt};
  OffsetFetchResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call_coordinator<OffsetFetchRequest, OffsetFetchResponse>(group, ApiKey::offset_fetch, 7, req)));
  std::vector<PartitionResult> out;
  for (const auto& t : resp.topics) {
    for (const auto& p : t.partitions) {
      out.push_back({.topic = t.name, .partition = p.partition_index, .offset = p.committed_offset, .error = static_cast<Error>(p.error_code)});
    }
  }
  return out;
}

Result<std::string> Admin::group_state(const std::string& group) {
  DescribeGroupsRequest req{.groups = {group}};
  DescribeGroupsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call_coordinator<DescribeGroupsRequest, DescribeGroupsResponse>(group, ApiKey::describe_groups, 5, req)));
  if (resp.groups.size() != 1) return Errc::corrupt;
  return resp.groups[0].group_state;
}

Result<ClusterDescription> Admin::describe_cluster() {
  DescribeClusterRequest req;
  DescribeClusterResponse resp;
  SAMSA_TRY_ASSIGN(resp, (call<DescribeClusterRequest, DescribeClusterResponse>(ApiKey::describe_cluster, 1, req)));
  if (resp.error_code != 0) return Errc::unavailable;
  return ClusterDescription{resp.cluster_id, resp.controller_id, resp.brokers};
}

}  // namespace samsa::client
