// ClusterView: what a broker in a KRaft cluster knows of the cluster, and where it sends what
// only the active controller may decide. The node (src/server) implements it: the image is the
// metadata log as this broker has applied it (it is an observer or a voter of the quorum), and
// creations, deletions, config changes and ISR changes go to the active controller, as Kafka's
// brokers send them.
// A single broker (no quorum) has none, and its RequestHandler keeps answering from TopicManager.
//
// Threading: fibers of the broker's node. image() is valid until the caller next suspends (the
// applier replaces it between suspensions); the forwarding calls suspend.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controller/metadata_image.h"
#include "protocol/messages.h"

namespace samsa::broker {

class ClusterView {
 public:
  virtual ~ClusterView() = default;

  virtual const controller::MetadataImage& image() const = 0;
  // The active controller as this broker last learned it.
  virtual std::optional<int32_t> controller_id() const = 0;
  virtual const std::string& cluster_id() const = 0;
  // The broker has caught up with the metadata log since it (last) registered: until then its
  // image may be stale (a snapshot from before a restart) and it serves no partition.
  virtual bool ready() const = 0;

  // Forwarded to the active controller. Each answers every topic of the request: a controller
  // that cannot be reached in time yields REQUEST_TIMED_OUT (or NOT_CONTROLLER) per topic. On
  // success they return once this broker's own image shows the change (or a short wait ran
  // out), so a client that asks this broker next sees what it created.
  virtual kafka::CreateTopicsResponse create_topics(const kafka::CreateTopicsRequest& request) = 0;
  virtual kafka::DeleteTopicsResponse delete_topics(const kafka::DeleteTopicsRequest& request) = 0;
  virtual kafka::CreatePartitionsResponse create_partitions(const kafka::CreatePartitionsRequest& request) = 0;
  // Topic configs (the request's resources are all topics): the controller validates them and
  // writes ConfigRecords; each resource is answered, and on success this broker's image shows
  // the new overrides before the call returns (or a short wait ran out). validate_only writes
  // nothing. AlterConfigs replaces a topic's overrides, IncrementalAlterConfigs edits them.
  virtual kafka::IncrementalAlterConfigsResponse incremental_alter_configs(
      const kafka::IncrementalAlterConfigsRequest& request) = 0;
  virtual kafka::AlterConfigsResponse alter_configs(const kafka::AlterConfigsRequest& request) = 0;
  // ElectLeaders (kafka-leader-election.sh): preferred or unclean elections by the controller;
  // returns once this broker's image shows the elected leaders (or a short wait ran out).
  virtual kafka::ElectLeadersResponse elect_leaders(const kafka::ElectLeadersRequest& request) = 0;

  // A partition leader asks the active controller to change ISRs (AlterPartition, one request
  // at a time; Kafka's AlterPartitionManager batches them). The request goes with this broker's
  // id and registration's broker epoch, at the highest version the controller serves (the ISR
  // with broker epochs, topics by id; the older fields are filled from them). The answer is the
  // controller's: per-partition errors, or the partition's new leader epoch, partition epoch
  // and ISR; an unreachable controller yields REQUEST_TIMED_OUT at the top. It does not wait
  // for this broker's image: the leader acts on the response.
  virtual kafka::AlterPartitionResponse alter_partition(kafka::AlterPartitionRequest request) = 0;
};

}  // namespace samsa::broker
