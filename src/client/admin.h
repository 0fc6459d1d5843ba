// Admin operations on topics, as kafka-topics.sh performs them: create, delete, list, describe.
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

class Admin {
 public:
  explicit Admin(Cluster& cluster) : cluster_(cluster) {}

  Result<AdminResult> create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                   const std::map<std::string, std::string>& configs);
  Result<AdminResult> delete_topic(const std::string& name);
  Result<std::vector<std::string>> list_topics();
  Result<std::vector<TopicDescription>> describe_topics(const std::optional<std::vector<std::string>>& names);

 private:
  Cluster& cluster_;
};

}  // namespace samsa::client
