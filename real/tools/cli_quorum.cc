// `samsa metadata-quorum (--bootstrap-controller | --bootstrap-server) HOST:PORT[,...] describe
// (--status | --replication)` — kafka-metadata-quorum.sh: the KRaft quorum's leader, epoch, high
// watermark and each voter's and observer's progress, through DescribeQuorum. Only the leader
// answers it; another node names the leader, which is then asked (through the broker listener
// found in Metadata for --bootstrap-server, or among the given controllers).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "client/cluster.h"
#include "raft/network_transport.h"
#include "real/backend/real_runtime.h"
#include "real/tools/cli.h"
#include "real/tools/cli_tool.h"

namespace samsa::real {
namespace {

constexpr Duration kDescribeTimeout = std::chrono::seconds(5);

// Asks each address in turn; the first full answer (from the leader) wins. *leader_hint is the
// leader another node named.
Result<raft::DescribeQuorumResponse> ask(Runtime& rt, const std::vector<Address>& addresses, int32_t* leader_hint) {
  std::map<int32_t, Address> targets;
  for (size_t i = 0; i < addresses.size(); ++i) targets[static_cast<int32_t>(i)] = addresses[i];
  raft::NetworkTransport transport(rt, targets, "samsa-metadata-quorum");
  Errc last = Errc::unavailable;
  for (const auto& [i, address] : targets) {
    Result<raft::DescribeQuorumResponse> r = transport.describe_quorum(i, rt.after(kDescribeTimeout));
    if (!r.ok()) {
      last = r.error();
      continue;
    }
    if (r->error_code == 0) return r;
    if (r->leader_id != raft::kNoNode) *leader_hint = r->leader_id;
  }
  return last;
}

// The leader's log end, from which each replica's lag is counted.
int64_t leader_end_offset(const raft::DescribeQuorumResponse& q) {
  for (const raft::ReplicaInfo& v : q.current_voters) {
    if (v.replica_id == q.leader_id) return v.log_end_offset;
  }
  return q.high_watermark;
}

void print_status(const raft::DescribeQuorumResponse& q, int64_t now_ms) {
  int64_t lag_max = 0, lag_time_max_ms = 0;
  const int64_t leader_end = leader_end_offset(q);
  std::string voters, observers;
  for (const raft::ReplicaInfo& v : q.current_voters) {
    voters += (voters.empty() ? "" : ",") + std::to_string(v.replica_id);
    if (v.replica_id == q.leader_id) continue;
    lag_max = std::max(lag_max, leader_end - std::max<int64_t>(v.log_end_offset, 0));
    if (v.last_caught_up_timestamp >= 0) lag_time_max_ms = std::max(lag_time_max_ms, now_ms - v.last_caught_up_timestamp);
  }
  for (const raft::ReplicaInfo& o : q.observers) observers += (observers.empty() ? "" : ",") + std::to_string(o.replica_id);
  std::printf("LeaderId:               %d\n", q.leader_id);
  std::printf("LeaderEpoch:            %d\n", q.leader_epoch);
  std::printf("HighWatermark:          %lld\n", static_cast<long long>(q.high_watermark));
  std::printf("MaxFollowerLag:         %lld\n", static_cast<long long>(lag_max));
  std::printf("MaxFollowerLagTimeMs:   %lld\n", static_cast<long long>(lag_time_max_ms));
  std::printf("CurrentVoters:          [%s]\n", voters.c_str());
  std::printf("CurrentObservers:       [%s]\n", observers.c_str());
}

void print_replication(const raft::DescribeQuorumResponse& q) {
  const int64_t leader_end = leader_end_offset(q);
  std::printf("%-8s %-14s %-8s %-20s %-23s %s\n", "NodeId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp",
              "Status");
  auto row = [&](const raft::ReplicaInfo& r, const char* status) {
    std::printf("%-8d %-14lld %-8lld %-20lld %-23lld %s\n", r.replica_id, static_cast<long long>(r.log_end_offset),
                static_cast<long long>(std::max<int64_t>(0, leader_end - std::max<int64_t>(r.log_end_offset, 0))),
                static_cast<long long>(r.last_fetch_timestamp), static_cast<long long>(r.last_caught_up_timestamp), status);
  };
  for (const raft::ReplicaInfo& v : q.current_voters) row(v, v.replica_id == q.leader_id ? "Leader" : "Follower");
  for (const raft::ReplicaInfo& o : q.observers) row(o, "Observer");
}

// With --bootstrap-server: the named leader's broker address, from Metadata.
Result<Address> broker_address(Runtime& rt, const std::vector<Address>& bootstrap, int32_t node_id) {
  client::Cluster cluster(rt, client::ClientConfig{bootstrap, "samsa-metadata-quorum"});
  kafka::MetadataResponse m;
  SAMSA_TRY_ASSIGN(m, cluster.metadata(std::vector<std::string>{}, false));
  for (const auto& b : m.brokers) {
    if (b.node_id == node_id) return Address{b.host, static_cast<uint16_t>(b.port)};
  }
  return Errc::not_found;
}

}  // namespace

int run_metadata_quorum(const QuorumArgs& args) {
  const bool controllers = !args.bootstrap_controller.empty();
  if (controllers == !args.bootstrap_server.empty()) {
    std::fprintf(stderr, "Error: give exactly one of --bootstrap-server and --bootstrap-controller\n");
    return 2;
  }
  Result<std::vector<Address>> addresses = client::parse_bootstrap(controllers ? args.bootstrap_controller : args.bootstrap_server);
  if (!addresses.ok()) {
    std::fprintf(stderr, "Error: bad address list\n");
    return 2;
  }
  int rc = 0;
  RealOptions options;
  options.log_level = LogLevel::warn;
  run_real(options, [&](Runtime& rt) {
    int32_t leader = raft::kNoNode;
    Result<raft::DescribeQuorumResponse> q = ask(rt, *addresses, &leader);
    if (!q.ok() && !controllers && leader != raft::kNoNode) {
      Result<Address> a = broker_address(rt, *addresses, leader);
      if (a.ok()) q = ask(rt, {*a}, &leader);
    }
    if (!q.ok()) {
      rc = tool_error(leader == raft::kNoNode ? std::string("no leader of the metadata quorum answered: ") + errc_name(q.error())
                                              : fmt::format("the leader (node {}) did not answer: {}", leader, errc_name(q.error())));
      return;
    }
    if (args.replication) print_replication(*q);
    else print_status(*q, rt.wall_clock_ms());
  });
  std::fflush(stdout);
  return rc;
}

}  // namespace samsa::real
