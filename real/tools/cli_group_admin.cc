// `samsa consumer-groups --delete | --delete-offsets | --reset-offsets`, as kafka-consumer-groups.sh:
// DeleteGroups, OffsetDelete, and new committed offsets for an inactive group (--to-earliest,
// --to-latest, --to-offset, --shift-by, --to-datetime; printed with --dry-run, the default,
// committed with --execute).
#include <cstdio>
#include <ctime>
#include <string>

#include "client/admin.h"
#include "client/consumer.h"
#include "real/tools/cli.h"
#include "real/tools/cli_tool.h"

namespace samsa::real {

namespace {

using client::PartitionResult;

// "T" (every partition) or "T:0,2" -> partitions.
Result<std::vector<PartitionResult>> parse_topics(client::Cluster& cluster, const std::vector<std::string>& specs) {
  std::vector<PartitionResult> out;
  for (const std::string& spec : specs) {
    const size_t colon = spec.find(':');
    const std::string topic = spec.substr(0, colon);
    if (colon == std::string::npos) {
      int32_t n = 0;
      SAMSA_TRY_ASSIGN(n, cluster.partition_count(topic));
      for (int32_t p = 0; p < n; ++p) out.push_back({.topic = topic, .partition = p});
      continue;
    }
    size_t at = colon + 1;
    while (at < spec.size()) {
      size_t comma = spec.find(',', at);
      if (comma == std::string::npos) comma = spec.size();
      try {
        out.push_back({.topic = topic, .partition = std::stoi(spec.substr(at, comma - at))});
      } catch (...) {
        return Errc::invalid_argument;
      }
      at = comma + 1;
    }
  }
  return out;
}

// 'YYYY-MM-DDTHH:mm:SS[.sss]' (UTC, as an optional trailing Z says) -> epoch milliseconds.
std::optional<int64_t> parse_datetime(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  char tail[8] = {};
  const int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%7s", &y, &mo, &d, &h, &mi, &sec, &ms, tail);
  if (n < 6 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = sec;
  return static_cast<int64_t>(timegm(&t)) * 1000 + (n >= 7 ? ms : 0);
}

int delete_groups(client::Admin& admin, const GroupsArgs& a) {
  Result<std::vector<std::pair<std::string, kafka::Error>>> r = admin.delete_groups(a.groups);
  if (!r.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(r.error())));
  std::string ok, failed;
  for (const auto& [g, e] : *r) {
    if (e == kafka::Error::none) ok += (ok.empty() ? "'" : ", '") + g + "'";
    else failed += "* Group '" + g + "' could not be deleted due to: " + kafka::error_name(e) + "\n";
  }
  if (!ok.empty()) std::printf("Deletion of requested consumer groups (%s) was successful.\n", ok.c_str());
  if (failed.empty()) return 0;
  std::fprintf(stderr, "Error: Deletion of some consumer groups failed:\n%s", failed.c_str());
  return 1;
}

int delete_offsets(client::Cluster& cluster, client::Admin& admin, const GroupsArgs& a) {
  Result<std::vector<PartitionResult>> parts = parse_topics(cluster, a.topics);
  if (!parts.ok() || parts->empty()) return tool_error("--delete-offsets needs --topic T or T:P,P of existing topics");
  kafka::Error group_error = kafka::Error::none;
  Result<std::vector<PartitionResult>> r = admin.delete_offsets(a.groups.front(), *parts, &group_error);
  if (!r.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(r.error())));
  if (group_error != kafka::Error::none) return tool_error(std::string("Encounter some unknown error: ") + kafka::error_name(group_error));
  std::printf("\n%-30s %-10s %s\n", "TOPIC", "PARTITION", "STATUS");
  int rc = 0;
  for (const auto& p : *r) {
    const bool ok = p.error == kafka::Error::none;
    std::printf("%-30s %-10d %s\n", p.topic.c_str(), p.partition, ok ? "Successful" : kafka::error_name(p.error));
    if (!ok) rc = 1;
  }
  return rc;
}

// The new offset of each partition under the one --to-* or --shift-by option given.
Result<std::vector<PartitionResult>> plan_reset(client::Cluster& cluster, client::Admin& admin, const GroupsArgs& a) {
  std::vector<PartitionResult> parts;
  Result<std::vector<PartitionResult>> committed = admin.committed_offsets(a.groups.front());
  if (!committed.ok()) return committed.status();
  if (a.all_topics) {
    parts = *committed;
  } else {
    SAMSA_TRY_ASSIGN(parts, parse_topics(cluster, a.topics));
  }
  client::Consumer probe(cluster, client::ConsumerConfig{});
  const std::optional<int64_t> at = a.to_datetime.empty() ? std::nullopt : parse_datetime(a.to_datetime);
  if (!a.to_datetime.empty() && !at) return Errc::invalid_argument;
  for (PartitionResult& p : parts) {
    const client::TopicPartition tp{p.topic, p.partition};
    int64_t earliest = 0, latest = 0;
    SAMSA_TRY_ASSIGN(earliest, probe.list_offset(tp, client::Consumer::kEarliest));
    SAMSA_TRY_ASSIGN(latest, probe.list_offset(tp, client::Consumer::kLatest));
    int64_t current = earliest;
    for (const auto& c : *committed) {
      if (c.topic == p.topic && c.partition == p.partition && c.offset >= 0) current = c.offset;
    }
    int64_t target = current;
    if (a.to_earliest) target = earliest;
    else if (a.to_latest) target = latest;
    else if (a.to_offset) target = *a.to_offset;
    else if (a.shift_by) target = current + *a.shift_by;
    else if (at) {
      SAMSA_TRY_ASSIGN(target, probe.list_offset(tp, *at));
    }
    if (at && target < 0) target = latest;  // nothing that late: the end
    p.offset = std::clamp(target, earliest, latest);
  }
  return parts;
}

int reset_offsets(client::Cluster& cluster, client::Admin& admin, const GroupsArgs& a) {
  const int modes = int{a.to_earliest} + int{a.to_latest} + int{a.to_offset.has_value()} + int{a.shift_by.has_value()} +
                    int{!a.to_datetime.empty()};
  if (modes != 1 || (a.all_topics == !a.topics.empty()) || (a.execute && a.dry_run)) {
    std::fprintf(stderr, "--reset-offsets takes one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime; "
                         "--topic or --all-topics; and --execute or --dry-run\n");
    return 2;
  }
  const std::string& group = a.groups.front();
  Result<std::string> state = admin.group_state(group);
  if (!state.ok()) return tool_error("cannot reach the broker: " + std::string(errc_name(state.error())));
  if (*state != "Empty" && *state != "Dead") {
    return tool_error("Assignments can only be reset if the group '" + group + "' is inactive, but the current state is " + *state + ".");
  }
  Result<std::vector<PartitionResult>> plan = plan_reset(cluster, admin, a);
  if (!plan.ok()) return tool_error(std::string("cannot compute the new offsets: ") + errc_name(plan.error()));
  if (!a.execute && !a.dry_run) std::printf("WARN: No action will be performed as the --execute option is missing. Dry run.\n");
  std::printf("\n%-30s %-30s %-10s %s\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
  for (const auto& p : *plan) {
    std::printf("%-30s %-30s %-10d %lld\n", group.c_str(), p.topic.c_str(), p.partition, static_cast<long long>(p.offset));
  }
  if (!a.execute) return 0;
  Result<std::vector<PartitionResult>> done = admin.commit_offsets(group, *plan);
  if (!done.ok()) return tool_error(std::string("cannot commit the new offsets: ") + errc_name(done.error()));
  for (const auto& p : *done) {
    if (p.error != kafka::Error::none) return tool_error(p.topic + "-" + std::to_string(p.partition) + ": " + kafka::error_name(p.error));
  }
  return 0;
}

}  // namespace

int group_admin_main(client::Cluster& cluster, const GroupsArgs& a) {
  if (a.groups.empty()) {
    std::fprintf(stderr, "Option [group] is required\n");
    return 2;
  }
  client::Admin admin(cluster);
  if (a.del) return delete_groups(admin, a);
  if (a.delete_offsets) return delete_offsets(cluster, admin, a);
  return reset_offsets(cluster, admin, a);
}

}  // namespace samsa::real
