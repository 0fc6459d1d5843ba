#include "server/broker_lifecycle.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "broker/config_rules.h"
#include "broker/request_handler.h"
#include "log/checkpoint_file.h"

namespace samsa::server {

using kafka::Error;

Result<std::shared_ptr<client::Connection>> ControllerChannel::connection(Deadline deadline) {
  const std::optional<int32_t> leader = metadata_.leader().leader_id;
  if (!leader) return Errc::unavailable;
  if (conn_ && conn_to_ == *leader && !conn_->broken()) return conn_;
  conn_.reset();
  auto it = voters_.find(*leader);
  if (it == voters_.end()) return Errc::host_unreachable;
  Result<std::unique_ptr<client::Connection>> c = client::Connection::open(rt_, it->second, client_id_, deadline);
  if (!c.ok()) return c.status();
  conn_ = std::shared_ptr<client::Connection>(std::move(*c));
  conn_to_ = *leader;
  return conn_;
}

BrokerLifecycle::BrokerLifecycle(Runtime& rt, const NodeConfig& config, MetadataPublisher& metadata, broker::Broker& broker)
    : rt_(rt),
      config_(config),
      metadata_(metadata),
      broker_(broker),
      incarnation_id_(kafka::Uuid::from_random(rt.random_u64(), rt.random_u64())),
      lifecycle_channel_(rt, config.voters, metadata, fmt::format("samsa-broker-{}-lifecycle", config.broker.node_id)),
      forward_channel_(rt, config.voters, metadata, fmt::format("samsa-broker-{}-forwarding", config.broker.node_id)),
      alter_partition_channel_(rt, config.voters, metadata,
                               fmt::format("samsa-broker-{}-alter-partition", config.broker.node_id)),
      leaders_(rt, metadata, config.broker.node_id),
      fetcher_(rt, model::BrokerId{config.broker.node_id}, broker.partitions(), leaders_),
      isr_(rt, *this, metadata, broker.partitions(), std::chrono::milliseconds(config.broker.replica_lag_time_max_ms)) {}

BrokerLifecycle::~BrokerLifecycle() = default;

void BrokerLifecycle::start() {
  SAMSA_ASSERT(lifecycle_fiber_ == kNoFiber);
  lifecycle_fiber_ = rt_.spawn("broker-lifecycle", [this] { lifecycle_loop(); });
  logs_fiber_ = rt_.spawn("broker-metadata-logs", [this] { logs_loop(); });
  isr_.start();
}

void BrokerLifecycle::stop() {
  for (FiberId* f : {&lifecycle_fiber_, &logs_fiber_}) {
    if (*f == kNoFiber) continue;
    rt_.cancel(*f);
    (void)rt_.join(*f, Deadline::never());
    *f = kNoFiber;
  }
  isr_.stop();
  fetcher_.stop();
}

int64_t BrokerLifecycle::previous_broker_epoch() {
  if (previous_broker_epoch_) return *previous_broker_epoch_;
  Result<std::vector<std::string>> lines = read_checkpoint(rt_, config_.broker.log_dir, kEpochFile);
  const std::string boot = rt_.boot_id();
  int64_t epoch = -1;
  if (lines.ok() && lines->size() == 2 && !boot.empty() && (*lines)[1] == boot) {
    std::from_chars((*lines)[0].data(), (*lines)[0].data() + (*lines)[0].size(), epoch);
  }
  previous_broker_epoch_ = epoch;
  rt_.log(LogLevel::info, epoch >= 0 ? fmt::format("restarted on the same boot: previous broker epoch {}", epoch)
                                     : std::string("no previous broker epoch on this boot (first start, reboot or power loss)"));
  return epoch;
}

bool BrokerLifecycle::forget_broker_epoch() {
  const Status s = write_checkpoint(rt_, config_.broker.log_dir, kEpochFile, {"-1", rt_.boot_id()});
  if (!s.ok()) rt_.log(LogLevel::error, fmt::format("cannot forget the broker epoch in {}: {}", kEpochFile, s.name()));
  return s.ok();
}

Status BrokerLifecycle::register_once() {
  kafka::BrokerRegistrationRequest req;
  req.previous_broker_epoch = previous_broker_epoch();
  req.broker_id = config_.broker.node_id;
  req.cluster_id = config_.cluster_id;
  req.incarnation_id = incarnation_id_;
  const Address& a = broker_.advertised_address();
  req.listeners.push_back({.name = broker::kBrokerListenerName, .host = a.host, .port = a.port, .security_protocol = 0});
  Result<kafka::BrokerRegistrationResponse> r =
      lifecycle_channel_.call<kafka::BrokerRegistrationRequest, kafka::BrokerRegistrationResponse>(
          kafka::ApiKey::broker_registration, 3, req, rt_.after(kRequestTimeout));
  if (!r.ok()) return r.status();
  if (r->error_code != 0) {
    rt_.log(LogLevel::debug, fmt::format("registration refused: {}", kafka::error_name(r->error_code)));
    return Errc::unavailable;
  }
  broker_epoch_ = r->broker_epoch;
  fetcher_.set_broker_epoch(broker_epoch_);  // KIP-903: every fetch names this incarnation
  if (Status s = write_checkpoint(rt_, config_.broker.log_dir, kEpochFile, {std::to_string(broker_epoch_), rt_.boot_id()});
      !s.ok()) {
    rt_.log(LogLevel::warn, fmt::format("cannot write {}: {}", kEpochFile, s.name()));
  }
  fenced_ = true;
  caught_up_ = false;  // until it has applied this registration
  rt_.log(LogLevel::info, fmt::format("broker {} registered with the controller, epoch {}", req.broker_id, broker_epoch_));
  return Status{};
}

Status BrokerLifecycle::heartbeat_once() {
  kafka::BrokerHeartbeatRequest req;
  req.broker_id = config_.broker.node_id;
  req.broker_epoch = broker_epoch_;
  req.current_metadata_offset = metadata_.applied_end() - 1;
  req.want_shut_down = want_shut_down_;
  Result<kafka::BrokerHeartbeatResponse> r = lifecycle_channel_.call<kafka::BrokerHeartbeatRequest, kafka::BrokerHeartbeatResponse>(
      kafka::ApiKey::broker_heartbeat, 1, req, rt_.after(kRequestTimeout));
  if (!r.ok()) return r.status();
  const Error e = static_cast<Error>(r->error_code);
  if (e == Error::stale_broker_epoch || e == Error::broker_id_not_registered) {
    broker_epoch_ = -1;  // register again
    fetcher_.set_broker_epoch(-1);
    return Errc::unavailable;
  }
  if (e != Error::none) return Errc::unavailable;
  if (r->is_caught_up && !caught_up_) rt_.log(LogLevel::info, "broker caught up with the metadata log");
  if (fenced_ && !r->is_fenced) rt_.log(LogLevel::info, fmt::format("broker {} unfenced", req.broker_id));
  caught_up_ = caught_up_ || r->is_caught_up;
  fenced_ = r->is_fenced;
  should_shut_down_ = want_shut_down_ && r->should_shut_down;
  return Status{};
}

bool BrokerLifecycle::controlled_shutdown(Deadline deadline) {
  if (lifecycle_fiber_ == kNoFiber || broker_epoch_ < 0) return false;  // never registered: nothing to hand over
  want_shut_down_ = true;
  rt_.log(LogLevel::info, "controlled shutdown: asking the controller to move this broker's leaderships");
  const int32_t self = config_.broker.node_id;
  for (;;) {
    const controller::BrokerRegistration* me = metadata_.image().broker(self);
    bool leads = false;
    for (const auto& [name, t] : metadata_.image().topics()) {
      for (const controller::PartitionState& p : t.partitions) leads = leads || p.leader == self;
    }
    if (should_shut_down_ && me != nullptr && me->fenced && !leads) {
      rt_.log(LogLevel::info, "controlled shutdown: leaderships moved; stopping");
      return true;
    }
    if (rt_.now() >= deadline.at || !rt_.sleep(kFencedHeartbeatInterval).ok()) {
      rt_.log(LogLevel::warn, "controlled shutdown did not complete; stopping anyway");
      return false;
    }
  }
}

void BrokerLifecycle::lifecycle_loop() {
  const Duration interval = std::chrono::milliseconds(config_.broker_heartbeat_interval_ms);
  for (;;) {
    Status s = broker_epoch_ < 0 ? register_once() : heartbeat_once();
    if (s.code() == Errc::cancelled) return;
    if (!s.ok()) {
      rt_.log(LogLevel::debug, fmt::format("{} failed: {}", broker_epoch_ < 0 ? "registration" : "heartbeat", s.name()));
      lifecycle_channel_.reset();
    }
    const bool quick = fenced_ || want_shut_down_;
    const Duration next = !s.ok() ? kRetryBackoff : quick ? std::min(interval, kFencedHeartbeatInterval) : interval;
    if (rt_.sleep(next).code() == Errc::cancelled) return;
  }
}

void BrokerLifecycle::logs_loop() {
  int64_t reconciled_at = -1;
  for (;;) {
    if (caught_up_ && metadata_.applied_end() != reconciled_at) {
      reconciled_at = metadata_.applied_end();
      if (!reconcile_logs()) reconciled_at = -1;  // a log that could not be opened: again next round
    }
    Status s = metadata_.changed().wait(rt_.after(kReconcileInterval));
    if (s.code() == Errc::cancelled) return;
  }
}

namespace {

// One partition this broker holds a replica of, as the image describes it.
struct WantedPartition {
  model::TopicPartition tp;
  replication::PartitionState state;
  LogConfig log;
};

std::vector<WantedPartition> wanted_partitions(const controller::MetadataImage& image, const broker::BrokerConfig& config) {
  std::vector<WantedPartition> out;
  const broker::ConfigOverrides none;
  for (const auto& [name, t] : image.topics()) {
    const broker::ConfigOverrides* configs = image.configs(controller::kConfigTopic, name);
    const broker::ConfigOverrides& overrides = configs != nullptr ? *configs : none;
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const controller::PartitionState& p = t.partitions[i];
      if (!controller::contains(p.replicas, config.node_id)) continue;
      replication::PartitionState state{.topic_id = t.id.to_string(), .leader = model::BrokerId{p.leader},
                                        .leader_epoch = p.leader_epoch, .partition_epoch = p.partition_epoch,
                                        .replicas = p.replicas, .isr = p.isr,
                                        .min_insync_replicas = broker::topic_min_insync_replicas(config, overrides)};
      out.push_back({{name, static_cast<int32_t>(i)}, std::move(state), broker::topic_log_config(config, overrides)});
    }
  }
  SAMSA_ASSERT(std::is_sorted(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tp < b.tp; }));
  return out;
}

