// `samsa configs` (kafka-configs.sh: --describe, --alter --add-config/--delete-config for topics
// and brokers), `samsa delete-records` (kafka-delete-records.sh --offset-json-file) and
// `samsa cluster-id` (kafka-cluster.sh cluster-id, through DescribeCluster).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "client/admin.h"
#include "real/tools/cli.h"
#include "real/tools/cli_tool.h"

namespace samsa::real {

namespace {

using kafka::DescribeConfigsRequest;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

int configs_main(client::Cluster& cluster, const ConfigsArgs& a) {
  if (a.entity_type != "topics" && a.entity_type != "brokers") {
    std::fprintf(stderr, "--entity-type must be topics or brokers\n");
    return 2;
  }
  const bool broker = a.entity_type == "brokers";
  if (int{a.alter} + int{a.describe} != 1 || (a.entity_name.empty() && !(broker && a.entity_default))) {
    std::fprintf(stderr, "Command must include exactly one action: --describe or --alter, and --entity-name (or --entity-default for brokers)\n");
    return 2;
  }
  const int8_t type = broker ? DescribeConfigsRequest::kBroker : DescribeConfigsRequest::kTopic;
  const std::string label = broker ? (a.entity_default ? "default broker" : "broker " + a.entity_name) : "topic " + a.entity_name;
  client::Admin admin(cluster);
  if (a.describe) {
    client::AdminResult error;
    Result<std::vector<client::ConfigEntry>> entries = admin.describe_configs(type, a.entity_name, &error);
    if (!entries.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(entries.error())));
    if (error.error != kafka::Error::none) return tool_error(error.message.empty() ? kafka::error_name(error.error) : error.message);
    const int8_t dynamic = broker ? kafka::DescribeConfigsResponse::kSourceDynamicBroker : kafka::DescribeConfigsResponse::kSourceTopic;
    std::printf("Dynamic configs for %s are:\n", label.c_str());
    for (const auto& e : *entries) {
      if (e.source == dynamic) std::printf("  %s=%s\n", e.name.c_str(), e.value.value_or("null").c_str());
    }
    return 0;
  }
  std::map<std::string, std::string> set;
  std::string bad;
  if (!parse_properties(split(a.add_config, ','), &set, &bad)) {
    std::fprintf(stderr, "Invalid entity config: %s (expected key=value)\n", bad.c_str());
    return 2;
  }
  std::vector<std::string> remove;
  for (const std::string& d : a.delete_config) {
    for (const std::string& k : split(d, ',')) remove.push_back(k);
  }
  Result<client::AdminResult> r = admin.alter_configs(type, a.entity_name, set, remove);
  if (!r.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(r.error())));
  if (r->error != kafka::Error::none) return tool_error(r->message.empty() ? kafka::error_name(r->error) : r->message);
  std::printf("Completed updating config for %s.\n", label.c_str());
  return 0;
}

// {"partitions": [{"topic": "t", "partition": 0, "offset": 3}, ...], "version": 1}: the three
// keys of each object in the partitions array, whatever the spacing and key order.
bool parse_offset_json(const std::string& text, std::vector<client::PartitionResult>* out) {
  const size_t list = text.find("\"partitions\"");
  if (list == std::string::npos) return false;
  size_t at = text.find('[', list);
  const size_t end = text.find(']', at == std::string::npos ? list : at);
  if (at == std::string::npos || end == std::string::npos) return false;
  while ((at = text.find('{', at)) != std::string::npos && at < end) {
    const size_t close = text.find('}', at);
    if (close == std::string::npos) return false;
    const std::string obj = text.substr(at, close - at);
    auto value = [&](const char* key) -> std::string {
      const size_t k = obj.find(std::string("\"") + key + "\"");
      if (k == std::string::npos) return {};
      size_t v = obj.find(':', k);
      if (v == std::string::npos) return {};
      ++v;
      while (v < obj.size() && (obj[v] == ' ' || obj[v] == '"' || obj[v] == '\n' || obj[v] == '\t')) ++v;
      size_t e = v;
      while (e < obj.size() && obj[e] != '"' && obj[e] != ',' && obj[e] != ' ' && obj[e] != '\n') ++e;
      return obj.substr(v, e - v);
    };
    client::PartitionResult p;
    p.topic = value("topic");
    try {
      p.partition = std::stoi(value("partition"));
      p.offset = std::stoll(value("offset"));
    } catch (...) {
      return false;
    }
    if (p.topic.empty()) return false;
    out->push_back(p);
    at = close + 1;
  }
  return !out->empty();
}

