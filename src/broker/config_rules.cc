#include "broker/config_rules.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>

namespace samsa::broker {

namespace {

enum class Kind : uint8_t { long_, int_, boolean, ratio, choice, policy };

struct Rule {
  const char* name;
  Kind kind;
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  const char* choices = nullptr;  // '|'-separated, for Kind::choice
};

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kSegmentBytesMin = 1024 * 1024;  // KIP-1030 (Kafka 4.0)

constexpr Rule kTopicRules[] = {
    {"cleanup.policy", Kind::policy},
    {"compression.type", Kind::choice, 0, 0, "uncompressed|zstd|lz4|snappy|gzip|producer"},
    {"delete.retention.ms", Kind::long_, 0},
    {"file.delete.delay.ms", Kind::long_, 0},
    {"flush.messages", Kind::long_, 1},
    {"flush.ms", Kind::long_, 0},
    {"index.interval.bytes", Kind::int_, 0, kIntMax},
    {"max.compaction.lag.ms", Kind::long_, 1},
    {"max.message.bytes", Kind::int_, 0, kIntMax},
    {"message.downconversion.enable", Kind::boolean},
    {"message.timestamp.difference.max.ms", Kind::long_, 0},
    {"message.timestamp.type", Kind::choice, 0, 0, "CreateTime|LogAppendTime"},
    {"min.cleanable.dirty.ratio", Kind::ratio},
    {"min.compaction.lag.ms", Kind::long_, 0},
    {"min.insync.replicas", Kind::int_, 1, kIntMax},
    {"preallocate", Kind::boolean},
    {"retention.bytes", Kind::long_},
    {"retention.ms", Kind::long_, -1},
    {"segment.bytes", Kind::int_, kSegmentBytesMin, kIntMax},
    {"segment.index.bytes", Kind::int_, 4, kIntMax},
    {"segment.jitter.ms", Kind::long_, 0},
    {"segment.ms", Kind::long_, 1},
    {"unclean.leader.election.enable", Kind::boolean},
};

constexpr Rule kDynamicBrokerRules[] = {
    {"auto.create.topics.enable", Kind::boolean},
    {"log.cleaner.threads", Kind::int_, 0, kIntMax},
    {"log.flush.interval.messages", Kind::long_, 1},
    {"log.flush.interval.ms", Kind::long_, 0},
    {"log.retention.bytes", Kind::long_},
    {"log.retention.ms", Kind::long_, -1},
    {"log.segment.bytes", Kind::int_, kSegmentBytesMin, kIntMax},
    {"message.max.bytes", Kind::int_, 0, kIntMax},
    {"min.insync.replicas", Kind::int_, 1, kIntMax},
    {"num.partitions", Kind::int_, 1, kIntMax},
    {"unclean.leader.election.enable", Kind::boolean},
};

template <size_t N>
const Rule* find(const Rule (&rules)[N], const std::string& key) {
  for (const Rule& r : rules) {
    if (key == r.name) return &r;
  }
  return nullptr;
}

bool one_of(std::string_view value, std::string_view choices) {
  while (!choices.empty()) {
    const size_t bar = choices.find('|');
    if (value == choices.substr(0, bar)) return true;
    choices.remove_prefix(bar == std::string_view::npos ? choices.size() : bar + 1);
  }
  return false;
}

std::optional<std::string> check(const Rule& r, const std::string& value) {
  auto invalid = [&](const std::string& why) {
    return fmt::format("Invalid value {} for configuration {}: {}", value, r.name, why);
  };
  switch (r.kind) {
    case Kind::boolean:
      if (value == "true" || value == "false") return std::nullopt;
      return invalid("Expected value to be either true or false");
    case Kind::choice:
      if (one_of(value, r.choices)) return std::nullopt;
      return invalid(fmt::format("String must be one of: {}", r.choices));
    case Kind::policy:
      if (value == "delete" || value == "compact" || value == "compact,delete" || value == "delete,compact") return std::nullopt;
      return invalid("String must be delete, compact, or both");
    case Kind::ratio: {
      double d = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
      if (ec == std::errc{} && end == value.data() + value.size() && d >= 0 && d <= 1) return std::nullopt;
      return invalid("Value must be between 0 and 1");
    }
    case Kind::long_:
    case Kind::int_: {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size()) return invalid("Not a number");
      if (n < r.min) return invalid(fmt::format("Value must be at least {}", r.min));
      if (n > r.max) return invalid(fmt::format("Value must be no more than {}", r.max));
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

bool known_topic_config(const std::string& key) { return find(kTopicRules, key) != nullptr; }
bool known_dynamic_broker_config(const std::string& key) { return find(kDynamicBrokerRules, key) != nullptr; }

std::optional<std::string> check_topic_config(const std::string& key, const std::string& value) {
  const Rule* r = find(kTopicRules, key);
  if (r == nullptr) return fmt::format("Unknown topic config name: {}", key);
  return check(*r, value);
}

std::optional<std::string> check_dynamic_broker_config(const std::string& key, const std::string& value) {
  const Rule* r = find(kDynamicBrokerRules, key);
  if (r == nullptr) return fmt::format("Cannot update these configs dynamically: {}", key);
  return check(*r, value);
}

std::optional<std::string> apply_config_ops(const std::vector<kafka::IncrementalAlterConfigsRequest::Config>& ops,
                                            std::map<std::string, std::string>& configs) {
  using Request = kafka::IncrementalAlterConfigsRequest;
  for (const auto& c : ops) {
    if (c.config_operation == Request::kSet && c.value) {
      configs[c.name] = *c.value;
    } else if (c.config_operation == Request::kDelete) {
      configs.erase(c.name);
    } else {
      return fmt::format("unsupported config operation {} for {}", c.config_operation, c.name);
    }
  }
  return std::nullopt;
}

}  // namespace samsa::broker
