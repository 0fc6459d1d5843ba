// samsa: the broker and the Kafka-style command-line tools.
//   samsa broker [--config FILE] [--override k=v]...
//   samsa topics --create|--describe|--delete|--list [--topic T] [--partitions N]
//                [--replication-factor N] [--config k=v]... --bootstrap-server HOST:PORT
//   samsa console-producer --topic T --bootstrap-server HOST:PORT [--property k=v]...
//   samsa console-consumer --topic T --bootstrap-server HOST:PORT [--from-beginning] [--group G] ...
//   samsa topics --alter --topic T --partitions N --bootstrap-server HOST:PORT
//   samsa consumer-groups --list | --describe --group G | --delete --group G... |
//                         --delete-offsets --group G --topic T[:P,P] |
//                         --reset-offsets --group G (--topic T[:P,P] | --all-topics)
//                           (--to-earliest | --to-latest | --to-offset N | --shift-by N |
//                            --to-datetime YYYY-MM-DDTHH:mm:SS.sss) [--execute | --dry-run]
//                         --bootstrap-server HOST:PORT
//   samsa configs --entity-type topics|brokers --entity-name X (--describe | --alter
//                 [--add-config k=v,k2=v2] [--delete-config k]) --bootstrap-server HOST:PORT
//   samsa delete-records --offset-json-file FILE --bootstrap-server HOST:PORT
//   samsa cluster-id --bootstrap-server HOST:PORT
//   samsa metadata-quorum (--bootstrap-server|--bootstrap-controller) HOST:PORT describe (--status|--replication)
//   samsa leader-election --bootstrap-server HOST:PORT --election-type PREFERRED|UNCLEAN
//         (--all-topic-partitions | --topic T [--partition P])
// Bad flags print a usage message and exit with code 2.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>

#include "real/tools/cli.h"
#include "samsa_version.h"

