#include "server/quorum_controller.h"

#include <fmt/format.h>

#include <set>

#include "broker/config_rules.h"
#include "protocol/errors.h"

namespace samsa::server {

using kafka::Error;

QuorumController::QuorumController(Runtime& rt, int32_t node_id, std::string cluster_id, raft::RaftClient& raft,
                                   MetadataPublisher& metadata, controller::ControllerConfig config)
    : rt_(rt), node_id_(node_id), raft_(raft), metadata_(metadata), controller_(config), mu_(rt),
      cluster_id_(std::move(cluster_id)) {}

QuorumController::~QuorumController() = default;

void QuorumController::start() {
  SAMSA_ASSERT(expiry_fiber_ == kNoFiber);
  expiry_fiber_ = rt_.spawn("controller-expiry", [this] { expiry_loop(); });
}

void QuorumController::stop() {
  if (expiry_fiber_ == kNoFiber) return;
  rt_.cancel(expiry_fiber_);
  (void)rt_.join(expiry_fiber_, Deadline::never());
  expiry_fiber_ = kNoFiber;
}

void QuorumController::on_leader_change(const raft::LeaderAndEpoch& leader) {
  if (leader.leader_id == node_id_) {
    active_epoch_ = leader.epoch;
    controller_.activate(metadata_.image(), now_ms());
    rt_.log(LogLevel::info, fmt::format("controller {} active in epoch {}", node_id_, leader.epoch));
  } else {
    active_epoch_.reset();
  }
}

Error QuorumController::lock_active() {
  if (!active()) return Error::not_controller;
  const Deadline deadline = rt_.after(kCommitTimeout);
  if (!mu_.lock(deadline).ok()) return Error::request_timed_out;
  // A write that timed out may still commit: no decision until the image holds it (or this
  // controller's epoch is over), else the next decision would be made on a stale image.
  while (active() && *active_epoch_ == appended_epoch_ && metadata_.applied_end() < appended_end_) {
    if (!metadata_.changed().wait(deadline).ok()) break;
  }
  if (!active() || (*active_epoch_ == appended_epoch_ && metadata_.applied_end() < appended_end_)) {
    const Error e = active() ? Error::request_timed_out : Error::not_controller;
    mu_.unlock();
    return e;
  }
  return Error::none;
}

// One append per decision: a request's records commit together or not at all.
Error QuorumController::commit_records(const std::vector<controller::MetadataRecord>& records) {
  SAMSA_ASSERT(mu_.locked());
  if (records.empty()) return Error::none;
  if (!active_epoch_) return Error::not_controller;
  if (records.size() > raft_.config().append_records_max) return Error::policy_violation;
  const int32_t epoch = *active_epoch_;
  std::vector<std::vector<std::byte>> values;
  values.reserve(records.size());
  for (const controller::MetadataRecord& r : records) values.push_back(controller::encode_record(r));
  Result<int64_t> last = raft_.append(epoch, std::move(values));
  if (!last.ok()) {
    if (last.error() == Errc::unavailable) return Error::not_controller;
    return last.error() == Errc::too_large || last.error() == Errc::invalid_argument ? Error::policy_violation
                                                                                     : Error::unknown_server_error;
  }
  appended_epoch_ = epoch;
  appended_end_ = *last + 1;
  if (controller_.config().bugs.ack_before_commit) {
    records_written_ += records.size();
    appended_end_ = 0;  // the planted bug: the next decision reads an image without these records
    return Error::none;
  }
  const Deadline deadline = rt_.after(kCommitTimeout);
  // Applied in this epoch means committed as ours: a leader never loses its own entries.
  while (metadata_.applied_end() <= *last) {
    if (active_epoch_ != epoch) return Error::not_controller;
    Status s = metadata_.changed().wait(deadline);
    if (s.code() == Errc::timed_out) return Error::request_timed_out;
    if (!s.ok()) return Error::not_controller;  // cancelled: the node stops
  }
  if (active_epoch_ != epoch) return Error::not_controller;
  records_written_ += records.size();
  return Error::none;
}

bool QuorumController::Staged::add(const std::vector<controller::MetadataRecord>& more) {
  controller::MetadataImage next = image;
  for (const controller::MetadataRecord& r : more) {
    if (!next.apply(r).ok()) return false;  // the controller promises it applies: a bug
  }
  image = std::move(next);
  records.insert(records.end(), more.begin(), more.end());
  return true;
}

controller::PlacementChoice QuorumController::random_placement() {
  return {static_cast<uint32_t>(rt_.random_u64()), static_cast<uint32_t>(rt_.random_u64())};
}

kafka::BrokerRegistrationResponse QuorumController::register_broker(const kafka::BrokerRegistrationRequest& request) {
  kafka::BrokerRegistrationResponse resp;
  if (Error e = lock_active(); e != Error::none) {
    resp.error_code = kafka::code(e);
    return resp;
  }
  LockGuard guard(mu_);
  if (request.cluster_id != cluster_id_) {  // a broker of another cluster
    resp.error_code = kafka::code(Error::inconsistent_cluster_id);
    return resp;
  }
  controller::BrokerRegistrationRequest r{.broker_id = request.broker_id, .incarnation_id = request.incarnation_id,
                                          .rack = request.rack, .previous_broker_epoch = request.previous_broker_epoch};
  for (const auto& l : request.listeners) r.endpoints.push_back({l.name, l.host, l.port, l.security_protocol});
  // Kafka's broker epoch is the offset of the registration record: the next one appended.
  const int64_t new_epoch = raft_.state().log_end_offset;
  controller::RegistrationResult result = controller_.register_broker(metadata_.image(), r, new_epoch, now_ms());
  Error e = result.error != Error::none ? result.error : commit_records(result.records);
  resp.error_code = kafka::code(e);
  if (e == Error::none) {
    resp.broker_epoch = result.broker_epoch;
    if (!result.records.empty()) {
      rt_.log(LogLevel::info, fmt::format("broker {} registered with epoch {}", request.broker_id, result.broker_epoch));
    }
  }
  return resp;
}

kafka::BrokerHeartbeatResponse QuorumController::heartbeat(const kafka::BrokerHeartbeatRequest& request) {
  kafka::BrokerHeartbeatResponse resp;
  if (Error e = lock_active(); e != Error::none) {
    resp.error_code = kafka::code(e);
    return resp;
  }
  LockGuard guard(mu_);
  controller::HeartbeatRequest h{.broker_id = request.broker_id, .broker_epoch = request.broker_epoch,
                                 .current_metadata_offset = request.current_metadata_offset,
                                 .want_shut_down = request.want_shut_down};
  // Caught up: the broker has applied its own registration record (whose offset is its epoch).
  controller::HeartbeatResult result = controller_.heartbeat(metadata_.image(), h, request.broker_epoch, now_ms());
  Error e = result.error != Error::none ? result.error : commit_records(result.records);
  resp.error_code = kafka::code(e);
  resp.is_caught_up = result.is_caught_up;
  resp.is_fenced = e == Error::none ? result.is_fenced : true;
  resp.should_shut_down = e == Error::none && result.should_shut_down;
  if (e == Error::none && !result.records.empty()) {
    rt_.log(LogLevel::info, fmt::format("broker {} {}", request.broker_id,
                                        request.want_shut_down ? "in controlled shutdown: fenced, its leaderships moved"
                                                               : "unfenced"));
  }
  return resp;
}

void QuorumController::expiry_loop() {
  while (rt_.sleep(kExpiryInterval).ok()) {
    if (!active() || lock_active() != Error::none) continue;
    LockGuard guard(mu_);
    for (int k = 0; k < kFencingsPerTickMax; ++k) {
      controller::ControllerResult r = controller_.expire_sessions(metadata_.image(), now_ms());
      if (r.records.empty()) break;
      if (commit_records(r.records) != Error::none) break;
      rt_.log(LogLevel::info, "a broker's session expired: fenced, its partitions re-elected");
    }
  }
}

kafka::CreateTopicsResponse::Topic QuorumController::create_topic(const kafka::CreateTopicsRequest::Topic& t,
                                                                  Staged& staged) {
  kafka::CreateTopicsResponse::Topic out;
  out.name = t.name;
  auto fail = [&](Error e, std::string message) {
    out.error_code = kafka::code(e);
    out.error_message = std::move(message);
    return out;
  };
  // __consumer_offsets comes from the brokers (on the first FindCoordinator); they refuse it to
  // clients. The metadata log is no topic at all.
  if (t.name == "__cluster_metadata") {
    return fail(Error::invalid_request, "Topic '" + t.name + "' is an internal topic and cannot be created");
  }
  if (!t.assignments.empty()) return fail(Error::invalid_request, "manual replica assignment is not supported yet");
  controller::CreateTopicRequest r{.name = t.name, .num_partitions = t.num_partitions, .replication_factor = t.replication_factor};
  for (const auto& c : t.configs) {
    if (!c.value) continue;
    if (std::optional<std::string> bad = broker::check_topic_config(c.name, *c.value)) return fail(Error::invalid_config, *bad);
    r.configs.emplace_back(c.name, *c.value);
  }
  const kafka::Uuid id = kafka::Uuid::from_random(rt_.random_u64(), rt_.random_u64());
  controller::CreateTopicResult result = controller_.create_topic(staged.image, r, id, random_placement());
  if (result.error != Error::none) {
    std::string message = kafka::error_name(result.error);
    if (result.error == Error::topic_already_exists) message = "Topic '" + t.name + "' already exists.";
    if (result.error == Error::invalid_replication_factor) {
      size_t live = 0;
      for (const auto& [id_, b] : staged.image.brokers()) live += b.fenced ? 0 : 1;
      message = fmt::format("Replication factor: {} larger than available brokers: {}.", t.replication_factor, live);
    }
    return fail(result.error, message);
  }
  if (!staged.add(result.records)) return fail(Error::unknown_server_error, "the controller's records do not apply");
  const controller::ControllerConfig& c = controller_.config();
  out.topic_id = id;
  out.num_partitions = t.num_partitions == -1 ? c.default_partitions : t.num_partitions;
  out.replication_factor = t.replication_factor == -1 ? c.default_replication_factor : t.replication_factor;
  return out;
}

kafka::CreateTopicsResponse QuorumController::create_topics(const kafka::CreateTopicsRequest& request) {
  kafka::CreateTopicsResponse resp;
  const Error locked = lock_active();
  if (locked != Error::none) {
    for (const auto& t : request.topics) resp.topics.push_back({.name = t.name, .error_code = kafka::code(locked)});
    return resp;
  }
  LockGuard guard(mu_);
  Staged staged{metadata_.image(), {}};  // each topic is decided on an image holding the ones before
  for (const auto& t : request.topics) resp.topics.push_back(create_topic(t, staged));
  const Error e = request.validate_only ? Error::none : commit_records(staged.records);
  for (auto& t : resp.topics) {
    if (request.validate_only) t.topic_id = kafka::Uuid{};
    if (e == Error::none || t.error_code != 0) continue;
    t.error_code = kafka::code(e);
    t.error_message = kafka::error_name(e);
  }
  return resp;
}

kafka::DeleteTopicsResponse QuorumController::delete_topics(const kafka::DeleteTopicsRequest& request) {
  kafka::DeleteTopicsResponse resp;
  const Error locked = lock_active();
  std::optional<LockGuard> guard;
  if (locked == Error::none) guard.emplace(mu_);
  Staged staged{metadata_.image(), {}};
  auto one = [&](std::optional<std::string> name, const kafka::Uuid& id) {
    kafka::DeleteTopicsResponse::Topic out{.name = name, .topic_id = id};
    const controller::TopicImage* t = name ? staged.image.topic(*name) : staged.image.topic_by_id(id);
    if (locked != Error::none) {
      out.error_code = kafka::code(locked);
    } else if (t == nullptr) {
      out.error_code = kafka::code(name ? Error::unknown_topic_or_partition : Error::unknown_topic_id);
    } else {
      out.name = t->name;
      out.topic_id = t->id;
      controller::ControllerResult r = controller_.delete_topic(staged.image, t->name);
      const Error e = r.error != Error::none ? r.error : staged.add(r.records) ? Error::none : Error::unknown_server_error;
      out.error_code = kafka::code(e);
    }
    resp.responses.push_back(std::move(out));
  };
  for (const std::string& name : request.topic_names) one(name, kafka::Uuid{});
  for (const auto& t : request.topics) one(t.name, t.topic_id);
  if (locked != Error::none) return resp;
  if (const Error e = commit_records(staged.records); e != Error::none) {
    for (auto& t : resp.responses) {
      if (t.error_code == 0) t.error_code = kafka::code(e);
    }
  }
  return resp;
}

kafka::CreatePartitionsResponse QuorumController::create_partitions(const kafka::CreatePartitionsRequest& request) {
  kafka::CreatePartitionsResponse resp;
  const Error locked = lock_active();
  std::optional<LockGuard> guard;
  if (locked == Error::none) guard.emplace(mu_);
  Staged staged{metadata_.image(), {}};
  for (const auto& t : request.topics) {
    Error e = locked;
    if (e == Error::none && t.assignments) e = Error::invalid_request;  // manual assignment: not yet
    if (e == Error::none) {
      controller::ControllerResult r = controller_.create_partitions(staged.image, t.name, t.count, random_placement());
      e = r.error != Error::none ? r.error : staged.add(r.records) ? Error::none : Error::unknown_server_error;
    }
    resp.results.push_back({.name = t.name, .error_code = kafka::code(e), .error_message = std::nullopt});
  }
  const Error written = locked != Error::none || request.validate_only ? Error::none : commit_records(staged.records);
  for (auto& r : resp.results) {
    if (r.error_code == 0 && written != Error::none) r.error_code = kafka::code(written);
    if (r.error_code != 0) r.error_message = kafka::error_name(r.error_code);
  }
  return resp;
}

kafka::ElectLeadersResponse QuorumController::elect_leaders(const kafka::ElectLeadersRequest& request) {
  kafka::ElectLeadersResponse resp;
  if (Error e = lock_active(); e != Error::none) {
    resp.error_code = kafka::code(e);
    return resp;
  }
  LockGuard guard(mu_);
  std::optional<std::vector<std::pair<std::string, int32_t>>> asked;
  if (request.topic_partitions) {
    asked.emplace();
    for (const auto& t : *request.topic_partitions) {
      for (int32_t p : t.partitions) asked->emplace_back(t.topic, p);
    }
  }
  const auto type = request.election_type == 1 ? controller::ElectionType::unclean : controller::ElectionType::preferred;
  controller::ElectLeadersResult r = controller_.elect_leaders(metadata_.image(), type, asked);
  if (r.error != Error::none) {
    resp.error_code = kafka::code(r.error);
    return resp;
  }
  const Error written = r.records.empty() ? Error::none : commit_records(r.records);
  for (const controller::PartitionElection& e : r.partitions) {
    if (resp.replica_election_results.empty() || resp.replica_election_results.back().topic != e.topic) {
      resp.replica_election_results.push_back({.topic = e.topic, .partition_result = {}});
    }
    const Error pe = e.error == Error::none ? written : e.error;
    resp.replica_election_results.back().partition_result.push_back(
        {.partition_id = e.partition, .error_code = kafka::code(pe),
         .error_message = pe == Error::none ? std::nullopt : std::optional<std::string>(kafka::error_name(pe))});
  }
  if (!r.records.empty() && written == Error::none) {
    rt_.log(LogLevel::info, fmt::format("{} leader election: {} partition change(s)",
                                        type == controller::ElectionType::preferred ? "preferred" : "unclean", r.records.size()));
  }
  return resp;
}

Error QuorumController::stage_topic_configs(Staged& staged, const std::string& topic,
                                            const std::map<std::string, std::string>& configs, std::string* message) {
  for (const auto& [key, value] : configs) {
    if (std::optional<std::string> bad = broker::check_topic_config(key, value)) {
      *message = *bad;
      return Error::invalid_config;
    }
  }
  std::map<std::string, std::string> current;
  if (const auto* now = staged.image.configs(controller::kConfigTopic, topic)) current = *now;
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  for (const auto& [key, value] : current) {
    if (configs.count(key) == 0) changes.emplace_back(key, std::nullopt);
  }
  for (const auto& [key, value] : configs) {
    auto it = current.find(key);
    if (it == current.end() || it->second != value) changes.emplace_back(key, value);
  }
  Staged next = staged;  // a resource that fails half way changes nothing
  for (const auto& [key, value] : changes) {
    controller::ControllerResult r = controller_.alter_topic_config(next.image, topic, key, value);
    const Error e = r.error != Error::none ? r.error : next.add(r.records) ? Error::none : Error::unknown_server_error;
    if (e != Error::none) {
      *message = kafka::error_name(e);
      return e;
    }
  }
  staged = std::move(next);
  return Error::none;
}

template <typename Resp, typename Req, typename Next>
Resp QuorumController::alter_config_resources(const Req& request, Next next) {
  Resp resp;
  const Error locked = lock_active();
  std::optional<LockGuard> guard;
  if (locked == Error::none) guard.emplace(mu_);
  Staged staged{metadata_.image(), {}};
  std::set<std::pair<int8_t, std::string>> seen;
  for (const auto& res : request.resources) {
    std::string message;
    Error e = locked;
    if (e == Error::none && !seen.insert({res.resource_type, res.resource_name}).second) {
      e = Error::invalid_request;
      message = "Duplicate resource.";
    } else if (e == Error::none && res.resource_type == controller::kConfigBroker) {
      e = Error::invalid_request;
      message = "broker configs are not in the metadata log yet: each broker keeps its own (alter them through it)";
    } else if (e == Error::none && res.resource_type != controller::kConfigTopic) {
      e = Error::invalid_request;
      message = "only topic and broker configs can be altered";
    } else if (e == Error::none && staged.image.topic(res.resource_name) == nullptr) {
      e = Error::unknown_topic_or_partition;
      message = "Topic " + res.resource_name + " does not exist";
    }
    if (e == Error::none) {
      std::map<std::string, std::string> configs;
      if (const auto* now = staged.image.configs(controller::kConfigTopic, res.resource_name)) configs = *now;
      e = next(res, configs, &message);
      if (e == Error::none) e = stage_topic_configs(staged, res.resource_name, configs, &message);
    }
    if (e != Error::none && message.empty()) message = kafka::error_name(e);
    resp.responses.push_back({.error_code = kafka::code(e),
                              .error_message = e == Error::none ? std::nullopt : std::optional<std::string>(message),
                              .resource_type = res.resource_type, .resource_name = res.resource_name});
  }
  const Error written = locked != Error::none || request.validate_only ? Error::none : commit_records(staged.records);
  for (auto& r : resp.responses) {
    if (r.error_code != 0 || written == Error::none) continue;
    r.error_code = kafka::code(written);
    r.error_message = kafka::error_name(written);
  }
  return resp;
}

kafka::IncrementalAlterConfigsResponse QuorumController::incremental_alter_configs(
    const kafka::IncrementalAlterConfigsRequest& request) {
  return alter_config_resources<kafka::IncrementalAlterConfigsResponse>(
      request, [](const kafka::IncrementalAlterConfigsRequest::Resource& res, std::map<std::string, std::string>& configs,
                  std::string* message) {
        std::optional<std::string> bad = broker::apply_config_ops(res.configs, configs);
        if (bad) *message = *bad;
        return bad ? Error::invalid_request : Error::none;
      });
}

kafka::AlterConfigsResponse QuorumController::alter_configs(const kafka::AlterConfigsRequest& request) {
  return alter_config_resources<kafka::AlterConfigsResponse>(
      request, [](const kafka::AlterConfigsRequest::Resource& res, std::map<std::string, std::string>& configs,
                  std::string*) {
        configs.clear();  // AlterConfigs replaces the whole set
        for (const auto& c : res.configs) {
          if (c.value) configs[c.name] = *c.value;
        }
        return Error::none;
      });
}

kafka::AlterPartitionResponse::Partition QuorumController::alter_one(const kafka::AlterPartitionRequest& request,
                                                                    int16_t version, const kafka::Uuid& topic_id,
                                                                    const kafka::AlterPartitionRequest::Partition& p,
                                                                    Staged& staged) {
  kafka::AlterPartitionResponse::Partition out{.partition_index = p.partition_index};
  controller::AlterPartitionRequest r{.broker_id = request.broker_id,
                                      .broker_epoch = model::BrokerEpoch{request.broker_epoch},
                                      .topic_id = topic_id,
                                      .partition = p.partition_index,
                                      .leader_epoch = model::LeaderEpoch{p.leader_epoch},
                                      .partition_epoch = model::PartitionEpoch{p.partition_epoch},
                                      .leader_recovery_state = p.leader_recovery_state};
  // Before v3 the ISR carries no broker epochs: -1 skips that check (KIP-903).
  if (version >= 3) {
    for (const auto& m : p.new_isr_with_epochs) r.new_isr.push_back({m.broker_id, model::BrokerEpoch{m.broker_epoch}});
  } else {
    for (int32_t id : p.new_isr) r.new_isr.push_back({id, model::BrokerEpoch{-1}});
  }
  controller::ControllerResult result = controller_.alter_partition(staged.image, r);
  Error e = result.error;
  if (e == Error::none && !staged.add(result.records)) e = Error::unknown_server_error;
  if (e == Error::ineligible_replica && version < 2) e = Error::operation_not_attempted;  // v0-1 know no INELIGIBLE_REPLICA
  out.error_code = kafka::code(e);
  if (e != Error::none) return out;
  const controller::PartitionState& now = staged.image.topic_by_id(topic_id)->partitions[static_cast<size_t>(p.partition_index)];
  out.leader_id = now.leader;
  out.leader_epoch = now.leader_epoch.value;
  out.isr = now.isr;
  out.partition_epoch = now.partition_epoch.value;
  return out;
}

kafka::AlterPartitionResponse QuorumController::alter_partition(const kafka::AlterPartitionRequest& request,
                                                                int16_t version) {
  kafka::AlterPartitionResponse resp;
  if (Error e = lock_active(); e != Error::none) {
    resp.error_code = kafka::code(e);
    return resp;
  }
  LockGuard guard(mu_);
  const controller::BrokerRegistration* asker = metadata_.image().broker(request.broker_id);
  if (asker == nullptr || asker->epoch.value != request.broker_epoch) {
    resp.error_code = kafka::code(Error::stale_broker_epoch);  // Kafka fails the whole request
    return resp;
  }
  Staged staged{metadata_.image(), {}};  // each partition is decided on the changes before it
  for (const auto& t : request.topics) {
    kafka::AlterPartitionResponse::Topic out{.topic_name = t.topic_name, .topic_id = t.topic_id};
    const controller::TopicImage* topic = version >= 2 ? staged.image.topic_by_id(t.topic_id) : staged.image.topic(t.topic_name);
    const std::optional<kafka::Uuid> id = topic != nullptr ? std::optional(topic->id) : std::nullopt;
    for (const auto& p : t.partitions) {
      if (id) {
        out.partitions.push_back(alter_one(request, version, *id, p, staged));
        continue;
      }
      const Error e = version >= 2 ? Error::unknown_topic_id : Error::unknown_topic_or_partition;
      out.partitions.push_back({.partition_index = p.partition_index, .error_code = kafka::code(e)});
    }
    resp.topics.push_back(std::move(out));
  }
  // As in Kafka, a write that fails fails the whole request: the leader retries it.
  if (const Error e = commit_records(staged.records); e != Error::none) {
    resp = kafka::AlterPartitionResponse{};
    resp.error_code = kafka::code(e);
  } else if (!staged.records.empty()) {
    rt_.log(LogLevel::info, fmt::format("broker {} changed the ISR of {} partition(s)", request.broker_id, staged.records.size()));
  }
  return resp;
}

}  // namespace samsa::server
