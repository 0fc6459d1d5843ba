#include "server/node.h"

#include <fmt/format.h>

namespace samsa::server {

Node::Node(Runtime& rt, NodeConfig config) : rt_(rt), config_(std::move(config)) {}

Node::~Node() = default;

Status Node::start_quorum_member() {
  raft::RaftConfig rc;
  rc.node_id = config_.broker.node_id;
  rc.voters = config_.voters;
  rc.log_dir = config_.metadata_log_dir;
  rc.cluster_id = config_.cluster_id;
  publisher_ = std::make_unique<MetadataPublisher>(rt_, rc.node_id, config_.snapshot_bytes_min, config_.controller_bugs);
  transport_ = std::make_unique<raft::NetworkTransport>(rt_, rc.voters, fmt::format("samsa-node-{}", rc.node_id));
  // Forwarded DescribeQuorum requests get connections of their own: the quorum's are busy
  // with long-polling fetches back to back.
  forward_transport_ = std::make_unique<raft::NetworkTransport>(rt_, rc.voters, fmt::format("samsa-node-{}-forward", rc.node_id));
  raft_ = std::make_unique<raft::RaftClient>(rt_, rc, *transport_, *publisher_);
  publisher_->attach(raft_.get());
  if (config_.controller_role) {
    controller::ControllerConfig cc;
    cc.session_timeout_ms = config_.broker_session_timeout_ms;
    cc.heartbeat_interval_ms = config_.broker_heartbeat_interval_ms;
    cc.unclean_leader_election_enable = config_.unclean_leader_election_enable;
    // The brokers' default too (each reads its own property): they must agree on the ISR size
    // below which the high watermark stops, since the ELR rests on it.
    cc.min_insync_replicas = config_.broker.min_insync_replicas;
    cc.default_partitions = config_.broker.num_partitions;
    cc.default_replication_factor = static_cast<int16_t>(config_.broker.default_replication_factor);
    cc.bugs = config_.controller_bugs;
    quorum_controller_ = std::make_unique<QuorumController>(rt_, rc.node_id, config_.cluster_id, *raft_, *publisher_, cc);
    publisher_->set_leader_hook([this](const raft::LeaderAndEpoch& l) { quorum_controller_->on_leader_change(l); });
    controller_apis_ = std::make_unique<ControllerApis>(*quorum_controller_);
  }
  controller_handler_ = std::make_unique<raft::RaftRequestHandler>(*raft_, controller_apis_.get());
  controller_server_ = std::make_unique<FrameServer>(rt_, *controller_handler_, FrameServerLimits{});
  // DescribeQuorum on the broker listener: the leader's answer, asked over the quorum's own
  // connections when this node does not lead.
  broker_quorum_handler_ = std::make_unique<raft::RaftRequestHandler>(*raft_);
  broker_quorum_handler_->set_describe([this](const raft::DescribeQuorumRequest& q) { return describe_from_leader(q); });
  SAMSA_TRY(raft_->start());
  if (quorum_controller_) quorum_controller_->start();
  if (config_.controller_role) {
    Status s = controller_server_->start(config_.controller_listener);
    if (!s.ok()) {
      rt_.log(LogLevel::error, fmt::format("cannot listen on the controller listener {}: {}",
                                           config_.controller_listener.to_string(), errc_name(s.code())));
      return s;
    }
    controller_listening_ = true;
    rt_.log(LogLevel::info, fmt::format("metadata quorum voter {} listening on {} ({} voters)", rc.node_id,
                                        controller_server_->local_address().to_string(), rc.voters.size()));
  } else {
    rt_.log(LogLevel::info, fmt::format("metadata quorum observer {} ({} voters)", rc.node_id, rc.voters.size()));
  }
  return Status{};
}

raft::DescribeQuorumResponse Node::describe_from_leader(const raft::DescribeQuorumRequest& request) {
  raft::DescribeQuorumResponse mine = raft_->handle_describe_quorum(request);
  const std::optional<int32_t> leader = raft_->leader().leader_id;
  if (mine.error_code == 0 || !leader || *leader == config_.broker.node_id || !config_.voters.count(*leader)) return mine;
  Result<raft::DescribeQuorumResponse> theirs = forward_transport_->describe_quorum(*leader, rt_.after(kForwardTimeout));
  if (!theirs.ok()) {
    rt_.log(LogLevel::warn, fmt::format("DescribeQuorum: the leader (node {}) did not answer: {}", *leader, errc_name(theirs.error())));
  }
  return theirs.ok() ? *theirs : mine;
}

Status Node::start() {
  if (config_.kraft) SAMSA_TRY(start_quorum_member());
  if (config_.broker_role) {
    broker_ = std::make_unique<broker::Broker>(rt_, config_.broker);
    if (broker_quorum_handler_) broker_->set_describe_quorum_handler(broker_quorum_handler_.get());
    if (config_.kraft) {
      lifecycle_ = std::make_unique<BrokerLifecycle>(rt_, config_, *publisher_, *broker_);
      broker_->set_cluster(lifecycle_.get());
    }
    SAMSA_TRY(broker_->start());
    broker_started_ = true;
    if (lifecycle_) lifecycle_->start();
  }
  return Status{};
}

void Node::shutdown() {
  if (!stopped_ && config_.controlled_shutdown_enable && lifecycle_) {
    (void)lifecycle_->controlled_shutdown(rt_.after(kControlledShutdownMax));
  }
  stop();
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (lifecycle_) lifecycle_->stop();
  if (broker_ && broker_started_) broker_->stop();
  // Whatever stops it, a broker whose fsync failed may have lost acknowledged writes (the kernel
  // may drop the unsynced pages): it must not come back as a clean restart (KIP-966), however
  // the failure was noticed (a log may fail after another error began the halt).
  if (lifecycle_ && broker_ && broker_->failed_with_loss()) (void)lifecycle_->forget_broker_epoch();
  if (controller_listening_) controller_server_->stop();
  if (quorum_controller_) quorum_controller_->stop();
  if (raft_) raft_->stop();
}

// Forgets the broker epoch as soon as a halt finds writes may be lost, not only in stop(): the
// process may be killed while stop() flushes the failing disk, and a restart on the same boot
// must still register as after a power loss (KIP-966).
Status Node::halting() {
  if (lifecycle_ && broker_ && broker_->failed_with_loss()) (void)lifecycle_->forget_broker_epoch();
  return Errc::io_error;
}

Status Node::wait_for_failure(Deadline deadline) {
  for (;;) {
    if (raft_ && raft_->failed()) return halting();
    const Deadline slice = rt_.after(kFailurePollInterval);
    const Deadline next = slice.at < deadline.at ? slice : deadline;
    if (broker_) {
      Status s = broker_->wait_for_failure(next);
      if (s.code() == Errc::io_error) return halting();
      if (s.code() == Errc::cancelled) return s;
    } else {
      Status s = rt_.sleep_until(next);
      if (!s.ok()) return s;
    }
    if (rt_.now() >= deadline.at) return Errc::timed_out;
  }
}

}  // namespace samsa::server
