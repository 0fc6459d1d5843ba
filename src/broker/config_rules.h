// Kafka's bounds for topic configs and the broker configs that can change at runtime, in one
// table: which keys exist, their type, and the values Kafka accepts (Kafka 4's bounds, e.g.
// segment.bytes at least 1 MiB, KIP-1030). CreateTopics, AlterConfigs, IncrementalAlterConfigs
// (on a single broker, and on the active controller of a cluster: src/server) and the broker's
// properties file all check against it, so a value Kafka would refuse (which
// could, say, roll a segment per batch until the broker runs out of descriptors) never gets in.
//
// Pure functions; any fiber.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/messages.h"

namespace samsa::broker {

bool known_topic_config(const std::string& key);
bool known_dynamic_broker_config(const std::string& key);

// nullopt if the value is acceptable, else Kafka's kind of message ("Invalid value 1 for
// configuration segment.bytes: Value must be at least 1048576").
std::optional<std::string> check_topic_config(const std::string& key, const std::string& value);
std::optional<std::string> check_dynamic_broker_config(const std::string& key, const std::string& value);

// IncrementalAlterConfigs' operations applied in order to a resource's overrides: SET (with a
// value) and DELETE; APPEND and SUBTRACT are for list configs, which samsa has none of. nullopt
// when all applied, else why not (Kafka's INVALID_REQUEST). Values are checked separately.
std::optional<std::string> apply_config_ops(const std::vector<kafka::IncrementalAlterConfigsRequest::Config>& ops,
                                            std::map<std::string, std::string>& configs);

}  // namespace samsa::broker