int delete_records_main(client::Cluster& cluster, const DeleteRecordsArgs& a) {
  std::ifstream in(a.offset_json_file);
  if (!in) {
    std::fprintf(stderr, "Cannot read %s\n", a.offset_json_file.c_str());
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::vector<client::PartitionResult> below;
  if (!parse_offset_json(text.str(), &below)) {
    std::fprintf(stderr, "The offset JSON file %s is malformed: expected {\"partitions\": [{\"topic\": T, \"partition\": P, \"offset\": O}]}\n",
                 a.offset_json_file.c_str());
    return 2;
  }
  std::printf("Executing records delete operation\n");
  Result<std::vector<client::PartitionResult>> r = client::Admin(cluster).delete_records(below);
  if (!r.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(r.error())));
  std::printf("Records delete operation completed:\n");
  int rc = 0;
  for (const auto& p : *r) {
    if (p.error == kafka::Error::none) {
      std::printf("partition: %s-%d\tlow_watermark: %lld\n", p.topic.c_str(), p.partition, static_cast<long long>(p.offset));
    } else {
      std::printf("partition: %s-%d\terror: %s\n", p.topic.c_str(), p.partition, kafka::error_name(p.error));
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

int run_configs_command(const ConfigsArgs& args) {
  return run_tool(args.bootstrap, "kafka-configs", [&](client::Cluster& c) { return configs_main(c, args); });
}

int run_delete_records(const DeleteRecordsArgs& args) {
  return run_tool(args.bootstrap, "kafka-delete-records", [&](client::Cluster& c) { return delete_records_main(c, args); });
}

namespace {

// kafka-leader-election.sh's report: the partitions elected, those that already had the leader
// asked for, and each failure (exit code 1 if any).
int leader_election_main(client::Cluster& cluster, const LeaderElectionArgs& a) {
  std::string type = a.election_type;
  for (char& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (type != "PREFERRED" && type != "UNCLEAN") return tool_error("--election-type must be PREFERRED or UNCLEAN, not " + a.election_type);
  if (a.partition >= 0 && a.topic.empty()) return tool_error("--partition needs --topic");
  std::vector<client::PartitionResult> asked;
  if (!a.topic.empty()) {
    if (a.partition >= 0) {
      asked.push_back({.topic = a.topic, .partition = a.partition});
    } else {
      // Without auto-creation: a mistyped name must not create a topic.
      Result<kafka::MetadataResponse> m = cluster.metadata(std::vector<std::string>{a.topic}, false);
      if (!m.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(m.error())));
      int32_t n = 0;
      for (const auto& t : m->topics) {
        if (t.name == a.topic && t.error_code == 0) n = static_cast<int32_t>(t.partitions.size());
      }
      if (n == 0) return tool_error("unknown topic " + a.topic);
      for (int32_t p = 0; p < n; ++p) asked.push_back({.topic = a.topic, .partition = p});
    }
  }
  Result<std::vector<client::PartitionResult>> r = client::Admin(cluster).elect_leaders(type == "PREFERRED" ? 0 : 1, asked);
  if (!r.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(r.error())));
  std::vector<std::string> done, not_needed, failed;
  for (const client::PartitionResult& p : *r) {
    const std::string name = p.topic.empty() ? "the request" : fmt::format("{}-{}", p.topic, p.partition);
    if (p.error == kafka::Error::none) done.push_back(name);
    else if (p.error == kafka::Error::election_not_needed) not_needed.push_back(name);
    else failed.push_back(fmt::format("{}: {}", name, kafka::error_name(p.error)));
  }
  if (!done.empty()) std::printf("Successfully completed leader election (%s) for partitions %s\n", type.c_str(), fmt::format("{}", fmt::join(done, ", ")).c_str());
  if (!not_needed.empty()) std::printf("Valid replica already elected for partitions %s\n", fmt::format("{}", fmt::join(not_needed, ", ")).c_str());
  if (done.empty() && not_needed.empty() && failed.empty()) std::printf("No partitions needed a %s leader election\n", type.c_str());
  for (const std::string& f : failed) std::printf("Error completing leader election (%s) for partition %s\n", type.c_str(), f.c_str());
  return failed.empty() ? 0 : 1;
}

}  // namespace

int run_leader_election(const LeaderElectionArgs& args) {
  return run_tool(args.bootstrap, "kafka-leader-election", [&](client::Cluster& c) { return leader_election_main(c, args); });
}

int run_cluster_id(const std::string& bootstrap) {
  return run_tool(bootstrap, "kafka-cluster", [&](client::Cluster& c) {
    Result<client::ClusterDescription> d = client::Admin(c).describe_cluster();
    if (!d.ok()) return tool_error("cannot describe the cluster: " + std::string(errc_name(d.error())));
    std::printf("Cluster ID: %s\n", d->cluster_id.c_str());
    return 0;
  });
}

}  // namespace samsa::real
