// Node: one samsa process — Kafka's KafkaRaftServer. Composes what process.roles asks for:
// the broker (src/broker) and, when a quorum is configured, a member of the KRaft metadata
// quorum (src/raft: a voter listening on the CONTROLLER listener when the node has the
// controller role, an observer otherwise). With no quorum configured it is exactly the single
// broker of before.
//
// On the metadata log: MetadataPublisher applies it to the node's MetadataImage (and snapshots
// it); a controller-role node runs QuorumController, active while its node leads the quorum, and
// serves ControllerApis on the CONTROLLER listener; a broker-role node registers and heartbeats
// (BrokerLifecycle), answers clients from the image and forwards topic creation and deletion.
//
// Threading: fibers of one node. start(), stop() and wait_for_failure() from its main fiber.
#pragma once

#include <memory>

#include "broker/broker.h"
#include "net/frame_server.h"
#include "raft/network_transport.h"
#include "raft/raft_client.h"
#include "server/broker_lifecycle.h"
#include "server/controller_apis.h"
#include "server/metadata_publisher.h"
#include "server/node_config.h"
#include "server/quorum_controller.h"

namespace samsa::server {

class Node {
 public:
  static constexpr Duration kFailurePollInterval = std::chrono::milliseconds(500);
  static constexpr Duration kForwardTimeout = std::chrono::seconds(5);  // DescribeQuorum to the leader

  Node(Runtime& rt, NodeConfig config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the quorum member (recovering its quorum-state and metadata log) and then the
  // broker. Errors: a log dir that cannot be used, an address that is taken.
  Status start();
  // Stops the broker (a clean shutdown), then the quorum member (a leader hands over first).
  // Call it before destruction, also after a failed start(); only a crash (the simulator
  // unwinding the node) skips it, since a destructor must not suspend.
  void stop();
  // A clean stop as on SIGTERM: with controlled.shutdown.enable (the default) a broker first has
  // the controller move its leaderships away (up to kControlledShutdownMax), then stop().
  void shutdown();
  static constexpr Duration kControlledShutdownMax = std::chrono::seconds(30);
  // ok never; io_error when the node must halt (a disk error took the metadata log or, in a
  // broker, a partition log offline; when a failed fsync may have lost writes the broker epoch
  // is forgotten at once, and again by stop() if its last flush fails, so the restart registers
  // as after a power loss); timed_out at the deadline.
  Status wait_for_failure(Deadline deadline);

  broker::Broker* broker() { return broker_.get(); }
  raft::RaftClient* raft() { return raft_.get(); }
  MetadataPublisher* metadata() { return publisher_.get(); }
  QuorumController* quorum_controller() { return quorum_controller_.get(); }
  BrokerLifecycle* lifecycle() { return lifecycle_.get(); }
  const NodeConfig& config() const { return config_; }

 private:
  Status start_quorum_member();
  Status halting();  // io_error, after forgetting the broker epoch if writes may be lost
  raft::DescribeQuorumResponse describe_from_leader(const raft::DescribeQuorumRequest& request);

  Runtime& rt_;
  NodeConfig config_;
  std::unique_ptr<MetadataPublisher> publisher_;
  std::unique_ptr<raft::NetworkTransport> transport_;
  std::unique_ptr<raft::NetworkTransport> forward_transport_;
  std::unique_ptr<raft::RaftClient> raft_;
  std::unique_ptr<QuorumController> quorum_controller_;
  std::unique_ptr<ControllerApis> controller_apis_;
  std::unique_ptr<raft::RaftRequestHandler> controller_handler_;
  std::unique_ptr<FrameServer> controller_server_;
  std::unique_ptr<raft::RaftRequestHandler> broker_quorum_handler_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<BrokerLifecycle> lifecycle_;
  bool controller_listening_ = false;
  bool broker_started_ = false;
  bool stopped_ = false;
};

}  // namespace samsa::server
