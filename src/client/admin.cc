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

}  // namespace samsa::client