const model::TopicPartition& tp_of(const WantedPartition& w) { return w.tp; }
const model::TopicPartition& tp_of(const model::TopicPartition& tp) { return tp; }

}  // namespace

bool BrokerLifecycle::reconcile_logs() {
  LogManager& logs = broker_.logs();
  replication::PartitionTable& partitions = broker_.partitions();
  // Copied now: the image may change while the disk work below suspends.
  const std::vector<WantedPartition> wanted = wanted_partitions(metadata_.image(), broker_.config());
  // wanted is in (topic, partition) order: the image's topics are a map by name.
  auto keep = [&wanted](const model::TopicPartition& tp) {
    return std::binary_search(wanted.begin(), wanted.end(), tp,
                              [](const auto& a, const auto& b) { return tp_of(a) < tp_of(b); });
  };
  // First, without suspending, the partitions held already take the image's view (a leader
  // change must not wait for another partition's log to open); those gone leave the table.
  partitions.retain(keep);
  for (const WantedPartition& w : wanted) {
    const std::string* id = logs.topic_id(w.tp);
    if (id != nullptr && *id == w.state.topic_id) partitions.put(w.tp, w.state);
  }
  fetcher_.refresh();
  broker_.follow_offsets_topic();
  // Then the disk. A log held with no topic id is not the metadata's to remove.
  for (const model::TopicPartition& tp : logs.held()) {
    const std::string* id = logs.topic_id(tp);
    if (id != nullptr && !id->empty() && !keep(tp)) (void)logs.remove_log(tp);
  }
  bool all = true;
  for (const WantedPartition& w : wanted) {
    Result<std::shared_ptr<PartitionLog>> log = logs.open_log(w.tp, w.state.topic_id, w.log);
    if (!log.ok()) {
      rt_.log(LogLevel::warn, fmt::format("cannot open {}: {} (retried)", w.tp.to_string(), errc_name(log.error())));
      all = false;
    }
    const std::string* id = logs.topic_id(w.tp);
    if (id != nullptr && *id == w.state.topic_id) partitions.put(w.tp, w.state);
  }
  fetcher_.refresh();
  broker_.follow_offsets_topic();
  if (!logs.remove_strays(keep).ok()) all = false;
  return all;
}

