// BrokerLifecycle: a broker's membership of a KRaft cluster (Kafka's BrokerLifecycleManager and
// the broker side of its forwarding), and its ClusterView.
//
// - Registers with the active controller (BrokerRegistration: node id, a new incarnation id per
//   process, its client listener), then heartbeats every broker.heartbeat.interval.ms (faster
//   while fenced, so it is unfenced soon after it caught up) with its applied metadata offset.
//   A heartbeat refused for a stale epoch or an unknown registration registers again.
// - Only once the controller said it caught up (it has applied its own registration, so every
//   topic committed before it) does it make the broker follow the image: the partitions it holds
//   replicas of get their logs (LogManager, with the topic's configs) and their state in the
//   PartitionTable (leader, epochs, ISR), and the logs of partitions it no longer holds are
//   removed. Before that the image may be a prefix and must not delete anything. Partitions it
//   follows are copied from their leaders by its ReplicaFetcher; those it leads have their ISR
//   shrunk and expanded through AlterPartition by its IsrManager.
// - Forwards CreateTopics, DeleteTopics, CreatePartitions and topic config changes (AlterConfigs,
//   IncrementalAlterConfigs) to the active controller over a connection of its own, and waits
//   (up to kSeeOwnWriteMax) for its own image to show them.
// - Sends a partition leader's AlterPartition to the active controller over another connection
//   (so an ISR change does not wait behind a creation), answering with the controller's response.
//
// Threading: fibers of the node. start() and stop() from the node's main fiber; the ClusterView
// calls from the broker's connection fibers.
#pragma once

#include <memory>
#include <optional>

#include "broker/broker.h"
#include "broker/cluster_view.h"
#include "broker/topic_config.h"
#include "client/connection.h"
#include "replication/replica_fetcher.h"
#include "server/isr_manager.h"
#include "server/leader_channel.h"
#include "server/metadata_publisher.h"
#include "server/node_config.h"

namespace samsa::server {

// A connection to whichever voter leads the quorum (the active controller), reopened when it
// breaks or the leader changes.
class ControllerChannel {
 public:
  ControllerChannel(Runtime& rt, const std::map<int32_t, Address>& voters, const MetadataPublisher& metadata,
                    std::string client_id)
      : rt_(rt), voters_(voters), metadata_(metadata), client_id_(std::move(client_id)) {}

  template <typename Req, typename Resp>
  Result<Resp> call(kafka::ApiKey key, int16_t max_version, Req& request, Deadline deadline) {
    Result<std::shared_ptr<client::Connection>> c = connection(deadline);
    if (!c.ok()) return c.status();
    const std::optional<int16_t> version = (*c)->version(key, max_version);
    if (!version) return Errc::invalid_argument;  // the controller does not serve this API
    Result<Resp> r = (*c)->template call<Req, Resp>(key, *version, request, deadline);
    if (!r.ok() || (*c)->broken()) conn_.reset();
    return r;
  }
  void reset() { conn_.reset(); }

 private:
  Result<std::shared_ptr<client::Connection>> connection(Deadline deadline);

  Runtime& rt_;
  const std::map<int32_t, Address>& voters_;
  const MetadataPublisher& metadata_;
  std::string client_id_;
  std::shared_ptr<client::Connection> conn_;  // shared: a call in flight keeps its connection
  int32_t conn_to_ = -1;
};

class BrokerLifecycle final : public broker::ClusterView {
 public:
  static constexpr Duration kFencedHeartbeatInterval = std::chrono::milliseconds(200);
  static constexpr Duration kRequestTimeout = std::chrono::seconds(5);
  static constexpr Duration kRetryBackoff = std::chrono::milliseconds(500);
  static constexpr Duration kSeeOwnWriteMax = std::chrono::seconds(3);
  static constexpr Duration kReconcileInterval = std::chrono::seconds(1);
  // In log.dirs: the broker epoch this broker last registered with and the boot it ran on.
  // KIP-966: a broker that restarts on the same boot (kill -9 keeps the page cache) tells the
  // controller its previous epoch, so it stays an eligible leader replica; after a power loss
  // or reboot (another boot, or no file) it sends -1 and the controller drops it from every ELR.
  // A broker halting on a failed fsync forgets it (forget_broker_epoch()): the kernel may have
  // dropped what it held unsynced, as a power loss does. (A failed write or read loses nothing
  // the page cache held: that halt restarts as kill -9 does.)
  static constexpr const char* kEpochFile = "broker-epoch-checkpoint";

