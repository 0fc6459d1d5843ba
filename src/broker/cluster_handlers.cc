// The KRaft side of RequestHandler: a broker of a cluster answers Metadata, DescribeCluster and
// FindCoordinator from the metadata image it applied, forwards CreateTopics, DeleteTopics and
// CreatePartitions to the active controller, and serves a partition's data only where the image
// says it leads (NOT_LEADER_OR_FOLLOWER elsewhere). The single broker never comes here.
#include "broker/cluster_view.h"
#include "broker/offsets_store.h"
#include "broker/request_handler.h"
#include "broker/topic_config.h"
#include "runtime/log.h"

namespace samsa::broker {

using namespace samsa::kafka;

namespace {

const controller::BrokerEndpoint* client_endpoint(const controller::BrokerRegistration& b) {
  for (const auto& e : b.endpoints) {
    if (e.name == kBrokerListenerName) return &e;
  }
  return b.endpoints.empty() ? nullptr : &b.endpoints.front();
}

}  // namespace

std::optional<TopicInfo> RequestHandler::topic_info(const std::string& name) const {
  if (cluster_ == nullptr) {
    const TopicInfo* t = topics_.find(name);
    return t != nullptr ? std::optional<TopicInfo>(*t) : std::nullopt;
  }
  const controller::MetadataImage& image = cluster_->image();
  const controller::TopicImage* t = image.topic(name);
  if (t == nullptr || t->partitions.empty()) return std::nullopt;
  TopicInfo info{.name = t->name, .topic_id = t->id, .partitions = static_cast<int32_t>(t->partitions.size()),
                 .replication_factor = static_cast<int16_t>(t->partitions.front().replicas.size())};
  if (const auto* configs = image.configs(controller::kConfigTopic, name)) info.configs = *configs;
  return info;
}

std::optional<std::string> RequestHandler::topic_name_by_id(const Uuid& id) const {
  if (cluster_ == nullptr) {
    const TopicInfo* t = topics_.find_by_id(id);
    return t != nullptr ? std::optional<std::string>(t->name) : std::nullopt;
  }
  const controller::TopicImage* t = cluster_->image().topic_by_id(id);
  return t != nullptr ? std::optional<std::string>(std::string(t->name)) : std::nullopt;
}

Error RequestHandler::serving(const std::string& topic, int32_t partition, std::shared_ptr<replication::Partition>* p,
                              std::shared_ptr<PartitionLog>* log, int32_t current_leader_epoch) const {
  // Before it caught up, a cluster broker's image may be stale: the client looks again.
  if (cluster_ != nullptr && !cluster_->ready()) return Error::not_leader_or_follower;
  const Error e = partitions_.leader({topic, partition}, p, log, current_leader_epoch);
  if (e != Error::unknown_topic_or_partition || cluster_ == nullptr) return e;
  // Not a replica here: the metadata tells an unknown partition from one led elsewhere.
  const controller::TopicImage* t = cluster_->image().topic(topic);
  if (t == nullptr || partition < 0 || static_cast<size_t>(partition) >= t->partitions.size()) return e;
  const controller::PartitionState& state = t->partitions[static_cast<size_t>(partition)];
  if (state.leader == controller::kNoLeader) return Error::leader_not_available;
  // Led here by the image, but the log is not open yet for this topic id (being created, or a
  // deleted namesake's still being replaced).
  return state.leader == config_.node_id ? Error::leader_not_available : Error::not_leader_or_follower;
}

int32_t RequestHandler::controller_for_clients() const {
  // The active controller when it is a live broker (combined roles), else this broker: clients
  // send some requests to the controller id, so it must be a broker they can reach.
  const std::optional<int32_t> id = cluster_->controller_id();
  return id && cluster_->image().is_unfenced(*id) ? *id : config_.node_id;
}

MetadataResponse::Topic RequestHandler::describe_image_topic(const std::string& name, bool allow_create) {
  if (cluster_->image().topic(name) == nullptr && allow_create && config_.auto_create_topics &&
      TopicManager::valid_topic_name(name) && !internal_topic(name)) {
    CreateTopicsRequest create;
    create.timeout_ms = 5000;
    create.topics.push_back({.name = name, .num_partitions = -1, .replication_factor = -1});
    (void)cluster_->create_topics(create);  // suspends; the image below is the one after it
  }
  MetadataResponse::Topic out;
  out.name = name;
  const controller::MetadataImage& image = cluster_->image();
  const controller::TopicImage* t = image.topic(name);
  if (t == nullptr) {
    out.error_code = code(TopicManager::valid_topic_name(name) ? Error::unknown_topic_or_partition : Error::invalid_topic_exception);
    return out;
  }
  out.topic_id = t->id;
  out.is_internal = internal_topic(name);
  for (size_t i = 0; i < t->partitions.size(); ++i) {
    const controller::PartitionState& p = t->partitions[i];
    MetadataResponse::Partition part;
    part.partition_index = static_cast<int32_t>(i);
    part.leader_id = p.leader;
    part.leader_epoch = p.leader_epoch.value;
    part.replica_nodes = p.replicas;
    part.isr_nodes = p.isr;
    for (int32_t r : p.replicas) {
      if (!image.is_unfenced(r)) part.offline_replicas.push_back(r);
    }
    if (p.leader == controller::kNoLeader) part.error_code = code(Error::leader_not_available);
    out.partitions.push_back(std::move(part));
  }
  return out;
}

Response RequestHandler::metadata_from_image(const RequestHeader& h, MetadataRequest& req) {
  MetadataResponse resp;
  resp.cluster_id = cluster_->cluster_id();
  resp.controller_id = controller_for_clients();
  const bool allow_create = h.api_version < 4 || req.allow_auto_topic_creation;
  if (!req.topics || (h.api_version == 0 && req.topics->empty())) {
    std::vector<std::string> names;
    for (const auto& [name, t] : cluster_->image().topics()) names.push_back(name);
    for (const std::string& name : names) resp.topics.push_back(describe_image_topic(name, false));
  } else {
    for (const MetadataRequest::Topic& t : *req.topics) {
      if (t.name) {
        resp.topics.push_back(describe_image_topic(*t.name, allow_create));
        continue;
      }
      const controller::TopicImage* found = cluster_->image().topic_by_id(t.topic_id);
      if (found != nullptr) {
        resp.topics.push_back(describe_image_topic(std::string(found->name), false));
        continue;
      }
      MetadataResponse::Topic out;
      out.name.reset();
      out.topic_id = t.topic_id;
      out.error_code = code(Error::unknown_topic_id);
      resp.topics.push_back(std::move(out));
    }
  }
  // The brokers last: auto-creation above may have suspended while brokers came or went.
  for (const auto& [id, b] : cluster_->image().brokers()) {
    const controller::BrokerEndpoint* e = client_endpoint(b);
    if (b.fenced || e == nullptr) continue;
    resp.brokers.push_back({.node_id = id, .host = e->host, .port = e->port, .rack = b.rack});
  }
  return make_reply(h, resp, h.api_version);
}

DescribeClusterResponse RequestHandler::describe_cluster_from_image() const {
  DescribeClusterResponse resp;
  resp.cluster_id = cluster_->cluster_id();
  resp.controller_id = controller_for_clients();
  for (const auto& [id, b] : cluster_->image().brokers()) {
    const controller::BrokerEndpoint* e = client_endpoint(b);
    if (b.fenced || e == nullptr) continue;
    resp.brokers.push_back({.broker_id = id, .host = e->host, .port = e->port, .rack = b.rack});
  }
  return resp;
}

FindCoordinatorResponse::Coordinator RequestHandler::coordinator_from_image(const std::string& key) {
  FindCoordinatorResponse::Coordinator c;
  c.key = key;
  c.node_id = -1;
  auto unavailable = [&](std::string why) {
    c.error_code = code(Error::coordinator_not_available);
    c.error_message = std::move(why);
    return c;
  };
  const std::string topic = groups::GroupCoordinator::kOffsetsTopic;
  if (cluster_->image().topic(topic) == nullptr) {
    // As Kafka's brokers do: the first FindCoordinator creates the internal topic (through the
    // controller); until it has leaders the answer is COORDINATOR_NOT_AVAILABLE.
    create_offsets_topic();
  }
  const controller::MetadataImage& image = cluster_->image();  // after the creation suspended
  int32_t partition = -1;
  const controller::PartitionState* found = offsets_partition_of(image, key, &partition);
  if (found == nullptr) return unavailable("the offsets topic " + topic + " is being created");
  const controller::PartitionState& state = *found;
  const controller::BrokerRegistration* b = state.leader >= 0 ? image.broker(state.leader) : nullptr;
  const controller::BrokerEndpoint* e = b != nullptr ? client_endpoint(*b) : nullptr;
  if (b == nullptr || b->fenced || e == nullptr) {
    return unavailable(fmt::format("{}-{}, the group's partition, has no leader", topic, partition));
  }
  c.node_id = state.leader;
  c.host = e->host;
  c.port = e->port;
  return c;
}

void RequestHandler::create_offsets_topic() {
  CreateTopicsRequest req;
  req.timeout_ms = 5000;
  CreateTopicsRequest::Topic t;
  t.name = groups::GroupCoordinator::kOffsetsTopic;
  t.num_partitions = config_.offsets_topic_num_partitions;
  t.replication_factor = config_.offsets_topic_replication_factor;
  // Kafka compacts this topic; samsa does not compact, so it keeps every record instead (never
  // deleting a group's latest commit by age or size).
  t.configs = {{"cleanup.policy", std::string("compact")}, {"retention.ms", std::string("-1")}, {"retention.bytes", std::string("-1")}};
  req.topics.push_back(std::move(t));
  const CreateTopicsResponse resp = cluster_->create_topics(req);
  for (const auto& r : resp.topics) {
    if (r.error_code != 0 && r.error_code != code(Error::topic_already_exists)) {
      logf(rt_, LogLevel::warn, "cannot create {}: {} {}", r.name, error_name(static_cast<Error>(r.error_code)),
           r.error_message.value_or(""));
    }
  }
}

}  // namespace samsa::broker