namespace {

using namespace samsa::real;

void add_broker(CLI::App& app, BrokerArgs& a) {
  auto* cmd = app.add_subcommand("broker", "run a samsa broker (Kafka-style properties; no config: localhost:9092, ./data)");
  cmd->add_option("--config,config", a.config_file, "broker properties file");
  cmd->add_option("--override", a.overrides, "key=value, overriding the file");
  cmd->add_flag("-v,--verbose", a.verbose, "debug logging");
}

void add_topics(CLI::App& app, TopicsArgs& a) {
  auto* cmd = app.add_subcommand("topics", "create, delete, describe or list topics (like kafka-topics.sh)");
  cmd->add_flag("--create", a.create);
  cmd->add_flag("--delete", a.del);
  cmd->add_flag("--describe", a.describe);
  cmd->add_flag("--list", a.list);
  cmd->add_flag("--alter", a.alter, "raise the partition count (--partitions)");
  cmd->add_option("--topic", a.topic);
  cmd->add_option("--partitions", a.partitions)->check(CLI::Range(1, 10000));
  cmd->add_option("--replication-factor", a.replication_factor)->check(CLI::Range(1, 32767));
  cmd->add_option("--config", a.configs, "topic config key=value");
  cmd->add_option("--bootstrap-server", a.bootstrap)->required();
  cmd->add_flag("--if-not-exists", a.if_not_exists);
  cmd->add_flag("--if-exists", a.if_exists);
}

void add_producer(CLI::App& app, ProducerArgs& a) {
  auto* cmd = app.add_subcommand("console-producer", "send stdin lines as records (like kafka-console-producer.sh)");
  cmd->add_option("--topic", a.topic)->required();
  auto* bs = cmd->add_option("--bootstrap-server", a.bootstrap);
  auto* bl = cmd->add_option("--broker-list", a.bootstrap);
  bs->excludes(bl);
  cmd->add_option("--property", a.properties, "parse.key=true, key.separator=:");
  cmd->add_option("--producer-property", a.producer_properties, "acks, compression.type, batch.size, retries, delivery.timeout.ms");
  cmd->add_option("--request-required-acks", a.acks)->check(CLI::IsMember({"-1", "0", "1", "all"}));
  cmd->add_option("--compression-codec", a.compression)->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
}

void add_consumer(CLI::App& app, ConsumerArgs& a) {
  auto* cmd = app.add_subcommand("console-consumer", "print records to stdout (like kafka-console-consumer.sh)");
  cmd->add_option("--topic", a.topic)->required();
  cmd->add_option("--bootstrap-server", a.bootstrap)->required();
  cmd->add_flag("--from-beginning", a.from_beginning);
  cmd->add_option("--partition", a.partition)->check(CLI::NonNegativeNumber);
  cmd->add_option("--offset", a.offset, "earliest, latest or an offset (needs --partition)");
  cmd->add_option("--max-messages", a.max_messages)->check(CLI::PositiveNumber);
  cmd->add_option("--timeout-ms", a.timeout_ms)->check(CLI::NonNegativeNumber);
  cmd->add_option("--property", a.properties, "print.key=true, key.separator=, print.timestamp=true ...");
  cmd->add_option("--group", a.group, "consumer group: partitions are shared with its other members, offsets committed");
}

void add_groups(CLI::App& app, GroupsArgs& a) {
  auto* cmd = app.add_subcommand("consumer-groups", "list, describe, delete and reset consumer groups (like kafka-consumer-groups.sh)");
  cmd->add_flag("--list", a.list);
  cmd->add_flag("--describe", a.describe);
  cmd->add_flag("--delete", a.del, "delete empty groups and their offsets");
  cmd->add_flag("--delete-offsets", a.delete_offsets, "delete a group's committed offsets of --topic");
  cmd->add_flag("--reset-offsets", a.reset_offsets, "set an inactive group's committed offsets");
  cmd->add_option("--group", a.groups);
  cmd->add_option("--topic", a.topics, "T or T:P,P");
  cmd->add_flag("--all-topics", a.all_topics);
  cmd->add_flag("--to-earliest", a.to_earliest);
  cmd->add_flag("--to-latest", a.to_latest);
  cmd->add_option("--to-offset", a.to_offset);
  cmd->add_option("--shift-by", a.shift_by);
  cmd->add_option("--to-datetime", a.to_datetime, "YYYY-MM-DDTHH:mm:SS.sss (UTC)");
  cmd->add_flag("--execute", a.execute);
  cmd->add_flag("--dry-run", a.dry_run);
  cmd->add_option("--bootstrap-server", a.bootstrap)->required();
}

void add_configs(CLI::App& app, ConfigsArgs& a) {
  auto* cmd = app.add_subcommand("configs", "describe and alter topic and broker configs (like kafka-configs.sh)");
  cmd->add_option("--entity-type", a.entity_type, "topics or brokers")->required();
  cmd->add_option("--entity-name", a.entity_name);
  cmd->add_flag("--entity-default", a.entity_default, "the cluster-wide broker default");
  cmd->add_flag("--alter", a.alter);
  cmd->add_flag("--describe", a.describe);
  cmd->add_option("--add-config", a.add_config, "k=v,k2=v2");
  cmd->add_option("--delete-config", a.delete_config, "k or k1,k2");
  cmd->add_option("--bootstrap-server", a.bootstrap)->required();
}

void add_delete_records(CLI::App& app, DeleteRecordsArgs& a) {
  auto* cmd = app.add_subcommand("delete-records", "delete records below offsets (like kafka-delete-records.sh)");
  cmd->add_option("--offset-json-file", a.offset_json_file, "{\"partitions\": [{\"topic\": T, \"partition\": P, \"offset\": O}]}")->required();
  cmd->add_option("--bootstrap-server", a.bootstrap)->required();
}

void add_cluster_id(CLI::App& app, std::string& bootstrap) {
  auto* cmd = app.add_subcommand("cluster-id", "print the cluster id (like kafka-cluster.sh cluster-id)");
  cmd->add_option("--bootstrap-server", bootstrap)->required();
}

void add_leader_election(CLI::App& app, LeaderElectionArgs& a) {
  auto* cmd = app.add_subcommand("leader-election", "elect preferred or unclean leaders (like kafka-leader-election.sh)");
  cmd->add_option("--bootstrap-server", a.bootstrap)->required();
  cmd->add_option("--election-type", a.election_type, "PREFERRED or UNCLEAN")->required();
  auto* which = cmd->add_option_group("partitions");
  which->add_flag("--all-topic-partitions", a.all_topic_partitions, "every partition of every topic");
  which->add_option("--topic", a.topic, "one topic (with --partition: one partition)");
  which->require_option(1);
  cmd->add_option("--partition", a.partition, "a partition of --topic")->check(CLI::NonNegativeNumber);
}

void add_metadata_quorum(CLI::App& app, QuorumArgs& a) {
  auto* cmd = app.add_subcommand("metadata-quorum", "describe the KRaft metadata quorum (like kafka-metadata-quorum.sh)");
  cmd->add_option("--bootstrap-server", a.bootstrap_server, "brokers: HOST:PORT[,...]");
  cmd->add_option("--bootstrap-controller", a.bootstrap_controller, "controllers (their CONTROLLER listeners): HOST:PORT[,...]");
  auto* describe = cmd->add_subcommand("describe", "the quorum's state")->required();
  auto* how = describe->add_option_group("what");
  how->add_flag("--status", a.status, "leader, epoch, high watermark, lag");
  how->add_flag("--replication", a.replication, "each voter's and observer's progress");
  how->require_option(1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"samsa: a Kafka-compatible broker and its tools"};
  app.require_subcommand(1, 1);
  BrokerArgs broker;
  TopicsArgs topics;
  ProducerArgs producer;
  ConsumerArgs consumer;
  GroupsArgs groups;
  ConfigsArgs configs;
  DeleteRecordsArgs delete_records;
  std::string cluster_bootstrap;
  add_groups(app, groups);
  add_configs(app, configs);
  add_delete_records(app, delete_records);
  add_cluster_id(app, cluster_bootstrap);
  QuorumArgs quorum;
  add_metadata_quorum(app, quorum);
  LeaderElectionArgs election;
  add_leader_election(app, election);
  add_broker(app, broker);
  add_topics(app, topics);
  add_producer(app, producer);
  add_consumer(app, consumer);
  // Like Kafka's tools, `samsa --version` and `samsa TOOL --version`: the commit built from.
  const std::string version = "samsa " SAMSA_COMMIT;
  const std::function<void(CLI::App&)> add_version = [&](CLI::App& a) {
    a.set_version_flag("--version", version, "print the commit samsa was built from and exit");
    for (CLI::App* sub : a.get_subcommands({})) add_version(*sub);  // metadata-quorum describe too
  };
  add_version(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "samsa: %s\n\n", e.what());
    CLI::App* sub = app.get_subcommands().empty() ? &app : app.get_subcommands().front();
    std::fputs(sub->help().c_str(), stderr);
    return 2;
  }
  const std::string name = app.get_subcommands().front()->get_name();
  if (name == "broker") return run_broker_command(broker);
  if (name == "topics") return run_topics_command(topics);
  if (name == "console-producer") return run_console_producer(producer);
  if (name == "consumer-groups") return run_consumer_groups(groups);
  if (name == "configs") return run_configs_command(configs);
  if (name == "delete-records") return run_delete_records(delete_records);
  if (name == "cluster-id") return run_cluster_id(cluster_bootstrap);
  if (name == "metadata-quorum") return run_metadata_quorum(quorum);
  if (name == "leader-election") return run_leader_election(election);
  return run_console_consumer(consumer);
}