  BrokerLifecycle(Runtime& rt, const NodeConfig& config, MetadataPublisher& metadata, broker::Broker& broker);
  ~BrokerLifecycle() override;

  void start();  // after the broker listens (its advertised address is known)
  // Before halting on a failed fsync: the next start registers as after a power loss. Best effort
  // (the disk is failing): false when the file could not be rewritten.
  bool forget_broker_epoch();
  // Controlled shutdown (SIGTERM): asks the controller to move this broker's leaderships away
  // and waits, until `deadline`, for the controller's go-ahead and for this broker's own image
  // to show it fenced and leading nothing. True once both hold; false at the deadline (the
  // caller stops anyway, as Kafka does after its retries).
  bool controlled_shutdown(Deadline deadline);
  void stop();   // before destruction, unless the node crashed (a destructor must not suspend)

  const controller::MetadataImage& image() const override { return metadata_.image(); }
  std::optional<int32_t> controller_id() const override { return metadata_.leader().leader_id; }
  const std::string& cluster_id() const override { return config_.cluster_id; }
  bool ready() const override { return caught_up_; }
  kafka::CreateTopicsResponse create_topics(const kafka::CreateTopicsRequest& request) override;
  kafka::DeleteTopicsResponse delete_topics(const kafka::DeleteTopicsRequest& request) override;
  kafka::CreatePartitionsResponse create_partitions(const kafka::CreatePartitionsRequest& request) override;
  kafka::IncrementalAlterConfigsResponse incremental_alter_configs(
      const kafka::IncrementalAlterConfigsRequest& request) override;
  kafka::AlterConfigsResponse alter_configs(const kafka::AlterConfigsRequest& request) override;
  kafka::ElectLeadersResponse elect_leaders(const kafka::ElectLeadersRequest& request) override;
  kafka::AlterPartitionResponse alter_partition(kafka::AlterPartitionRequest request) override;

  int64_t broker_epoch() const { return broker_epoch_; }
  bool caught_up() const { return caught_up_; }
  bool fenced() const { return fenced_; }
  const replication::ReplicaFetcher& fetcher() const { return fetcher_; }
  const IsrManager& isr_manager() const { return isr_; }

 private:
  void lifecycle_loop();
  Status register_once();
  int64_t previous_broker_epoch();
  Status heartbeat_once();
  void logs_loop();
  bool reconcile_logs();  // false when some topic's logs could not be opened
  // Waits until `seen` holds for this broker's image, or kSeeOwnWriteMax passed.
  template <typename Pred>
  void wait_for_image(Pred seen);
  // Forwards a config change; on success waits until the image holds, for every resource
  // answered without error, what `applied(image, resource)` says.
  template <typename Resp, typename Req, typename Applied>
  Resp forward_configs(kafka::ApiKey key, int16_t max_version, const Req& request, Applied applied);

  Runtime& rt_;
  const NodeConfig& config_;
  MetadataPublisher& metadata_;
  broker::Broker& broker_;
  kafka::Uuid incarnation_id_;
  ControllerChannel lifecycle_channel_;
  ControllerChannel forward_channel_;
  ControllerChannel alter_partition_channel_;  // ISR changes do not queue behind topic creations
  int64_t broker_epoch_ = -1;
  std::optional<int64_t> previous_broker_epoch_;  // read once, at the first registration
  bool caught_up_ = false;
  bool fenced_ = true;
  bool want_shut_down_ = false;
  bool should_shut_down_ = false;
  FiberId lifecycle_fiber_ = kNoFiber;
  FiberId logs_fiber_ = kNoFiber;
  LeaderConnections leaders_;
  replication::ReplicaFetcher fetcher_;  // its followers copy from their leaders
  IsrManager isr_;                       // the ISR changes its led partitions need
};

}  // namespace samsa::server
