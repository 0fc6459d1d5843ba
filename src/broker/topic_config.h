// A topic's effective settings: the broker's defaults (its properties file) under the topic's
// config overrides — the log settings its partitions run with, min.insync.replicas, and the full
// list DescribeConfigs shows. The single broker's TopicManager and a cluster broker's metadata
// reconciliation (src/server) both derive them here, so a topic behaves the same either way.
//
// Pure functions; any fiber.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "broker/broker_config.h"
#include "log/log_config.h"

namespace samsa::broker {

using ConfigOverrides = std::map<std::string, std::string>;

// Kafka's internal topics: created by the brokers themselves, never by or for a client.
inline bool internal_topic(const std::string& name) { return name == "__consumer_offsets" || name == "__cluster_metadata"; }

LogConfig topic_log_config(const BrokerConfig& broker, const ConfigOverrides& overrides);
int32_t topic_min_insync_replicas(const BrokerConfig& broker, const ConfigOverrides& overrides);
// name -> (value, is_override) of every topic-level config, for DescribeConfigs.
std::vector<std::pair<std::string, std::pair<std::string, bool>>> describe_topic_configs(const BrokerConfig& broker,
                                                                                          const ConfigOverrides& overrides);

}  // namespace samsa::broker