template <typename Pred>
void BrokerLifecycle::wait_for_image(Pred seen) {
  const Deadline deadline = rt_.after(kSeeOwnWriteMax);
  while (!seen(metadata_.image())) {
    if (!metadata_.changed().wait(deadline).ok()) return;
  }
}

kafka::CreateTopicsResponse BrokerLifecycle::create_topics(const kafka::CreateTopicsRequest& request) {
  kafka::CreateTopicsRequest forwarded = request;
  Result<kafka::CreateTopicsResponse> r = forward_channel_.call<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      kafka::ApiKey::create_topics, 7, forwarded, rt_.after(kRequestTimeout));
  if (!r.ok()) {
    kafka::CreateTopicsResponse failed;
    for (const auto& t : request.topics) {
      failed.topics.push_back({.name = t.name, .error_code = kafka::code(Error::request_timed_out),
                               .error_message = "the active controller could not be reached"});
    }
    return failed;
  }
  if (!request.validate_only) {
    wait_for_image([&](const controller::MetadataImage& image) {
      for (const auto& t : r->topics) {
        if (t.error_code == 0 && image.topic_by_id(t.topic_id) == nullptr) return false;
      }
      return true;
    });
  }
  return std::move(*r);
}

kafka::DeleteTopicsResponse BrokerLifecycle::delete_topics(const kafka::DeleteTopicsRequest& request) {
  // Forwarded at v6, where topics are named in `topics` (v0-5 had `topic_names`).
  kafka::DeleteTopicsRequest forwarded = request;
  for (const std::string& name : forwarded.topic_names) forwarded.topics.push_back({.name = name});
  forwarded.topic_names.clear();
  Result<kafka::DeleteTopicsResponse> r = forward_channel_.call<kafka::DeleteTopicsRequest, kafka::DeleteTopicsResponse>(
      kafka::ApiKey::delete_topics, 6, forwarded, rt_.after(kRequestTimeout));
  if (!r.ok()) {
    kafka::DeleteTopicsResponse failed;
    for (const auto& n : request.topic_names) failed.responses.push_back({.name = n, .error_code = kafka::code(Error::request_timed_out)});
    for (const auto& t : request.topics) {
      failed.responses.push_back({.name = t.name, .topic_id = t.topic_id, .error_code = kafka::code(Error::request_timed_out)});
    }
    return failed;
  }
  wait_for_image([&](const controller::MetadataImage& image) {
    for (const auto& t : r->responses) {
      if (t.error_code == 0 && image.topic_by_id(t.topic_id) != nullptr) return false;
    }
    return true;
  });
  return std::move(*r);
}

