// Node: one samsa process — Kafka's KafkaRaftServer. Composes what process.roles asks for:
// the broker (src/broker) and, when a quorum is configured, a member of the KRaft metadata
// quorum (src/raft: a voter listening on the CONTROLLER listener when the node has the
// controller role, an observer otherwise). With no quorum configured it is exactly the single
// broker of before.
//
// What runs on the metadata log today: MetadataLogTracker, which follows leader changes and
// committed batches (logged, and shown by `samsa metadata-quorum`). The controller's state
// machine (src/controller) is not on it yet, so topics are still created by the broker alone.
//
// Threading: fibers of one node. start(), stop() and wait_for_failure() from its main fiber.
#pragma once

#include <memory>

#include "broker/broker.h"
#include "net/frame_server.h"
#include "raft/network_transport.h"
#include "raft/raft_client.h"
#include "server/node_config.h"

namespace samsa::server {

// Follows the metadata log: leader changes and what commits. Called from the RaftClient's
// fibers; must not suspend.
class MetadataLogTracker final : public raft::RaftListener {
 public:
  explicit MetadataLogTracker(Runtime& rt, int32_t node_id) : rt_(rt), node_id_(node_id) {}
  void handle_commit(const raft::CommittedBatch& batch) override;
  void handle_load_snapshot(const raft::SnapshotImage& snapshot) override;
  void handle_leader_change(const raft::LeaderAndEpoch& leader) override;

  int64_t committed_end() const { return committed_end_; }
  uint64_t committed_records() const { return committed_records_; }

 private:
  Runtime& rt_;
  int32_t node_id_;
  int64_t committed_end_ = 0;
  uint64_t committed_records_ = 0;
};

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
  void stop();
  // ok never; io_error when the node must halt (the broker's offsets log or the metadata log
  // failed on a disk error); timed_out at the deadline.
  Status wait_for_failure(Deadline deadline);

  broker::Broker* broker() { return broker_.get(); }
  raft::RaftClient* raft() { return raft_.get(); }
  const NodeConfig& config() const { return config_; }

 private:
  Status start_quorum_member();
  raft::DescribeQuorumResponse describe_from_leader(const raft::DescribeQuorumRequest& request);

  Runtime& rt_;
  NodeConfig config_;
  std::unique_ptr<MetadataLogTracker> tracker_;
  std::unique_ptr<raft::NetworkTransport> transport_;
  std::unique_ptr<raft::NetworkTransport> forward_transport_;
  std::unique_ptr<raft::RaftClient> raft_;
  std::unique_ptr<raft::RaftRequestHandler> controller_handler_;
  std::unique_ptr<FrameServer> controller_server_;
  std::unique_ptr<raft::RaftRequestHandler> broker_quorum_handler_;
  std::unique_ptr<broker::Broker> broker_;
  bool controller_listening_ = false;
  bool broker_started_ = false;
  bool stopped_ = false;
};

}  // namespace samsa::server
