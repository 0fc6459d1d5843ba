// Broker settings read from a Kafka-style properties file, with Kafka's property names and
// defaults. Parsing is pure (text in, config or error message out); the caller reads the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "log/log_config.h"
#include "runtime/address.h"
#include "runtime/status.h"

namespace samsa::broker {

struct BrokerConfig {
  int32_t node_id = 1;                                 // node.id / broker.id
  Address listener{"localhost", 9092};                 // listeners=PLAINTEXT://host:port
  Address advertised{"", 0};                           // advertised.listeners (default: listener)
  std::string log_dir = "./data";                      // log.dirs / log.dir (first entry)
  int32_t num_partitions = 1;                          // num.partitions
  int16_t default_replication_factor = 1;              // default.replication.factor
  int32_t min_insync_replicas = 1;                     // min.insync.replicas (topics may override)
  int64_t replica_lag_time_max_ms = 30000;             // replica.lag.time.max.ms
  bool auto_create_topics = true;                      // auto.create.topics.enable
  int32_t message_max_bytes = 1048588;                 // message.max.bytes
  uint32_t socket_request_max_bytes = 104857600;       // socket.request.max.bytes
  int64_t queued_max_request_bytes = 256LL << 20;      // queued.max.request.bytes (all connections)
  int32_t max_connections = 4096;                      // max.connections
  int32_t max_connections_per_ip = 2147483647;         // max.connections.per.ip
  // max.partitions (samsa's, like Redpanda's per-core budget): partitions this broker holds. -1:
  // from the file descriptor limit, leaving room for max.connections.
  int64_t max_partitions = -1;
  int64_t retention_check_interval_ms = 300000;        // log.retention.check.interval.ms
  int64_t flush_scheduler_interval_ms = 1000;          // log.flush.scheduler.interval.ms
  int32_t group_initial_rebalance_delay_ms = 3000;     // group.initial.rebalance.delay.ms
  int32_t group_min_session_timeout_ms = 6000;         // group.min.session.timeout.ms
  int32_t group_max_session_timeout_ms = 1800000;      // group.max.session.timeout.ms
  int32_t group_max_size = 1000;                       // group.max.size (members per group)
  int32_t group_max_count = 10000;                     // group.max.count (samsa's: groups held)
  // The replicated __consumer_offsets of a KRaft cluster (a single broker keeps one local log).
  int32_t offsets_topic_num_partitions = 50;           // offsets.topic.num.partitions
  int16_t offsets_topic_replication_factor = 3;        // offsets.topic.replication.factor
  int32_t offsets_commit_timeout_ms = 5000;            // offsets.commit.timeout.ms: the ISR's wait
  LogConfig log;                                       // log.segment.bytes, log.retention.*, log.flush.*
  std::vector<std::string> unknown_keys;               // warned about, like Kafka does

  // The address clients are told to use.
  const Address& advertised_address() const { return advertised.port != 0 ? advertised : listener; }

  // Parses properties text. On error returns Errc::invalid_argument and sets *error.
  static Result<BrokerConfig> parse(std::string_view text, std::string* error);
};

// "PLAINTEXT://host:port" (or "host:port") -> Address. An empty host binds every interface.
Result<Address> parse_listener(std::string_view text);

}  // namespace samsa::broker
