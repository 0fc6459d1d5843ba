// TopicPartition: one partition of a topic by name — the key the broker, the groups coordinator
// and the clients share (where they used to spell it three ways).
//
// Plain value; any fiber.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "model/ids.h"

namespace samsa::model {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;  // the wire's int32 (PartitionId where a strong type helps)

  TopicPartition() = default;
  TopicPartition(std::string t, int32_t p) : topic(std::move(t)), partition(p) {}
  TopicPartition(std::string t, PartitionId p) : topic(std::move(t)), partition(p.value) {}

  PartitionId id() const { return PartitionId{partition}; }
  // Kafka's directory and log name: "topic-3".
  std::string to_string() const;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

}  // namespace samsa::model
