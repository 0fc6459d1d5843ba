// The `samsa` program's subcommands. Each takes its parsed arguments and returns an exit code.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace samsa::real {

struct BrokerArgs {
  std::string config_file;
  std::vector<std::string> overrides;  // key=value
  bool verbose = false;
};

struct TopicsArgs {
  bool create = false, del = false, describe = false, list = false;
  std::string topic;
  int32_t partitions = -1;
  int32_t replication_factor = -1;
  std::vector<std::string> configs;  // key=value
  std::string bootstrap;
  bool if_not_exists = false, if_exists = false;
};

struct ProducerArgs {
  std::string topic;
  std::string bootstrap;
  std::vector<std::string> properties;           // parse.key, key.separator
  std::vector<std::string> producer_properties;  // acks, compression.type, batch.size
  std::string acks = "-1";
  std::string compression;
};

struct ConsumerArgs {
  std::string topic;
  std::string bootstrap;
  bool from_beginning = false;
  std::optional<int32_t> partition;
  std::string offset = "latest";
  std::optional<int64_t> max_messages;
  std::optional<int64_t> timeout_ms;
  std::vector<std::string> properties;  // print.key, key.separator, print.timestamp, ...
  std::string group;
};

struct GroupsArgs {
  bool list = false, describe = false;
  std::string group;
  std::string bootstrap;
};

int run_broker_command(const BrokerArgs& args);
int run_consumer_groups(const GroupsArgs& args);
int run_topics_command(const TopicsArgs& args);
int run_console_producer(const ProducerArgs& args);
int run_console_consumer(const ConsumerArgs& args);

// "k=v" strings -> map; false (and *bad set) if one has no '='.
bool parse_properties(const std::vector<std::string>& kvs, std::map<std::string, std::string>* out, std::string* bad);

}  // namespace samsa::real
