// `samsa topics`: kafka-topics.sh's create, delete, describe and list.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <map>

#include "client/admin.h"
#include "real/tools/cli.h"
#include "real/tools/cli_tool.h"

namespace samsa::real {

bool parse_properties(const std::vector<std::string>& kvs, std::map<std::string, std::string>* out, std::string* bad) {
  for (const std::string& kv : kvs) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      *bad = kv;
      return false;
    }
    (*out)[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return true;
}

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "Error while executing topic command : %s\n", message.c_str());
  return 1;
}

void print_description(const client::TopicDescription& d, int16_t replication_factor) {
  // fmt::join rather than `s += (s.empty() ? "" : ",") + x`, which g++ 12 -O3 misreports as an
  // overlapping memcpy (-Werror=restrict).
  std::vector<std::string> kvs;
  for (const auto& [k, v] : d.overrides) kvs.push_back(k + "=" + v);
  const std::string configs = fmt::format("{}", fmt::join(kvs, ","));
  std::printf("Topic: %s\tPartitionCount: %zu\tReplicationFactor: %d\tConfigs: %s\n", d.name.c_str(), d.partitions.size(),
              replication_factor, configs.c_str());
  auto join = [](const std::vector<int32_t>& ids) { return fmt::format("{}", fmt::join(ids, ",")); };
  for (const auto& p : d.partitions) {
    std::printf("\tTopic: %s\tPartition: %d\tLeader: %d\tReplicas: %s\tIsr: %s\n", d.name.c_str(), p.partition_index,
                p.leader_id, join(p.replica_nodes).c_str(), join(p.isr_nodes).c_str());
  }
}

int topics_main(client::Cluster& cluster, const TopicsArgs& a) {
  const int actions = int{a.create} + int{a.del} + int{a.describe} + int{a.list} + int{a.alter};
  if (actions != 1) {
    std::fprintf(stderr, "Command must include exactly one action: --list, --describe, --create, --alter or --delete\n");
    return 2;
  }
  if ((a.create || a.del || a.alter) && a.topic.empty()) {
    std::fprintf(stderr, "Missing required argument \"[topic]\"\n");
    return 2;
  }
  std::map<std::string, std::string> configs;
  std::string bad;
  if (!parse_properties(a.configs, &configs, &bad)) {
    std::fprintf(stderr, "Invalid topic config: %s (expected key=value)\n", bad.c_str());
    return 2;
  }
  client::Admin admin(cluster);
  if (a.create) {
    Result<client::AdminResult> r = admin.create_topic(a.topic, a.partitions, static_cast<int16_t>(a.replication_factor), configs);
    if (!r.ok()) return fail(std::string("cannot reach the broker: ") + errc_name(r.error()));
    if (r->error == kafka::Error::topic_already_exists && a.if_not_exists) return 0;
    if (r->error != kafka::Error::none) return fail(r->message.empty() ? kafka::error_name(r->error) : r->message);
    std::printf("Created topic %s.\n", a.topic.c_str());
    return 0;
  }
  if (a.alter) {
    if (a.partitions < 0) {
      std::fprintf(stderr, "--alter takes --partitions N\n");
      return 2;
    }
    Result<client::AdminResult> r = admin.create_partitions(a.topic, a.partitions);
    if (!r.ok()) return fail(std::string("cannot reach the broker: ") + errc_name(r.error()));
    if (r->error != kafka::Error::none) return fail(r->message.empty() ? kafka::error_name(r->error) : r->message);
    return 0;
  }
  if (a.del) {
    Result<client::AdminResult> r = admin.delete_topic(a.topic);
    if (!r.ok()) return fail(std::string("cannot reach the broker: ") + errc_name(r.error()));
    if (r->error == kafka::Error::unknown_topic_or_partition) {
      return a.if_exists ? 0 : fail("Topic '" + a.topic + "' does not exist as expected");
    }
    if (r->error != kafka::Error::none) return fail(kafka::error_name(r->error));
    return 0;
  }
  if (a.list) {
    Result<std::vector<std::string>> names = admin.list_topics();
    if (!names.ok()) return fail(std::string("cannot reach the broker: ") + errc_name(names.error()));
    for (const std::string& n : *names) std::printf("%s\n", n.c_str());
    return 0;
  }
  std::optional<std::vector<std::string>> which;
  if (!a.topic.empty()) which = std::vector<std::string>{a.topic};
  Result<std::vector<client::TopicDescription>> ds = admin.describe_topics(which);
  if (!ds.ok()) return fail(std::string("cannot reach the broker: ") + errc_name(ds.error()));
  for (const auto& d : *ds) {
    if (d.error != 0) {
      if (a.if_exists) continue;
      return fail("Topic '" + d.name + "' does not exist as expected");
    }
    print_description(d, static_cast<int16_t>(d.partitions.empty() ? 0 : d.partitions.front().replica_nodes.size()));
  }
  return 0;
}

}  // namespace

int run_topics_command(const TopicsArgs& args) {
  return run_tool(args.bootstrap, "samsa-topics", [&](client::Cluster& c) { return topics_main(c, args); });
}

}  // namespace samsa::real
