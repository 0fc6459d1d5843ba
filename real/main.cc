// samsa: the broker and the Kafka-style command-line tools.
//   samsa broker [--config FILE] [--override k=v]...
//   samsa topics --create|--describe|--delete|--list [--topic T] [--partitions N]
//                [--replication-factor N] [--config k=v]... --bootstrap-server HOST:PORT
//   samsa console-producer --topic T --bootstrap-server HOST:PORT [--property k=v]...
//   samsa console-consumer --topic T --bootstrap-server HOST:PORT [--from-beginning] [--group G] ...
//   samsa consumer-groups --list | --describe --group G --bootstrap-server HOST:PORT
// Bad flags print a usage message and exit with code 2.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "real/cli.h"

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
  cmd->add_option("--producer-property", a.producer_properties, "acks, compression.type, batch.size");
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
  auto* cmd = app.add_subcommand("consumer-groups", "list and describe consumer groups (like kafka-consumer-groups.sh)");
  cmd->add_flag("--list", a.list);
  cmd->add_flag("--describe", a.describe);
  cmd->add_option("--group", a.group);
  cmd->add_option("--bootstrap-server", a.bootstrap)->required();
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
  add_groups(app, groups);
  add_broker(app, broker);
  add_topics(app, topics);
  add_producer(app, producer);
  add_consumer(app, consumer);
  try {
    app.parse(argc, argv);
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
  return run_console_consumer(consumer);
}
