#include "server/quorum_controller.h"

#include <fmt/format.h>

#include "broker/config_rules.h"
#include "protocol/errors.h"

namespace samsa::server {

using kafka::Error;

QuorumController::QuorumController(Runtime& rt, int32_t node_id, raft::RaftClient& raft, MetadataPublisher& metadata,
                                   controller::ControllerConfig config)
    : rt_(rt), node_id_(node_id), raft_(raft), metadata_(metadata), controller_(config), mu_(rt) {}

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
  if (!mu_.lock(rt_.after(kCommitTimeout)).ok()) return Error::request_timed_out;
  if (!active()) {
    mu_.unlock();
    return Error::not_controller;
  }
  return Error::none;
}

Error QuorumController::write(const std::vector<controller::MetadataRecord>& records) {
  SAMSA_ASSERT(mu_.locked());
  if (!active_epoch_) return Error::not_controller;
  const int32_t epoch = *active_epoch_;
  for (size_t from = 0; from < records.size(); from += kRecordsPerAppendMax) {
    const size_t to = std::min(records.size(), from + kRecordsPerAppendMax);
    if (Error e = write_chunk(epoch, records, from, to); e != Error::none) return e;
  }
  return Error::none;
}

Error QuorumController::write_chunk(int32_t epoch, const std::vector<controller::MetadataRecord>& records, size_t from,
                                    size_t to) {
  std::vector<std::vector<std::byte>> values;
  values.reserve(to - from);
  for (size_t i = from; i < to; ++i) values.push_back(controller::encode_record(records[i]));
  Result<int64_t> last = raft_.append(epoch, std::move(values));
  if (!last.ok()) return last.error() == Errc::unavailable ? Error::not_controller : Error::unknown_server_error;
  if (controller_.config().bugs.ack_before_commit) {
    records_written_ += to - from;
    return Error::none;  // the planted bug: the next decision reads an image without these records
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
  records_written_ += to - from;
  return Error::none;
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
  controller::BrokerRegistrationRequest r{.broker_id = request.broker_id, .incarnation_id = request.incarnation_id,
                                          .rack = request.rack};
  for (const auto& l : request.listeners) r.endpoints.push_back({l.name, l.host, l.port, l.security_protocol});
  // Kafka's broker epoch is the offset of the registration record: the next one appended.
  const int64_t new_epoch = raft_.state().log_end_offset;
  controller::RegistrationResult result = controller_.register_broker(metadata_.image(), r, new_epoch, now_ms());
  Error e = result.error != Error::none ? result.error : write(result.records);
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
                                 .current_metadata_offset = request.current_metadata_offset};
  // Caught up: the broker has applied its own registration record (whose offset is its epoch).
  controller::HeartbeatResult result = controller_.heartbeat(metadata_.image(), h, request.broker_epoch, now_ms());
  Error e = result.error != Error::none ? result.error : write(result.records);
  resp.error_code = kafka::code(e);
  resp.is_caught_up = result.is_caught_up;
  resp.is_fenced = e == Error::none ? result.is_fenced : true;
  if (e == Error::none && !result.records.empty()) {
    rt_.log(LogLevel::info, fmt::format("broker {} unfenced", request.broker_id));
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
      if (write(r.records) != Error::none) break;
      rt_.log(LogLevel::info, "a broker's session expired: fenced, its partitions re-elected");
    }
  }
}

kafka::CreateTopicsResponse::Topic QuorumController::create_topic(const kafka::CreateTopicsRequest::Topic& t,
                                                                  bool validate_only) {
  kafka::CreateTopicsResponse::Topic out;
  out.name = t.name;
  auto fail = [&](Error e, std::string message) {
    out.error_code = kafka::code(e);
    out.error_message = std::move(message);
    return out;
  };
  if (t.name == "__consumer_offsets" || t.name == "__cluster_metadata") {
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
  controller::CreateTopicResult result = controller_.create_topic(metadata_.image(), r, id, random_placement());
  if (result.error != Error::none) {
    std::string message = kafka::error_name(result.error);
    if (result.error == Error::topic_already_exists) message = "Topic '" + t.name + "' already exists.";
    if (result.error == Error::invalid_replication_factor) {
      size_t live = 0;
      for (const auto& [id_, b] : metadata_.image().brokers()) live += b.fenced ? 0 : 1;
      message = fmt::format("Replication factor: {} larger than available brokers: {}.", t.replication_factor, live);
    }
    return fail(result.error, message);
  }
  if (!validate_only) {
    if (Error e = write(result.records); e != Error::none) return fail(e, kafka::error_name(e));
  }
  const controller::ControllerConfig& c = controller_.config();
  out.topic_id = validate_only ? kafka::Uuid{} : id;
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
  for (const auto& t : request.topics) resp.topics.push_back(create_topic(t, request.validate_only));
  return resp;
}

Error QuorumController::delete_topic(const std::string& name) {
  controller::ControllerResult r = controller_.delete_topic(metadata_.image(), name);
  return r.error != Error::none ? r.error : write(r.records);
}

kafka::DeleteTopicsResponse QuorumController::delete_topics(const kafka::DeleteTopicsRequest& request) {
  kafka::DeleteTopicsResponse resp;
  const Error locked = lock_active();
  std::optional<LockGuard> guard;
  if (locked == Error::none) guard.emplace(mu_);
  auto one = [&](std::optional<std::string> name, const kafka::Uuid& id) {
    kafka::DeleteTopicsResponse::Topic out{.name = name, .topic_id = id};
    if (locked != Error::none) {
      out.error_code = kafka::code(locked);
    } else if (!name) {
      const controller::TopicImage* t = metadata_.image().topic_by_id(id);
      if (t == nullptr) out.error_code = kafka::code(Error::unknown_topic_id);
      else name = t->name;
    }
    if (out.error_code == 0) {
      const controller::TopicImage* t = metadata_.image().topic(*name);
      if (t != nullptr) out.topic_id = t->id;
      out.name = name;
      out.error_code = kafka::code(delete_topic(*name));
    }
    resp.responses.push_back(std::move(out));
  };
  for (const std::string& name : request.topic_names) one(name, kafka::Uuid{});
  for (const auto& t : request.topics) one(t.name, t.topic_id);
  return resp;
}

kafka::CreatePartitionsResponse QuorumController::create_partitions(const kafka::CreatePartitionsRequest& request) {
  kafka::CreatePartitionsResponse resp;
  const Error locked = lock_active();
  std::optional<LockGuard> guard;
  if (locked == Error::none) guard.emplace(mu_);
  for (const auto& t : request.topics) {
    Error e = locked;
    if (e == Error::none && t.assignments) e = Error::invalid_request;  // manual assignment: not yet
    if (e == Error::none) {
      controller::ControllerResult r = controller_.create_partitions(metadata_.image(), t.name, t.count, random_placement());
      e = r.error != Error::none ? r.error : (request.validate_only ? Error::none : write(r.records));
    }
    resp.results.push_back({.name = t.name, .error_code = kafka::code(e),
                            .error_message = e == Error::none ? std::nullopt : std::optional<std::string>(kafka::error_name(e))});
  }
  return resp;
}

}  // namespace samsa::server
