#include "client/cluster.h"

namespace samsa::client {

using namespace samsa::kafka;

Result<std::vector<Address>> parse_bootstrap(std::string_view servers) {
  std::vector<Address> out;
  while (!servers.empty()) {
    size_t comma = servers.find(',');
    std::string_view one = servers.substr(0, comma);
    servers.remove_prefix(comma == std::string_view::npos ? servers.size() : comma + 1);
    if (one.empty()) continue;
    Address a;
    SAMSA_TRY_ASSIGN(a, Address::parse(one));
    out.push_back(std::move(a));
  }
  if (out.empty()) return Errc::invalid_argument;
  return out;
}

Result<Connection*> Cluster::any() {
  if (bootstrap_ && !bootstrap_->broken()) return bootstrap_.get();
  bootstrap_.reset();
  Errc last = Errc::host_unreachable;
  for (const Address& a : config_.bootstrap) {
    Result<std::unique_ptr<Connection>> c = Connection::open(rt_, a, config_.client_id, rt_.after(config_.connect_timeout));
    if (c.ok()) {
      bootstrap_ = std::move(*c);
      return bootstrap_.get();
    }
    last = c.error();
  }
  return last;
}

Result<Connection*> Cluster::node(int32_t node_id) {
  auto it = nodes_.find(node_id);
  if (it != nodes_.end() && !it->second->broken()) return it->second.get();
  auto addr = broker_addresses_.find(node_id);
  if (addr == broker_addresses_.end()) return any();
  Result<std::unique_ptr<Connection>> c = Connection::open(rt_, addr->second, config_.client_id, rt_.after(config_.connect_timeout));
  if (!c.ok()) return c.status();
  Connection* raw = c->get();
  nodes_[node_id] = std::move(*c);
  return raw;
}

Result<Connection*> Cluster::coordinator(const std::string& group) {
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, any());
  FindCoordinatorRequest req{group, 0};
  const int16_t v = c->version(ApiKey::find_coordinator, 3).value_or(0);
  FindCoordinatorResponse resp;
  SAMSA_TRY_ASSIGN(resp, (c->call<FindCoordinatorRequest, FindCoordinatorResponse>(ApiKey::find_coordinator, v, req, request_deadline())));
  if (resp.error_code != 0 || resp.node_id < 0) return Errc::unavailable;
  const Address at{resp.host, static_cast<uint16_t>(resp.port)};
  auto known = broker_addresses_.find(resp.node_id);
  if (known == broker_addresses_.end() || !(known->second == at)) {
    broker_addresses_[resp.node_id] = at;
    nodes_.erase(resp.node_id);
  }
  return node(resp.node_id);
}

Result<std::vector<int32_t>> Cluster::broker_ids() {
  SAMSA_TRY(metadata(std::vector<std::string>{}, false).status());
  std::vector<int32_t> ids;
  for (const auto& [id, a] : broker_addresses_) ids.push_back(id);
  return ids;
}

void Cluster::invalidate(int32_t node_id) {
  nodes_.erase(node_id);
  if (bootstrap_ && bootstrap_->broken()) bootstrap_.reset();
}

Result<MetadataResponse> Cluster::metadata(const std::optional<std::vector<std::string>>& topics, bool auto_create) {
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, any());
  std::optional<int16_t> v = c->version(ApiKey::metadata, 12);
  if (!v) return Errc::invalid_argument;
  MetadataRequest req;
  if (topics) {
    req.topics.emplace();
    for (const std::string& t : *topics) req.topics->push_back({.topic_id = {}, .name = t});
  }
  req.allow_auto_topic_creation = auto_create;
  Result<MetadataResponse> resp = c->call<MetadataRequest, MetadataResponse>(ApiKey::metadata, *v, req, request_deadline());
  if (!resp.ok()) {
    bootstrap_.reset();
    return resp.status();
  }
  for (const auto& b : resp->brokers) broker_addresses_[b.node_id] = Address{b.host, static_cast<uint16_t>(b.port)};
  for (const auto& t : resp->topics) {
    const std::string name = t.name.value_or("");
    if (t.error_code == 0) topics_[name] = t; else topics_.erase(name);
  }
  return resp;
}

Result<int32_t> Cluster::partition_count(const std::string& topic) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    MetadataResponse m;
    SAMSA_TRY_ASSIGN(m, metadata(std::vector<std::string>{topic}, true));
    it = topics_.find(topic);
    if (it == topics_.end()) {
      for (const auto& t : m.topics) {
        if (t.name == topic && t.error_code != 0) return Errc::not_found;  // optional == string
      }
      return Errc::not_found;
    }
  }
  return static_cast<int32_t>(it->second.partitions.size());
}

Result<int32_t> Cluster::leader(const std::string& topic, int32_t partition) {
  int32_t n = 0;
  SAMSA_TRY_ASSIGN(n, partition_count(topic));
  if (partition < 0 || partition >= n) return Errc::not_found;
  const kafka::MetadataResponse::Partition* p = find_partition(topic, partition);
  if (p == nullptr) return Errc::not_found;
  return p->leader_id;
}

int32_t Cluster::leader_epoch(const std::string& topic, int32_t partition) const {
  const kafka::MetadataResponse::Partition* p = find_partition(topic, partition);
  return p == nullptr ? -1 : p->leader_epoch;
}

const kafka::MetadataResponse::Partition* Cluster::find_partition(const std::string& topic, int32_t partition) const {
  auto it = topics_.find(topic);
  if (it == topics_.end()) return nullptr;
  for (const auto& p : it->second.partitions) {
    if (p.partition_index == partition) return &p;
  }
  return nullptr;
}

}  // namespace samsa::client
