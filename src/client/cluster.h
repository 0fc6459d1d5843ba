// Cluster: what a client knows of the brokers — bootstrap addresses, the latest metadata, and one
// Connection per broker (by node id), opened on demand and replaced when it breaks.
//
// Threading: fibers of one node.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/connection.h"

namespace samsa::client {

struct ClientConfig {
  std::vector<Address> bootstrap;
  std::string client_id = "samsa";
  Duration request_timeout = std::chrono::seconds(30);
  Duration connect_timeout = std::chrono::seconds(10);
};

// "host:port,host:port" -> addresses.
Result<std::vector<Address>> parse_bootstrap(std::string_view servers);

class Cluster {
 public:
  Cluster(Runtime& rt, ClientConfig config) : rt_(rt), config_(std::move(config)) {}

  // Refreshes metadata for `topics` (nullopt: all topics). auto_create asks the broker to create
  // missing topics (if it allows that).
  Result<kafka::MetadataResponse> metadata(const std::optional<std::vector<std::string>>& topics, bool auto_create);
  // A connection to any broker (bootstrap first), or to a given node.
  Result<Connection*> any();
  Result<Connection*> node(int32_t node_id);
  // The group's coordinator (FindCoordinator through any broker); Errc::unavailable while the
  // cluster has none for it (COORDINATOR_NOT_AVAILABLE).
  Result<Connection*> coordinator(const std::string& group);
  // Every broker the cluster lists (a metadata refresh first).
  Result<std::vector<int32_t>> broker_ids();
  // Leader and partition count for a topic from the last metadata (refreshing if unknown).
  Result<int32_t> leader(const std::string& topic, int32_t partition);
  // The partition's leader epoch in the last metadata (-1 when the broker did not say: Metadata
  // below v7), for KIP-320's fencing and position validation.
  int32_t leader_epoch(const std::string& topic, int32_t partition) const;
  Result<int32_t> partition_count(const std::string& topic);
  void invalidate(int32_t node_id);

  Runtime& rt() { return rt_; }
  const ClientConfig& config() const { return config_; }
  Deadline request_deadline() const { return rt_.after(config_.request_timeout); }

 private:
  // The partition in the last metadata, or nullptr.
  const kafka::MetadataResponse::Partition* find_partition(const std::string& topic, int32_t partition) const;

  Runtime& rt_;
  ClientConfig config_;
  std::unique_ptr<Connection> bootstrap_;
  std::map<int32_t, std::unique_ptr<Connection>> nodes_;
  std::map<int32_t, Address> broker_addresses_;
  std::map<std::string, kafka::MetadataResponse::Topic> topics_;
};

}  // namespace samsa::client
