// Broker: one samsa node serving the Kafka protocol. Owns the logs on its disk (LogManager), the
// partitions it holds (PartitionTable), the single broker's topic metadata (TopicManager), the
// group coordinator, the request handler and the FrameServer, and a maintenance fiber that
// reopens failed logs (a single broker; a KRaft broker halts instead) and applies flush.ms and
// retention. In a KRaft cluster the node's
// metadata reconciliation (src/server) fills the log manager and partition table instead.
// The same class runs on Linux (`samsa broker`) and inside the simulator.
//
// Threading: fibers of one node. start() and stop() from the node's main fiber.
#pragma once

#include <memory>

#include "broker/broker_config.h"
#include "broker/cluster_view.h"
#include "broker/offsets_store.h"
#include "broker/request_handler.h"
#include "broker/topic_manager.h"
#include "groups/group_coordinator.h"
#include "log/log_manager.h"
#include "replication/partition.h"
#include "net/frame_server.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::broker {

class Broker {
 public:
  Broker(Runtime& rt, BrokerConfig config);
  ~Broker();

  // Recovers every log, then listens. Errors: the log dir cannot be used, or the address is
  // taken.
  Status start();
  // Stops serving, then flushes and checkpoints every log (a clean shutdown).
  void stop();
  // Waits until the broker must halt (the consumer offsets log went offline after a disk error;
  // in a KRaft cluster, any partition log did) or the deadline passes: the caller stops it and
  // exits, and whatever supervises the process restarts it (recovery then runs). On a single
  // broker a partition log that goes offline only takes that partition offline until the broker
  // reopens it.
  Status wait_for_failure(Deadline deadline);
  // After wait_for_failure: a failed fsync may have dropped writes this broker's replicas had
  // reported to their leaders (its restart must not count as clean: KIP-966).
  bool failed_with_loss() const { return logs_.failed_with_loss(); }

  // The address bound (its port is the real one when port 0 was asked for).
  const Address& bound_address() const { return server_->local_address(); }
  TopicManager& topics() { return *topics_; }
  LogManager& logs() { return logs_; }
  replication::PartitionTable& partitions() { return partitions_; }
  const BrokerConfig& config() const { return config_; }
  const FrameServer& server() const { return *server_; }
  groups::GroupCoordinator& groups() { return *groups_; }
  const RequestHandler& handler() const { return *handler_; }
  // Before start(): where DescribeQuorum requests on the broker listener go (the node's quorum
  // member). Must outlive the broker.
  void set_describe_quorum_handler(FrameHandler* handler) { describe_quorum_ = handler; }
  // Before start(): in a KRaft cluster, the node's view of it (see cluster_view.h). Must outlive
  // the broker.
  void set_cluster(ClusterView* cluster) { cluster_ = cluster; }
  // In a KRaft cluster, after the partition table changed: the group coordinator takes up the
  // partitions of __consumer_offsets this broker now leads and gives up the others. Does not
  // suspend.
  void follow_offsets_topic();
  // What clients are told to connect to (after start()).
  const Address& advertised_address() const { return handler_->advertised(); }

 private:
  void maintenance_loop();

  Runtime& rt_;
  BrokerConfig config_;
  LogManager logs_;
  replication::PartitionTable partitions_;
  std::unique_ptr<TopicManager> topics_;
  std::unique_ptr<ReplicatedOffsetsStore> offsets_store_;  // cluster only; outlives groups_
  std::unique_ptr<groups::GroupCoordinator> groups_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<FrameServer> server_;
  FiberId maintenance_ = kNoFiber;
  std::unique_ptr<Event> failed_;
  FrameHandler* describe_quorum_ = nullptr;
  ClusterView* cluster_ = nullptr;
};

}  // namespace samsa::broker
