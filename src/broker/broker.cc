#include "broker/broker.h"

#include "runtime/log.h"

namespace samsa::broker {

Broker::Broker(Runtime& rt, BrokerConfig config)
    : rt_(rt),
      config_(std::move(config)),
      logs_(rt, config_.log_dir),
      partitions_(rt, model::BrokerId{config_.node_id}, logs_),
      failed_(std::make_unique<Event>(rt)) {}

Broker::~Broker() = default;

void Broker::follow_offsets_topic() {
  SAMSA_ASSERT(cluster_ != nullptr && groups_ != nullptr);
  const controller::TopicImage* t = cluster_->image().topic(groups::GroupCoordinator::kOffsetsTopic);
  follow_offsets_leadership(partitions_, t != nullptr ? static_cast<int32_t>(t->partitions.size()) : 0, *groups_);
}

Status Broker::start() {
  for (const std::string& key : config_.unknown_keys) logf(rt_, LogLevel::warn, "ignoring unknown property {}", key);
  // Kafka halts a KRaft broker whose (only) log dir failed: its replicas may have lost what they
  // told their leaders they hold, so they must come back through recovery and a new broker epoch.
  if (cluster_ != nullptr) logs_.set_failure_policy(LogManager::FailurePolicy::halt);
  topics_ = std::make_unique<TopicManager>(rt_, config_, logs_, partitions_);
  // In a cluster the metadata log says which partitions live here (src/server reconciles them).
  if (Status s = topics_->open_meta(); !s.ok()) {
    logf(rt_, LogLevel::error, "cannot open log dir {}: {}", config_.log_dir, s.name());
    return s;
  }
  groups::GroupConfig gc;
  gc.initial_rebalance_delay_ms = config_.group_initial_rebalance_delay_ms;
  gc.min_session_timeout_ms = config_.group_min_session_timeout_ms;
  gc.max_session_timeout_ms = config_.group_max_session_timeout_ms;
  gc.members_max = static_cast<size_t>(config_.group_max_size);
  gc.groups_max = static_cast<size_t>(config_.group_max_count);
  groups_ = std::make_unique<groups::GroupCoordinator>(rt_, gc);
  if (cluster_ != nullptr) {
    // __consumer_offsets is a replicated topic: the coordinator hosts the partitions this broker
    // leads, as the node's reconciliation reports them (follow_offsets_topic()).
    offsets_store_ = std::make_unique<ReplicatedOffsetsStore>(rt_, partitions_,
                                                              std::chrono::milliseconds(config_.offsets_commit_timeout_ms));
    groups_->start_cluster(*offsets_store_);
  } else if (Status s = groups_->start(logs_); !s.ok()) {
    logf(rt_, LogLevel::error, "cannot load consumer groups: {}", s.name());
    return s;
  }
  // After the group coordinator opened its log: what no one holds then is a stray directory.
  if (Status s = cluster_ == nullptr ? topics_->open() : Status{}; !s.ok()) {
    logf(rt_, LogLevel::error, "cannot open the topics in {}: {}", config_.log_dir, s.name());
    return s;
  }
  FrameServerLimits limits;
  limits.frame_bytes_max = config_.socket_request_max_bytes;
  limits.queued_bytes_max = std::max<uint64_t>(limits.queued_bytes_max, config_.socket_request_max_bytes);
  limits.connections_max = static_cast<size_t>(config_.max_connections);
  limits.connections_per_peer_max = static_cast<size_t>(config_.max_connections_per_ip);
  // -1 (Kafka's "unbounded") still gets a bound: memory is not infinite.
  limits.queued_bytes_total_max = config_.queued_max_request_bytes < 0 ? uint64_t{4} << 30
                                                                       : std::max<uint64_t>(config_.queued_max_request_bytes, kFrameChunkBytes);
  handler_ = std::make_unique<RequestHandler>(rt_, config_, *topics_, logs_, partitions_, *groups_,
                                              config_.advertised_address());
  handler_->set_describe_quorum_handler(describe_quorum_);
  handler_->set_cluster(cluster_);
  server_ = std::make_unique<FrameServer>(rt_, *handler_, limits);
  if (Status s = server_->start(config_.listener); !s.ok()) {
    logf(rt_, LogLevel::error, "cannot listen on {}: {}", config_.listener.to_string(), s.name());
    return s;
  }
  // Port 0 or every interface: tell clients the real port, on localhost. Safe to change now:
  // the accept fiber has not run yet, so no request has been answered.
  Address advertised = config_.advertised_address();
  if (advertised.port == 0) advertised.port = server_->local_address().port;
  if (advertised.host == "0.0.0.0" || advertised.host.empty()) advertised.host = "localhost";
  handler_->set_advertised(advertised);
  maintenance_ = rt_.spawn("broker-maintenance", [this] { maintenance_loop(); });
  logf(rt_, LogLevel::info, "samsa broker {} listening on {} (advertised {}), data in {}", config_.node_id,
       server_->local_address().to_string(), advertised.to_string(), config_.log_dir);
  return Status{};
}

void Broker::maintenance_loop() {
  Instant next_retention = rt_.now() + std::chrono::milliseconds(config_.retention_check_interval_ms);
  for (;;) {
    if (!rt_.sleep(std::chrono::milliseconds(config_.flush_scheduler_interval_ms)).ok()) return;
    const bool retention_due = rt_.now() >= next_retention;
    if (retention_due) next_retention = rt_.now() + std::chrono::milliseconds(config_.retention_check_interval_ms);
    logs_.maintain(retention_due);
    if (!failed_->is_set() && groups_->offline()) {
      logf(rt_, LogLevel::error, "the consumer offsets log failed (a disk error took it offline): halting");
      failed_->set();
    }
    if (!failed_->is_set() && logs_.failed_partition()) {
      logf(rt_, LogLevel::error, "log dir {} failed (a disk error took {} offline): halting", config_.log_dir,
           logs_.failed_partition()->to_string());
      failed_->set();
    }
  }
}

Status Broker::wait_for_failure(Deadline deadline) {
  SAMSA_TRY(failed_->wait(deadline));
  return Errc::io_error;
}

void Broker::stop() {
  if (maintenance_ != kNoFiber) {
    rt_.cancel(maintenance_);
    (void)rt_.join(maintenance_, Deadline::never());
  }
  if (server_) server_->stop();
  if (groups_) groups_->stop();
  logs_.checkpoint_all();
  logf(rt_, LogLevel::info, "samsa broker {} stopped", config_.node_id);
}

}  // namespace samsa::broker