kafka::ElectLeadersResponse BrokerLifecycle::elect_leaders(const kafka::ElectLeadersRequest& request) {
  kafka::ElectLeadersRequest forwarded = request;
  Result<kafka::ElectLeadersResponse> r = forward_channel_.call<kafka::ElectLeadersRequest, kafka::ElectLeadersResponse>(
      kafka::ApiKey::elect_leaders, 2, forwarded, rt_.after(kRequestTimeout));
  if (!r.ok()) {  // per partition too: ElectLeaders v0 has no top-level error
    kafka::ElectLeadersResponse failed;
    failed.error_code = kafka::code(Error::request_timed_out);
    if (request.topic_partitions) {
      for (const auto& t : *request.topic_partitions) {
        auto& out = failed.replica_election_results.emplace_back();
        out.topic = t.topic;
        for (int32_t p : t.partitions) {
          out.partition_result.push_back({.partition_id = p, .error_code = kafka::code(Error::request_timed_out),
                                          .error_message = std::string(kafka::error_name(Error::request_timed_out))});
        }
      }
    }
    return failed;
  }
  // Elected to a replica: this broker's image shows that replica leading (preferred: the first).
  wait_for_image([&](const controller::MetadataImage& image) {
    for (const auto& t : r->replica_election_results) {
      const controller::TopicImage* topic = image.topic(t.topic);
      for (const auto& p : t.partition_result) {
        if (p.error_code != 0 || topic == nullptr || p.partition_id < 0 ||
            static_cast<size_t>(p.partition_id) >= topic->partitions.size()) {
          continue;
        }
        const controller::PartitionState& s = topic->partitions[static_cast<size_t>(p.partition_id)];
        if (s.leader == controller::kNoLeader || (request.election_type == 0 && !s.replicas.empty() && s.leader != s.replicas.front())) {
          return false;
        }
      }
    }
    return true;
  });
  return std::move(*r);
}

