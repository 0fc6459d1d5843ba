// Admin operations as Kafka's tools perform them: topics (create, delete, list, describe, add
// partitions), configs (describe, incremental alter), records (delete below an offset), groups
// (delete, delete offsets, commit offsets as a standalone member) and the cluster's identity.
// Threading: fibers of one node.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "client/cluster.h"
#include "protocol/errors.h"

namespace samsa::client {

struct AdminResult {
  kafka::Error error = kafka::Error::none;
  std::string message;
};

struct TopicDescription {
  std::string name;
  int16_t error = 0;
  std::vector<kafka::MetadataResponse::Partition> partitions;
  std::vector<std::pair<std::string, std::string>> overrides;  // configs set on the topic
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  int8_t source = 0;  // DescribeConfigsResponse::kSource*
  bool read_only = false;
};

struct PartitionResult {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;  // the low watermark (DeleteRecords), or the offset asked
  kafka::Error error = kafka::Error::none;
};

struct ClusterDescription {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<kafka::DescribeClusterResponse::Broker> brokers;
};

class Admin {
 public:
  explicit Admin(Cluster& cluster) : cluster_(cluster) {}

  Result<AdminResult> create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                   const std::map<std::string, std::string>& configs);
  Result<AdminResult> delete_topic(const std::string& name);
  Result<std::vector<std::string>> list_topics();
  Result<std::vector<TopicDescription>> describe_topics(const std::optional<std::vector<std::string>>& names);
  Result<AdminResult> create_partitions(const std::string& topic, int32_t count);
  // resource_type: DescribeConfigsRequest::kTopic or kBroker.
  Result<std::vector<ConfigEntry>> describe_configs(int8_t resource_type, const std::string& name, AdminResult* error);
  Result<AdminResult> alter_configs(int8_t resource_type, const std::string& name,
                                    const std::map<std::string, std::string>& set, const std::vector<std::string>& remove);
  Result<std::vector<PartitionResult>> delete_records(const std::vector<PartitionResult>& below);
  // ElectLeaders: election_type 0 preferred, 1 unclean; `partitions` empty: every partition (the
  // answer names only those elected or failing). A top-level error comes back as one result
  // with an empty topic.
  Result<std::vector<PartitionResult>> elect_leaders(int8_t election_type, const std::vector<PartitionResult>& partitions);
  Result<std::vector<std::pair<std::string, kafka::Error>>> delete_groups(const std::vector<std::string>& groups);
  Result<std::vector<PartitionResult>> delete_offsets(const std::string& group, const std::vector<PartitionResult>& partitions,
                                                      kafka::Error* group_error);
  // Commits offsets for a group with no active members (as kafka-consumer-groups.sh --reset-offsets).
  Result<std::vector<PartitionResult>> commit_offsets(const std::string& group, const std::vector<PartitionResult>& offsets);
  Result<ClusterDescription> describe_cluster();
  // Every committed offset of a group (OffsetFetch with a null topic list), and its state.
  Result<std::vector<PartitionResult>> committed_offsets(const std::string& group);
  Result<std::string> group_state(const std::string& group);

 private:
  // One request to any broker at the highest version both sides know, up to ours_max.
  template <typename Req, typename Resp>
  Result<Resp> call(kafka::ApiKey key, int16_t ours_max, Req& req);
  // The same, to the group's coordinator.
  template <typename Req, typename Resp>
  Result<Resp> call_coordinator(const std::string& group, kafka::ApiKey key, int16_t ours_max, Req& req);

  Cluster& cluster_;
};

}  // namespace samsa::client
