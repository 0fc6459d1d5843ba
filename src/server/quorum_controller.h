// QuorumController: the active controller of a KRaft cluster — src/controller's decisions run on
// the metadata log. The controller on the quorum's leader turns each request into records
// (Controller), appends them through the RaftClient, and answers once they are committed and
// applied to the image (MetadataPublisher), so the next decision sees them. Elsewhere every
// request answers NOT_CONTROLLER. A fiber fences brokers whose session expired.
//
// Contract:
// - One decision at a time (mu_): a decision reads the image its predecessor's records were
//   applied to. A request answered without error has its records committed in this controller's
//   epoch; one answered NOT_CONTROLLER or REQUEST_TIMED_OUT may or may not have been committed.
// - The controller is active from the moment its node's leadership of epoch E is delivered (the
//   image then holds every entry before E) until the next leader change.
// - Topic ids and placement starts come from the runtime's randomness.
//
// Threading: fibers of one node. The request methods suspend (connection fibers of the
// CONTROLLER listener call them); on_leader_change runs on the applier fiber and does not.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "controller/controller.h"
#include "protocol/messages.h"
#include "raft/raft_client.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"
#include "server/metadata_publisher.h"

namespace samsa::server {

class QuorumController {
 public:
  static constexpr Duration kCommitTimeout = std::chrono::seconds(5);
  static constexpr Duration kExpiryInterval = std::chrono::milliseconds(500);
  static constexpr int kFencingsPerTickMax = 16;  // brokers fenced per expiry tick

  QuorumController(Runtime& rt, int32_t node_id, std::string cluster_id, raft::RaftClient& raft,
                   MetadataPublisher& metadata, controller::ControllerConfig config);
  ~QuorumController();

  void start();  // the session-expiry fiber
  void stop();   // before destruction, unless the node crashed (a destructor must not suspend)

  void on_leader_change(const raft::LeaderAndEpoch& leader);
  bool active() const { return active_epoch_.has_value(); }

  kafka::BrokerRegistrationResponse register_broker(const kafka::BrokerRegistrationRequest& request);
  kafka::BrokerHeartbeatResponse heartbeat(const kafka::BrokerHeartbeatRequest& request);
  kafka::CreateTopicsResponse create_topics(const kafka::CreateTopicsRequest& request);
  kafka::DeleteTopicsResponse delete_topics(const kafka::DeleteTopicsRequest& request);
  kafka::CreatePartitionsResponse create_partitions(const kafka::CreatePartitionsRequest& request);
  kafka::ElectLeadersResponse elect_leaders(const kafka::ElectLeadersRequest& request);
  // A partition leader's ISR change (Kafka's ReplicationControlManager.alterPartition): the
  // asker's broker epoch is checked for the whole request (STALE_BROKER_EPOCH at the top), then
  // each partition is decided on the image holding the changes before it, with Kafka's
  // per-partition errors for `version` (v0-1 name topics, v2+ by id; v3 carries broker epochs).
  // A partition answered without error carries its state once the change is committed.
  kafka::AlterPartitionResponse alter_partition(const kafka::AlterPartitionRequest& request, int16_t version);
  // Topic configs (Kafka's ConfigurationControlManager): each resource's new set of overrides is
  // checked against src/broker/config_rules (INVALID_CONFIG with Kafka's message) and written as
  // ConfigRecords, decided on the image holding the resources before it; a resource that fails
  // changes nothing. AlterConfigs replaces the overrides, IncrementalAlterConfigs applies SET and
  // DELETE. Broker configs are not in the metadata log yet: INVALID_REQUEST. validate_only
  // decides without writing.
  kafka::IncrementalAlterConfigsResponse incremental_alter_configs(const kafka::IncrementalAlterConfigsRequest& request);
  kafka::AlterConfigsResponse alter_configs(const kafka::AlterConfigsRequest& request);

  uint64_t records_written() const { return records_written_; }

 private:
  // The decisions of one request so far: the image with their records applied, and the records.
  struct Staged {
    controller::MetadataImage image;
    std::vector<controller::MetadataRecord> records;
    bool add(const std::vector<controller::MetadataRecord>& more);  // false: they do not apply
  };
  // Appends the records as one batch in this controller's epoch and waits until they are
  // applied. NOT_CONTROLLER when the node does not lead (or stopped leading meanwhile),
  // REQUEST_TIMED_OUT when the quorum did not commit them in time, POLICY_VIOLATION above one
  // append's limit. The caller holds mu_.
  kafka::Error commit_records(const std::vector<controller::MetadataRecord>& records);
  // Takes mu_ for one decision once the image holds every earlier write of this epoch;
  // NOT_CONTROLLER when inactive, REQUEST_TIMED_OUT when that takes too long. The guard releases it.
  kafka::Error lock_active();
  kafka::CreateTopicsResponse::Topic create_topic(const kafka::CreateTopicsRequest::Topic& t, Staged& staged);
  // One request's config resources; `next(resource, overrides, message)` turns a topic's
  // current overrides into the wanted ones.
  template <typename Resp, typename Req, typename Next>
  Resp alter_config_resources(const Req& request, Next next);
  // Stages the records that make `topic`'s overrides `configs`, all or none.
  kafka::Error stage_topic_configs(Staged& staged, const std::string& topic,
                                   const std::map<std::string, std::string>& configs, std::string* message);
  kafka::AlterPartitionResponse::Partition alter_one(const kafka::AlterPartitionRequest& request, int16_t version,
                                                     const kafka::Uuid& topic_id,
                                                     const kafka::AlterPartitionRequest::Partition& p, Staged& staged);
  void expiry_loop();
  controller::PlacementChoice random_placement();
  // Session deadlines run on the monotonic clock: a wall clock step must not fence anyone.
  int64_t now_ms() const { return rt_.now().ns / 1'000'000; }

  Runtime& rt_;
  int32_t node_id_;
  raft::RaftClient& raft_;
  MetadataPublisher& metadata_;
  controller::Controller controller_;
  Mutex mu_;
  std::string cluster_id_;
  std::optional<int32_t> active_epoch_;
  int32_t appended_epoch_ = -1;  // of the last write
  int64_t appended_end_ = 0;     // offset after the last write's records
  FiberId expiry_fiber_ = kNoFiber;
  uint64_t records_written_ = 0;
};

}  // namespace samsa::server
