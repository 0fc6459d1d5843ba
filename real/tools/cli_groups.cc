// `samsa consumer-groups`: kafka-consumer-groups.sh's --list and --describe (the other actions are in
// cli_group_admin.cc).
#include <cstdio>
#include <map>
#include <set>

#include "client/cluster.h"
#include "client/consumer.h"
#include "protocol/errors.h"
#include "protocol/group_messages.h"
#include "real/tools/cli.h"
#include "real/tools/cli_tool.h"

namespace samsa::real {

namespace {

using namespace samsa::kafka;

constexpr int kListAttemptsMax = 40;  // 10 s of COORDINATOR_LOAD_IN_PROGRESS at most

int groups_main(client::Cluster& cluster, const GroupsArgs& a) {
  if (int{a.list} + int{a.describe} + int{a.del} + int{a.delete_offsets} + int{a.reset_offsets} != 1) {
    std::fprintf(stderr, "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets\n");
    return 2;
  }
  if (a.del || a.delete_offsets || a.reset_offsets) return group_admin_main(cluster, a);
  const std::string group = a.groups.empty() ? std::string() : a.groups.front();
  if (a.describe && group.empty()) {
    std::fprintf(stderr, "Option [describe] takes option [group]\n");
    return 2;
  }
  // --list asks every broker (each lists the groups it coordinates); --describe the group's
  // coordinator, as kafka-consumer-groups.sh does.
  Result<client::Connection*> c = a.list ? cluster.any() : cluster.coordinator(group);
  if (!c.ok()) {
    std::fprintf(stderr, "Error: cannot reach %s: %s\n", a.bootstrap.c_str(), errc_name(c.error()));
    return 1;
  }
  const Deadline deadline = cluster.request_deadline();
  if (a.list) {
    Result<std::vector<int32_t>> ids = cluster.broker_ids();
    if (!ids.ok()) return 1;
    std::set<std::string> groups;
    for (int32_t id : *ids) {
      Result<client::Connection*> b = cluster.node(id);
      if (!b.ok()) return 1;
      ListGroupsRequest req;
      const int16_t lv = (*b)->version(ApiKey::list_groups, 4).value_or(0);
      Result<ListGroupsResponse> resp = Errc::unavailable;
      // A broker still loading its part of __consumer_offsets answers COORDINATOR_LOAD_IN_PROGRESS
      // (one that has not caught up, COORDINATOR_NOT_AVAILABLE): asked again, as Kafka's admin does.
      for (int attempt = 0; attempt < kListAttemptsMax; ++attempt) {
        resp = (*b)->call<ListGroupsRequest, ListGroupsResponse>(ApiKey::list_groups, lv, req, deadline);
        if (!resp.ok()) return 1;
        const auto e = static_cast<kafka::Error>(resp->error_code);
        if (e != kafka::Error::coordinator_load_in_progress && e != kafka::Error::coordinator_not_available) break;
        (void)cluster.rt().sleep(std::chrono::milliseconds(250));
      }
      if (resp->error_code != 0) {
        std::fprintf(stderr, "Error: broker %d: %s\n", id, kafka::error_name(static_cast<kafka::Error>(resp->error_code)));
        return 1;
      }
      for (const auto& g : resp->groups) groups.insert(g.group_id);
    }
    for (const std::string& g : groups) std::printf("%s\n", g.c_str());
    return 0;
  }
  DescribeGroupsRequest dreq;
  dreq.groups = {group};
  Result<DescribeGroupsResponse> desc = (*c)->call<DescribeGroupsRequest, DescribeGroupsResponse>(ApiKey::describe_groups, (*c)->version(ApiKey::describe_groups, 5).value_or(0), dreq, deadline);
  OffsetFetchRequest oreq;
  oreq.group_id = group;  // null topics: every committed partition
  Result<OffsetFetchResponse> offs = (*c)->call<OffsetFetchRequest, OffsetFetchResponse>(ApiKey::offset_fetch, (*c)->version(ApiKey::offset_fetch, 7).value_or(2), oreq, deadline);
  if (!desc.ok() || !offs.ok() || desc->groups.empty()) return 1;
  const auto& g = desc->groups.front();
  if (g.group_state == "Dead" && offs->topics.empty()) {
    std::fprintf(stderr, "Error: Consumer group '%s' does not exist.\n", group.c_str());
    return 1;
  }
  // Who owns what, from the members' assignments.
  std::map<std::pair<std::string, int32_t>, const DescribeGroupsResponse::Member*> owner;
  std::map<std::pair<std::string, int32_t>, int64_t> committed;
  for (const auto& m : g.members) {
    Result<ConsumerAssignment> asg = decode_prefix<ConsumerAssignment>(m.member_assignment);
    if (!asg.ok()) continue;
    for (const auto& t : asg->assigned) {
      for (int32_t p : t.partitions) owner[{t.topic, p}] = &m;
    }
  }
  for (const auto& t : offs->topics) {
    for (const auto& p : t.partitions) committed[{t.name, p.partition_index}] = p.committed_offset;
  }
  for (const auto& [tp, m] : owner) committed.try_emplace(tp, -1);
  if (g.members.empty()) std::printf("\nConsumer group '%s' has no active members.\n", group.c_str());
  std::printf("\n%-20s %-20s %-10s %-15s %-15s %-8s %-40s %-16s %s\n", "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
              "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");
  client::Consumer probe(cluster, client::ConsumerConfig{});
  for (const auto& [tp, offset] : committed) {
    Result<int64_t> end = probe.list_offset({tp.first, tp.second}, client::Consumer::kLatest);
    const std::string current = offset >= 0 ? std::to_string(offset) : "-";
    const std::string log_end = end.ok() ? std::to_string(*end) : "-";
    const std::string lag = offset >= 0 && end.ok() ? std::to_string(*end - offset) : "-";
    auto o = owner.find(tp);
    const std::string id = o != owner.end() ? o->second->member_id : "-";
    const std::string host = o != owner.end() ? "/" + o->second->client_host : "-";
    const std::string client = o != owner.end() ? o->second->client_id : "-";
    std::printf("%-20s %-20s %-10d %-15s %-15s %-8s %-40s %-16s %s\n", group.c_str(), tp.first.c_str(), tp.second,
                current.c_str(), log_end.c_str(), lag.c_str(), id.c_str(), host.c_str(), client.c_str());
  }
  return 0;
}

}  // namespace

int run_consumer_groups(const GroupsArgs& args) {
  return run_tool(args.bootstrap, "consumer-groups", [&](client::Cluster& c) { return groups_main(c, args); });
}

}  // namespace samsa::real
