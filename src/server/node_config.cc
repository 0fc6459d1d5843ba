#include "server/node_config.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "raft/raft_config.h"
#include "util/strings.h"

namespace samsa::server {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t from = 0;;) {
    const size_t at = s.find(sep, from);
    std::string_view part = trim(s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (!part.empty()) out.push_back(part);
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

// "NAME://host:port" -> (NAME, host:port); an empty host means every interface, as with Kafka.
bool split_listener(std::string_view entry, std::string* name, std::string* host_port) {
  const size_t at = entry.find("://");
  if (at == std::string_view::npos || at == 0) return false;
  *name = std::string(entry.substr(0, at));
  *host_port = std::string(entry.substr(at + 3));
  return true;
}

struct NodeKeys {
  std::string roles, voters, listener_names, listeners, metadata_log_dir, cluster_id;
  std::map<std::string, std::string> numbers;  // the node's numeric and boolean keys, parsed later
  bool roles_set = false;
};

constexpr const char* kNodeNumberKeys[] = {"broker.heartbeat.interval.ms", "broker.session.timeout.ms",
                                           "unclean.leader.election.enable", "controlled.shutdown.enable",
                                           "metadata.log.max.record.bytes.between.snapshots"};

bool is_node_number_key(std::string_view key) {
  for (const char* k : kNodeNumberKeys) {
    if (key == k) return true;
  }
  return false;
}

// Takes the node's own keys out of the text; what is left is the broker's.
std::string extract_node_keys(std::string_view text, NodeKeys* keys) {
  std::string rest;
  for (std::string_view line : split(text, '\n')) {
    const size_t eq = line.find('=');
    const std::string_view key = eq == std::string_view::npos ? line : trim(line.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? std::string() : std::string(trim(line.substr(eq + 1)));
    if (line.front() == '#' || line.front() == '!' || eq == std::string_view::npos) {
      rest += std::string(line) + "\n";
    } else if (key == "process.roles") {
      keys->roles = value;
      keys->roles_set = true;
    } else if (key == "controller.quorum.voters") {
      keys->voters = value;
    } else if (key == "controller.listener.names") {
      keys->listener_names = value;
    } else if (key == "listeners") {
      keys->listeners = value;
    } else if (key == "metadata.log.dir") {
      keys->metadata_log_dir = value;
    } else if (key == "cluster.id") {
      keys->cluster_id = value;
    } else if (is_node_number_key(key)) {
      keys->numbers[std::string(key)] = value;
    } else if (key == "listener.security.protocol.map" || key == "inter.broker.listener.name") {
      // Every listener is PLAINTEXT (no TLS or SASL yet): accepted, nothing to choose.
    } else {
      rest += std::string(line) + "\n";
    }
  }
  return rest;
}

bool parse_roles(const NodeKeys& k, NodeConfig& c, std::string* error) {
  if (!k.roles_set) return true;
  c.kraft = true;
  c.broker_role = c.controller_role = false;
  for (std::string_view r : split(k.roles, ',')) {
    if (r == "broker") c.broker_role = true;
    else if (r == "controller") c.controller_role = true;
    else {
      *error = fmt::format("process.roles: unknown role '{}' (want broker, controller or both)", r);
      return false;
    }
  }
  if (!c.broker_role && !c.controller_role) {
    *error = "process.roles: empty (want broker, controller or both)";
    return false;
  }
  return true;
}

// The controller listener goes to the node; the others (the first of them) to the broker.
bool parse_listeners(const NodeKeys& k, NodeConfig& c, std::string* broker_listeners, std::string* error) {
  if (!c.kraft) {  // the single broker: its listeners exactly as before
    *broker_listeners = k.listeners;
    return true;
  }
  if (!k.listener_names.empty()) c.controller_listener_name = std::string(split(k.listener_names, ',').front());
  for (std::string_view entry : split(k.listeners, ',')) {
    std::string name, host_port;
    if (!split_listener(entry, &name, &host_port)) {
      *error = fmt::format("listeners: '{}' is not NAME://host:port", entry);
      return false;
    }
    if (name != c.controller_listener_name) {
      *broker_listeners += (broker_listeners->empty() ? "" : ",") + std::string(entry);
      continue;
    }
    Result<Address> a = Address::parse(!host_port.empty() && host_port.front() == ':' ? "0.0.0.0" + host_port : host_port);
    if (!a.ok()) {
      *error = fmt::format("listeners: bad address in '{}'", entry);
      return false;
    }
    c.controller_listener = *a;
  }
  return true;
}

bool parse_positive(const NodeKeys& k, const char* key, int64_t min, int64_t* out, std::string* error) {
  auto it = k.numbers.find(key);
  if (it == k.numbers.end()) return true;
  int64_t v = 0;
  const char* end = it->second.data() + it->second.size();
  auto [p, ec] = std::from_chars(it->second.data(), end, v);
  if (ec != std::errc() || p != end || v < min) {
    *error = fmt::format("{}: want an integer of at least {}, not '{}'", key, min, it->second);
    return false;
  }
  *out = v;
  return true;
}

bool parse_numbers(const NodeKeys& k, NodeConfig& c, std::string* error) {
  int64_t snapshot_bytes = static_cast<int64_t>(c.snapshot_bytes_min);
  if (!parse_positive(k, "broker.heartbeat.interval.ms", 1, &c.broker_heartbeat_interval_ms, error) ||
      !parse_positive(k, "broker.session.timeout.ms", 1, &c.broker_session_timeout_ms, error) ||
      !parse_positive(k, "metadata.log.max.record.bytes.between.snapshots", 1, &snapshot_bytes, error)) {
    return false;
  }
  c.snapshot_bytes_min = static_cast<uint64_t>(snapshot_bytes);
  if (auto it = k.numbers.find("unclean.leader.election.enable"); it != k.numbers.end()) {
    if (it->second != "true" && it->second != "false") {
      *error = "unclean.leader.election.enable: want true or false, not '" + it->second + "'";
      return false;
    }
    c.unclean_leader_election_enable = it->second == "true";
  }
  if (auto it = k.numbers.find("controlled.shutdown.enable"); it != k.numbers.end()) {
    if (it->second != "true" && it->second != "false") {
      *error = "controlled.shutdown.enable: want true or false, not '" + it->second + "'";
      return false;
    }
    c.controlled_shutdown_enable = it->second == "true";
  }
  if (c.broker_heartbeat_interval_ms >= c.broker_session_timeout_ms) {
    *error = "broker.heartbeat.interval.ms must be below broker.session.timeout.ms";
    return false;
  }
  return true;
}

bool validate(const NodeKeys& k, NodeConfig& c, std::string* error) {
  if (!c.kraft && !k.voters.empty()) {
    *error = "controller.quorum.voters is set but process.roles is not (want broker, controller or both)";
    return false;
  }
  if (!c.kraft) return true;
  Result<std::map<int32_t, Address>> voters = raft::parse_voters(k.voters);
  if (!voters.ok()) {
    *error = "controller.quorum.voters: want id@host:port,... (e.g. 1@localhost:9093,2@localhost:9094)";
    return false;
  }
  c.voters = *voters;
  if (c.controller_role && c.voters.count(c.broker.node_id) == 0) {
    *error = fmt::format("node.id {} has the controller role but is not in controller.quorum.voters", c.broker.node_id);
    return false;
  }
  if (c.controller_role && c.controller_listener.port == 0) {
    *error = fmt::format("the controller role needs a {}://host:port entry in listeners", c.controller_listener_name);
    return false;
  }
  return true;
}

}  // namespace

Result<NodeConfig> NodeConfig::parse(std::string_view text, std::string* error) {
  NodeKeys keys;
  std::string rest = extract_node_keys(text, &keys);
  NodeConfig c;
  std::string broker_listeners;
  if (!parse_roles(keys, c, error) || !parse_listeners(keys, c, &broker_listeners, error)) return Errc::invalid_argument;
  if (!broker_listeners.empty()) rest += "listeners=" + broker_listeners + "\n";
  Result<broker::BrokerConfig> b = broker::BrokerConfig::parse(rest, error);
  if (!b.ok()) return b.error();
  c.broker = std::move(*b);
  if (!validate(keys, c, error) || !parse_numbers(keys, c, error)) return Errc::invalid_argument;
  c.metadata_log_dir = keys.metadata_log_dir.empty() ? c.broker.log_dir : keys.metadata_log_dir;
  if (!keys.cluster_id.empty()) c.cluster_id = keys.cluster_id;
  return c;
}

}  // namespace samsa::server
