#include "broker/topic_config.h"

#include "util/strings.h"

namespace samsa::broker {

LogConfig topic_log_config(const BrokerConfig& broker, const ConfigOverrides& overrides) {
  LogConfig c = broker.log;
  auto get = [&](const char* key, auto setter) {
    auto it = overrides.find(key);
    int64_t v = 0;
    if (it != overrides.end() && parse_int(it->second, &v)) setter(v);
  };
  get("segment.bytes", [&](int64_t v) { c.segment_bytes = static_cast<uint64_t>(v); });
  get("segment.ms", [&](int64_t v) { c.segment_ms = v; });
  get("retention.ms", [&](int64_t v) { c.retention_ms = v; });
  get("retention.bytes", [&](int64_t v) { c.retention_bytes = v; });
  get("flush.messages", [&](int64_t v) { c.flush_messages = v; });
  get("flush.ms", [&](int64_t v) { c.flush_ms = v; });
  get("index.interval.bytes", [&](int64_t v) { c.index_interval_bytes = static_cast<uint32_t>(v); });
  get("max.message.bytes", [&](int64_t v) { c.max_batch_bytes = static_cast<uint32_t>(v); });
  return c;
}

int32_t topic_min_insync_replicas(const BrokerConfig& broker, const ConfigOverrides& overrides) {
  auto it = overrides.find("min.insync.replicas");
  int64_t v = broker.min_insync_replicas;
  if (it != overrides.end()) (void)parse_int(it->second, &v);  // checked by config_rules when set
  return static_cast<int32_t>(v);
}

std::vector<std::pair<std::string, std::pair<std::string, bool>>> describe_topic_configs(const BrokerConfig& broker,
                                                                                          const ConfigOverrides& overrides) {
  const LogConfig c = topic_log_config(broker, overrides);
  std::map<std::string, std::string> values = {
      {"cleanup.policy", "delete"},
      {"compression.type", "producer"},
      {"flush.messages", std::to_string(c.flush_messages)},
      {"flush.ms", std::to_string(c.flush_ms)},
      {"index.interval.bytes", std::to_string(c.index_interval_bytes)},
      {"max.message.bytes", std::to_string(c.max_batch_bytes)},
      {"message.timestamp.type", "CreateTime"},
      {"min.insync.replicas", std::to_string(topic_min_insync_replicas(broker, overrides))},
      {"retention.bytes", std::to_string(c.retention_bytes)},
      {"retention.ms", std::to_string(c.retention_ms)},
      {"segment.bytes", std::to_string(c.segment_bytes)},
      {"segment.ms", std::to_string(c.segment_ms)},
  };
  for (const auto& [k, v] : overrides) values[k] = v;
  std::vector<std::pair<std::string, std::pair<std::string, bool>>> out;
  for (const auto& [k, v] : values) out.push_back({k, {v, overrides.count(k) != 0}});
  return out;
}

}  // namespace samsa::broker