kafka::CreatePartitionsResponse BrokerLifecycle::create_partitions(const kafka::CreatePartitionsRequest& request) {
  kafka::CreatePartitionsRequest forwarded = request;
  Result<kafka::CreatePartitionsResponse> r =
      forward_channel_.call<kafka::CreatePartitionsRequest, kafka::CreatePartitionsResponse>(
          kafka::ApiKey::create_partitions, 3, forwarded, rt_.after(kRequestTimeout));
  if (!r.ok()) {
    kafka::CreatePartitionsResponse failed;
    for (const auto& t : request.topics) failed.results.push_back({.name = t.name, .error_code = kafka::code(Error::request_timed_out)});
    return failed;
  }
  std::map<std::string, int32_t> counts;
  for (const auto& t : request.topics) counts[t.name] = t.count;
  if (!request.validate_only) {
    wait_for_image([&](const controller::MetadataImage& image) {
      for (const auto& res : r->results) {
        const controller::TopicImage* t = image.topic(res.name);
        if (res.error_code == 0 && (t == nullptr || static_cast<int32_t>(t->partitions.size()) < counts[res.name])) return false;
      }
      return true;
    });
  }
  return std::move(*r);
}

template <typename Resp, typename Req, typename Applied>
Resp BrokerLifecycle::forward_configs(kafka::ApiKey key, int16_t max_version, const Req& request, Applied applied) {
  Req forwarded = request;
  Result<Resp> r = forward_channel_.call<Req, Resp>(key, max_version, forwarded, rt_.after(kRequestTimeout));
  if (!r.ok()) {
    Resp failed;
    for (const auto& res : request.resources) {
      failed.responses.push_back({.error_code = kafka::code(Error::request_timed_out),
                                  .error_message = "the active controller could not be reached",
                                  .resource_type = res.resource_type, .resource_name = res.resource_name});
    }
    return failed;
  }
  if (!request.validate_only && r->responses.size() == request.resources.size()) {
    wait_for_image([&](const controller::MetadataImage& image) {
      for (size_t i = 0; i < request.resources.size(); ++i) {
        if (r->responses[i].error_code == 0 && !applied(image, request.resources[i])) return false;
      }
      return true;
    });
  }
  return std::move(*r);
}

kafka::IncrementalAlterConfigsResponse BrokerLifecycle::incremental_alter_configs(
    const kafka::IncrementalAlterConfigsRequest& request) {
  using Request = kafka::IncrementalAlterConfigsRequest;
  return forward_configs<kafka::IncrementalAlterConfigsResponse>(
      kafka::ApiKey::incremental_alter_configs, 1, request,
      [](const controller::MetadataImage& image, const Request::Resource& res) {
        std::map<std::string, std::string> now;
        if (const auto* configs = image.configs(controller::kConfigTopic, res.resource_name)) now = *configs;
        // Applied when applying the operations again changes nothing.
        std::map<std::string, std::string> again = now;
        return !broker::apply_config_ops(res.configs, again) && again == now;
      });
}

kafka::AlterConfigsResponse BrokerLifecycle::alter_configs(const kafka::AlterConfigsRequest& request) {
  return forward_configs<kafka::AlterConfigsResponse>(
      kafka::ApiKey::alter_configs, 2, request,
      [](const controller::MetadataImage& image, const kafka::AlterConfigsRequest::Resource& res) {
        std::map<std::string, std::string> want;
        for (const auto& c : res.configs) {
          if (c.value) want[c.name] = *c.value;
        }
        const auto* now = image.configs(controller::kConfigTopic, res.resource_name);
        return now != nullptr ? *now == want : want.empty();
      });
}

kafka::AlterPartitionResponse BrokerLifecycle::alter_partition(kafka::AlterPartitionRequest request) {
  request.broker_id = config_.broker.node_id;
  request.broker_epoch = broker_epoch_;
  // Whichever version the controller picks finds its fields: names for v0-1, a plain ISR for v0-2.
  for (auto& t : request.topics) {
    if (const controller::TopicImage* topic = metadata_.image().topic_by_id(t.topic_id)) t.topic_name = topic->name;
    for (auto& p : t.partitions) {
      p.new_isr.clear();
      for (const auto& m : p.new_isr_with_epochs) p.new_isr.push_back(m.broker_id);
    }
  }
  Result<kafka::AlterPartitionResponse> r =
      alter_partition_channel_.call<kafka::AlterPartitionRequest, kafka::AlterPartitionResponse>(
          kafka::ApiKey::alter_partition, 3, request, rt_.after(kRequestTimeout));
  if (!r.ok()) {
    kafka::AlterPartitionResponse failed;
    failed.error_code = kafka::code(Error::request_timed_out);
    return failed;
  }
  return std::move(*r);
}

}  // namespace samsa::server
