// The `samsa` program's subcommands. Each takes its parsed arguments and returns an exit code.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace samsa::client {
class Cluster;
}

namespace samsa::real {

struct BrokerArgs {
  std::string config_file;
  std::vector<std::string> overrides;  // key=value
  bool verbose = false;
};

struct TopicsArgs {
  bool create = false, del = false, describe = false, list = false, alter = false;
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
  bool list = false, describe = false, del = false, delete_offsets = false, reset_offsets = false;
  std::vector<std::string> groups;       // --group (repeatable for --delete)
  std::vector<std::string> topics;       // --topic T or T:0,1
  bool all_topics = false;
  bool to_earliest = false, to_latest = false;
  std::optional<int64_t> to_offset, shift_by;
  std::string to_datetime;               // YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm]
  bool execute = false, dry_run = false;
  std::string bootstrap;
};

struct ConfigsArgs {
  std::string entity_type;  // topics | brokers
  std::string entity_name;
  bool entity_default = false;
  bool alter = false, describe = false;
  std::string add_config;                 // k=v,k2=v2
  std::vector<std::string> delete_config;  // k (repeatable, or k1,k2)
  std::string bootstrap;
};

struct DeleteRecordsArgs {
  std::string offset_json_file;
  std::string bootstrap;
};

// `samsa leader-election` (kafka-leader-election.sh).
struct LeaderElectionArgs {
  std::string bootstrap;
  std::string election_type;  // PREFERRED or UNCLEAN, any case
  bool all_topic_partitions = false;
  std::string topic;
  int32_t partition = -1;
};
int run_leader_election(const LeaderElectionArgs& args);

int run_broker_command(const BrokerArgs& args);
int run_consumer_groups(const GroupsArgs& args);
int run_topics_command(const TopicsArgs& args);
int run_console_producer(const ProducerArgs& args);
int run_console_consumer(const ConsumerArgs& args);
int run_configs_command(const ConfigsArgs& args);
int run_delete_records(const DeleteRecordsArgs& args);
int run_cluster_id(const std::string& bootstrap);

struct QuorumArgs {
  std::string bootstrap_server, bootstrap_controller;
  bool status = false, replication = false;
};
int run_metadata_quorum(const QuorumArgs& args);
// consumer-groups --delete, --delete-offsets and --reset-offsets (cli_group_admin.cc), with the
// client that run_consumer_groups made.
int group_admin_main(client::Cluster& cluster, const GroupsArgs& args);

// "k=v" strings -> map; false (and *bad set) if one has no '='.
bool parse_properties(const std::vector<std::string>& kvs, std::map<std::string, std::string>* out, std::string* bad);

}  // namespace samsa::real
