#include "broker/broker_config.h"

#include <charconv>

#include "broker/config_rules.h"
#include "util/strings.h"

namespace samsa::broker {

namespace {

bool parse_bool(std::string_view v, bool* out) {
  if (v == "true") *out = true;
  else if (v == "false") *out = false;
  else return false;
  return true;
}

// Applies one key; false with *error set when the value is bad.
bool apply(BrokerConfig& c, std::string_view key, std::string_view v, std::string* error) {
  auto bad = [&] {
    *error = "invalid value '" + std::string(v) + "' for " + std::string(key);
    return false;
  };
  int64_t n = 0;
  if (key == "node.id" || key == "broker.id") return parse_int(v, &c.node_id) && c.node_id >= 0 ? true : bad();
  if (key == "listeners") {
    std::string_view first = v.substr(0, v.find(','));
    Result<Address> a = parse_listener(trim(first));
    if (!a.ok()) return bad();
    c.listener = *a;
    return true;
  }
  if (key == "advertised.listeners") {
    Result<Address> a = parse_listener(trim(v.substr(0, v.find(','))));
    if (!a.ok()) return bad();
    c.advertised = *a;
    return true;
  }
  if (key == "log.dirs" || key == "log.dir") {
    c.log_dir = std::string(trim(v.substr(0, v.find(','))));
    return c.log_dir.empty() ? bad() : true;
  }
  if (key == "num.partitions") return parse_int(v, &c.num_partitions) && c.num_partitions > 0 ? true : bad();
  if (key == "default.replication.factor") return parse_int(v, &c.default_replication_factor) && c.default_replication_factor > 0 ? true : bad();
  if (key == "replica.lag.time.max.ms") return parse_int(v, &c.replica_lag_time_max_ms) && c.replica_lag_time_max_ms > 0 ? true : bad();
  if (key == "min.insync.replicas") return parse_int(v, &c.min_insync_replicas) && c.min_insync_replicas > 0 ? true : bad();
  if (key == "auto.create.topics.enable") return parse_bool(v, &c.auto_create_topics) ? true : bad();
  if (key == "message.max.bytes") {
    if (!parse_int(v, &c.message_max_bytes) || c.message_max_bytes < 100) return bad();
    c.log.max_batch_bytes = static_cast<uint32_t>(c.message_max_bytes);
    return true;
  }
  if (key == "queued.max.request.bytes") {
    if (!parse_int(v, &c.queued_max_request_bytes) || c.queued_max_request_bytes == 0 || c.queued_max_request_bytes < -1) return bad();
    return true;
  }
  if (key == "max.connections.per.ip") return parse_int(v, &c.max_connections_per_ip) && c.max_connections_per_ip > 0 ? true : bad();
  if (key == "max.connections") return parse_int(v, &c.max_connections) && c.max_connections > 0 ? true : bad();
  if (key == "max.partitions") return parse_int(v, &c.max_partitions) && (c.max_partitions > 0 || c.max_partitions == -1) ? true : bad();
  if (key == "socket.request.max.bytes") return parse_int(v, &c.socket_request_max_bytes) && c.socket_request_max_bytes >= 1024 ? true : bad();
  if (key == "log.segment.bytes") {
    if (std::optional<std::string> why = check_dynamic_broker_config("log.segment.bytes", std::string(v))) {
      *error = *why;
      return false;
    }
    return parse_int(v, &c.log.segment_bytes) ? true : bad();
  }
  if (key == "log.roll.ms") return parse_int(v, &c.log.segment_ms) && c.log.segment_ms > 0 ? true : bad();
  if (key == "log.roll.hours") return parse_int(v, &n) && n > 0 ? (c.log.segment_ms = n * 3600000, true) : bad();
  if (key == "log.retention.ms") return parse_int(v, &c.log.retention_ms) ? true : bad();
  if (key == "log.retention.minutes") return parse_int(v, &n) ? (c.log.retention_ms = n < 0 ? -1 : n * 60000, true) : bad();
  if (key == "log.retention.hours") return parse_int(v, &n) ? (c.log.retention_ms = n < 0 ? -1 : n * 3600000, true) : bad();
  if (key == "log.retention.bytes") return parse_int(v, &c.log.retention_bytes) ? true : bad();
  if (key == "log.retention.check.interval.ms") return parse_int(v, &c.retention_check_interval_ms) && c.retention_check_interval_ms > 0 ? true : bad();
  if (key == "log.flush.interval.messages") return parse_int(v, &c.log.flush_messages) && c.log.flush_messages > 0 ? true : bad();
  if (key == "log.flush.interval.ms") return parse_int(v, &c.log.flush_ms) && c.log.flush_ms >= 0 ? true : bad();
  if (key == "log.flush.scheduler.interval.ms") return parse_int(v, &c.flush_scheduler_interval_ms) && c.flush_scheduler_interval_ms > 0 ? true : bad();
  if (key == "log.index.interval.bytes") return parse_int(v, &c.log.index_interval_bytes) ? true : bad();
  if (key == "log.flush.offset.checkpoint.interval.ms") {
    if (!parse_int(v, &n) || n <= 0) return bad();
    c.log.recovery_checkpoint_interval = std::chrono::milliseconds(n);
    return true;
  }
  if (key == "group.initial.rebalance.delay.ms") return parse_int(v, &c.group_initial_rebalance_delay_ms) && c.group_initial_rebalance_delay_ms >= 0 ? true : bad();
  if (key == "group.min.session.timeout.ms") return parse_int(v, &c.group_min_session_timeout_ms) && c.group_min_session_timeout_ms > 0 ? true : bad();
  if (key == "group.max.size") return parse_int(v, &c.group_max_size) && c.group_max_size > 0 ? true : bad();
  if (key == "group.max.count") return parse_int(v, &c.group_max_count) && c.group_max_count > 0 ? true : bad();
  if (key == "offsets.topic.num.partitions") return parse_int(v, &c.offsets_topic_num_partitions) && c.offsets_topic_num_partitions > 0 && c.offsets_topic_num_partitions <= 1000 ? true : bad();
  if (key == "offsets.topic.replication.factor") return parse_int(v, &c.offsets_topic_replication_factor) && c.offsets_topic_replication_factor > 0 ? true : bad();
  if (key == "offsets.commit.timeout.ms") return parse_int(v, &c.offsets_commit_timeout_ms) && c.offsets_commit_timeout_ms > 0 ? true : bad();
  if (key == "group.max.session.timeout.ms") return parse_int(v, &c.group_max_session_timeout_ms) && c.group_max_session_timeout_ms > 0 ? true : bad();
  c.unknown_keys.emplace_back(key);
  return true;
}

}  // namespace

Result<Address> parse_listener(std::string_view text) {
  size_t scheme = text.find("://");
  if (scheme != std::string_view::npos) {
    if (text.substr(0, scheme) != "PLAINTEXT") return Errc::invalid_argument;  // no TLS/SASL yet
    text.remove_prefix(scheme + 3);
  }
  if (!text.empty() && text.front() == ':') {
    Result<Address> any = Address::parse(std::string("0.0.0.0") + std::string(text));
    return any;
  }
  return Address::parse(text);
}

Result<BrokerConfig> BrokerConfig::parse(std::string_view text, std::string* error) {
  BrokerConfig c;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    size_t eq = line.find_first_of("=:");
    if (eq == std::string_view::npos) {
      *error = "line " + std::to_string(line_no) + ": expected key=value";
      return Errc::invalid_argument;
    }
    if (!apply(c, trim(line.substr(0, eq)), trim(line.substr(eq + 1)), error)) {
      *error = "line " + std::to_string(line_no) + ": " + *error;
      return Errc::invalid_argument;
    }
  }
  return c;
}

}  // namespace samsa::broker
