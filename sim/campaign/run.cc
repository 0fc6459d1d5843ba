#include "sim/campaign/run.h"

#include <fmt/format.h>

#include <chrono>

#include "samsa_version.h"
#include "sim/scenarios/broker_scenario.h"
#include "sim/scenarios/cluster_scenario.h"
#include "sim/scenarios/demo_scenario.h"
#include "sim/scenarios/failover_scenario.h"
#include "sim/scenarios/group_scenario.h"
#include "sim/scenarios/raft_scenario.h"

namespace samsa::sim {

namespace {

// The raft scenario reports in its own terms; here they become the common verdict format.
RunResult run_raft(const RunOptions& o, uint64_t seed, LogLevel level) {
  RaftScenarioOptions ro;
  ro.seed = seed;
  ro.fault_time = std::chrono::milliseconds(o.fault_ms == 60'000 ? 30'000 : o.fault_ms);
  if (o.quiet_ms >= 0) ro.quiet_time = std::chrono::milliseconds(o.quiet_ms);
  ro.voters = o.voters;
  ro.writer_batch_records = o.raft_batch;
  ro.writer_pause_ms = o.raft_pause_ms;
  ro.log_level = level;
  ro.trace_sink = o.trace_sink;
  ro.replay_events = o.replay_events;
  for (const std::string& b : o.bugs) (void)ro.bugs.enable(b);
  if (o.schedule == "figure8") ro.schedule = RaftScenarioOptions::Schedule::figure8;
  if (o.schedule == "failover") ro.schedule = RaftScenarioOptions::Schedule::failover;
  const RaftScenarioResult rr = run_raft_scenario(ro);
  RunResult r;
  r.seed = rr.seed;
  r.scenario = "raft";
  r.trace_hash = rr.trace_hash;
  r.end_time = rr.end_time;
  r.steps = rr.steps;
  r.acked = rr.committed_records;
  r.faults = rr.faults;
  r.schedule = rr.schedule;
  r.settings = {fmt::format("voters={} schedule={}", rr.voters, o.schedule)};
  for (const RaftVerdict& v : rr.verdicts) {
    CheckResult c(v.name);
    c.unit = "changes";
    c.examined = v.examined;
    c.expect_examined = false;  // the quorum reports a vacuous property as such, not as a failure
    if (v.status == RaftVerdict::Status::fail) c.fail(v.detail);
    r.checks.push_back(std::move(c));
  }
  r.notes = rr.notes;
  r.buggify = rr.buggify;
  std::string failovers;
  for (int64_t ms : rr.failover_ms) failovers += (failovers.empty() ? "" : ",") + std::to_string(ms);
  if (!failovers.empty()) r.notes.push_back("failover ms (leader crash -> new leader): " + failovers);
  r.notes.push_back(fmt::format("committed {} batches, {} records ({:.0f} records/s simulated), highest epoch {}",
                                rr.committed_batches, rr.committed_records, rr.committed_records_per_s, rr.max_epoch));
  return r;
}

// A cluster's --bug names: the nodes' own code's (Kafka's historical bugs), or the controller's.
void split_cluster_bugs(const std::vector<std::string>& names, BugSet& node_bugs, controller::ControllerBugs& controller_bugs) {
  for (const std::string& b : names) {
    if (std::optional<Bug> bug = bug_by_name(b)) node_bugs.add(*bug);
    else (void)controller_bugs.enable(b);
  }
}

RunResult run_cluster(const RunOptions& o, uint64_t seed, LogLevel level) {
  ClusterScenarioOptions c;
  c.seed = seed;
  if (o.fault_ms != 60'000) c.fault_time = std::chrono::milliseconds(o.fault_ms);
  if (o.quiet_ms >= 0) c.quiet_time = std::chrono::milliseconds(o.quiet_ms);
  c.log_level = level;
  c.trace_sink = o.trace_sink;
  c.watch = o.watch;
  c.replay_events = o.replay_events;
  if (o.cluster_brokers > 0) c.topology = ClusterTopology{o.cluster_brokers, o.separate_controllers};
  c.schedule = cluster_schedule_by_name(o.schedule).value_or(ClusterSchedule::random);
  c.send_rate = o.send_rate;
  split_cluster_bugs(o.bugs, c.node_bugs, c.bugs);
  return run_cluster_scenario(c);
}

RunResult run_failover(const RunOptions& o, uint64_t seed, LogLevel level) {
  FailoverOptions f;
  f.seed = seed;
  f.rounds = o.rounds;
  f.kill = o.power_loss ? CrashKind::machine : CrashKind::process;
  f.log_level = level;
  f.trace_sink = o.trace_sink;
  split_cluster_bugs(o.bugs, f.node_bugs, f.bugs);
  return run_failover_scenario(f);
}

}  // namespace

RunResult run_one(const RunOptions& o, uint64_t seed, LogLevel level) {
  if (o.scenario == "raft") return run_raft(o, seed, level);
  if (o.scenario == "cluster") return run_cluster(o, seed, level);
  if (o.scenario == "failover") return run_failover(o, seed, level);
  BugSet bugs;
  for (const std::string& b : o.bugs) {
    if (o.scenario != "log-demo") bugs.add(*bug_by_name(b));
  }
  std::vector<Fault> faults;
  for (const std::string& f : o.faults) faults.push_back(*fault_by_name(f));
  const Duration fault = std::chrono::milliseconds(o.fault_ms);
  if (o.scenario == "groups") {
    GroupScenarioOptions g{seed, o.members, o.brokers, fault, std::chrono::seconds(30), level, bugs, faults};
    g.trace_sink = o.trace_sink;
    g.replay_events = o.replay_events;
    g.send_rate = o.send_rate;
    if (o.quiet_ms >= 0) g.quiet_time = std::chrono::milliseconds(o.quiet_ms);
    return run_group_scenario(g);
  }
  if (o.scenario == "log-demo") {
    DemoOptions d{seed, o.clients, fault, std::chrono::seconds(20), !o.bugs.empty(), level};
    d.trace_sink = o.trace_sink;
    if (o.quiet_ms >= 0) d.quiet_time = std::chrono::milliseconds(o.quiet_ms);
    return run_demo(d);
  }
  BrokerScenarioOptions b{seed, o.producers, fault, std::chrono::seconds(20), level, bugs, o.pins, faults};
  b.trace_sink = o.trace_sink;
  b.watch = o.watch;
  b.replay_events = o.replay_events;
  b.send_rate = o.send_rate;
  if (o.quiet_ms >= 0) b.quiet_time = std::chrono::milliseconds(o.quiet_ms);
  return run_broker_scenario(b);
}

bool takes_send_rate(const std::string& scenario) {
  return scenario == "cluster" || scenario == "broker" || scenario == "groups";
}

std::vector<std::pair<std::string, std::string>> option_flags(const RunOptions& o) {
  std::vector<std::pair<std::string, std::string>> f;
  auto add = [&f](std::string flag, std::string value = "") { f.emplace_back(std::move(flag), std::move(value)); };
  if (o.fault_ms != 60'000) add("--fault-ms", std::to_string(o.fault_ms));
  if (o.quiet_ms >= 0) add("--quiet-ms", std::to_string(o.quiet_ms));
  if (o.scenario == "broker" && o.producers != 2) add("--producers", std::to_string(o.producers));
  if (o.scenario == "groups" && o.members != 3) add("--members", std::to_string(o.members));
  if (o.scenario == "groups" && o.brokers != 0) add("--brokers", std::to_string(o.brokers));
  if (o.scenario == "log-demo" && o.clients != 2) add("--clients", std::to_string(o.clients));
  if (o.scenario == "raft" && o.voters != 0) add("--voters", std::to_string(o.voters));
  if (o.scenario == "cluster" && o.cluster_brokers != 0) add("--cluster-brokers", std::to_string(o.cluster_brokers));
  if (o.scenario == "cluster" && o.cluster_brokers != 0 && o.separate_controllers) add("--separate-controllers");
  if (o.scenario == "failover" && o.rounds != 5) add("--rounds", std::to_string(o.rounds));
  if (o.scenario == "failover" && o.power_loss) add("--power-loss");
  if ((o.scenario == "raft" || o.scenario == "cluster") && o.schedule != "random") add("--schedule", o.schedule);
  if (o.scenario == "raft" && o.raft_batch != 0) add("--raft-batch", std::to_string(o.raft_batch));
  if (o.scenario == "raft" && o.raft_pause_ms != -1) add("--raft-pause-ms", std::to_string(o.raft_pause_ms));
  if (takes_send_rate(o.scenario) && o.send_rate != 0) add("--send-rate", std::to_string(o.send_rate));
  for (const std::string& b : o.bugs) add("--bug", b);
  for (const std::string& p : o.pins) add("--pin", p);
  if (!o.faults.empty()) {
    std::string kinds;
    for (size_t i = 0; i < o.faults.size(); ++i) kinds += (i ? "," : "") + o.faults[i];
    add("--faults", kinds);
  }
  return f;
}

std::string replay_command(const RunOptions& o, uint64_t seed) {
  std::string cmd = fmt::format("samsa-sim --scenario {} --seed {}", o.scenario, seed);
  for (const auto& [flag, value] : option_flags(o)) cmd += " " + flag + (value.empty() ? "" : " " + value);
  return cmd + "   # commit " SAMSA_COMMIT;
}

const char* build_commit() { return SAMSA_COMMIT; }


std::string format_run(const RunOptions& o, const RunResult& r) {
  std::string out;
  out += fmt::format("seed {} (scenario {}, commit {})\n", r.seed, r.scenario, SAMSA_COMMIT);
  out += fmt::format("  simulated time: {:.3f} s, steps: {}, acknowledged: {}, records read at the end: {}\n",
              static_cast<double>(r.end_time.ns) / 1e9, r.steps,
              r.acked, r.records);
  for (const auto& s : r.settings) out += fmt::format("  setting: {}\n", s);
  std::string faults;
  for (const auto& f : r.faults) faults += (faults.empty() ? "" : ", ") + f;
  out += fmt::format("  faults: {}\n", faults);
  for (const auto& c : r.checks) out += fmt::format("  check {:<22} {}\n", c.name, c.summary());
  for (const auto& n : r.notes) out += fmt::format("  note: {}\n", n);
  uint64_t enabled = 0, fired = 0;
  for (const auto& [site, s] : r.buggify) {
    enabled += s.first ? 1 : 0;
    fired += s.second;
  }
  out += fmt::format("  buggify: {} sites reached, {} enabled, fired {} times\n", r.buggify.size(),
              enabled, fired);
  out += fmt::format("  trace hash: {:016x}\n", r.trace_hash);
  out += fmt::format("  verdict: {}\n", r.ok() ? "PASS" : "FAIL");
  if (!r.ok()) out += fmt::format("  replay: {}\n", replay_command(o, r.seed));
  return out;
}

}  // namespace samsa::sim
