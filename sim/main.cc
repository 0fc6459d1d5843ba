// samsa-sim: runs the demo scenario in the deterministic simulator and prints, for each seed,
// the verdict of every property, the trace hash and, on failure, the command that replays it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <cstdlib>

#include "sim/broker_scenario.h"
#include "sim/group_scenario.h"
#include "sim/demo_scenario.h"
#include "sim/scenarios/raft_scenario.h"

int main(int argc, char** argv) {
  using namespace samsa;
  CLI::App app{"samsa-sim: a samsa cluster and its clients in deterministic simulation"};
  sim::DemoOptions options;
  uint64_t seeds = 1;
  int64_t fault_ms = 60'000, quiet_ms = 20'000;
  std::string bug;
  bool verbose = false;
  std::string scenario = "broker";
  int producers = 2;
  app.add_option("--scenario", scenario,
                 "broker (producers and a consumer), groups (consumer groups), raft (the metadata quorum), or log-demo (framed appends)")
      ->check(CLI::IsMember({"broker", "groups", "raft", "log-demo"}));
  int voters = 0, raft_batch = 0, raft_pause_ms = -1;
  std::string raft_schedule = "random";
  app.add_option("--schedule", raft_schedule,
                 "raft scenario: random (the seeded nemesis), figure8 (a scripted schedule) or failover (crash the leader every 8 s)")
      ->check(CLI::IsMember({"random", "figure8", "failover"}));
  app.add_option("--voters", voters, "raft scenario: voters (0: the seed picks 3 or 5)")->check(CLI::Range(0, 9));
  app.add_option("--raft-batch", raft_batch, "raft scenario: records per append (0: 1-3)")->check(CLI::Range(0, 10000));
  app.add_option("--raft-pause-ms", raft_pause_ms, "raft scenario: pause between appends (-1: 2-30 ms)")->check(CLI::Range(-1, 10000));
  app.add_option("--producers", producers, "producer nodes (broker scenario)")->check(CLI::Range(1, 16));
  app.add_option("--seed", options.seed, "seed of the run (decides every fault and interleaving)");
  app.add_option("--seeds", seeds, "run this many consecutive seeds starting at --seed")->check(CLI::Range(1, 1'000'000));
  app.add_option("--clients", options.clients, "client nodes")->check(CLI::Range(1, 16));
  auto* fault_opt = app.add_option("--fault-ms", fault_ms, "simulated milliseconds of faults")->check(CLI::Range(0, 3'600'000));
  auto* quiet_opt = app.add_option("--quiet-ms", quiet_ms, "simulated milliseconds after healing")->check(CLI::Range(1'000, 3'600'000));
  app.add_option("--bug", bug, "inject a known bug to see the checkers catch it")
      ->check(CLI::IsMember({"ack-before-sync", "vote-twice", "stale-vote", "commit-old-epoch", "ack-before-fsync",
                             "volatile-quorum-state", "follower-hw-regress"}));
  app.add_flag("-v,--verbose", verbose, "log what the nodes do");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return e.get_exit_code() == 0 ? 0 : (rc == 0 ? 0 : 2);
  }
  options.fault_time = std::chrono::milliseconds(fault_ms);
  options.quiet_time = std::chrono::milliseconds(quiet_ms);
  options.bug_ack_before_sync = bug == "ack-before-sync";
  raft::RaftBugs raft_bugs;
  if (!bug.empty() && bug != "ack-before-sync") {
    if (scenario != "raft") {
      std::fprintf(stderr, "samsa-sim: --bug %s applies to --scenario raft\n", bug.c_str());
      return 2;
    }
    raft_bugs.enable(bug);
  }
  if (options.bug_ack_before_sync && scenario != "log-demo") {
    std::fprintf(stderr, "samsa-sim: --bug ack-before-sync applies to --scenario log-demo\n");
    return 2;
  }
  options.log_level = verbose ? (std::getenv("SAMSA_DEBUG") ? LogLevel::debug : LogLevel::info) : LogLevel::off;

  int failures = 0;
  const uint64_t first = options.seed;
  for (uint64_t s = first; s < first + seeds; ++s) {
    options.seed = s;
    if (scenario == "raft") {
      sim::RaftScenarioOptions ro;
      ro.seed = s;
      ro.voters = voters;
      ro.fault_time = std::chrono::milliseconds(fault_opt->count() > 0 ? fault_ms : 30'000);
      ro.quiet_time = std::chrono::milliseconds(quiet_opt->count() > 0 ? quiet_ms : 20'000);
      ro.faults = ro.fault_time.count() > 0;
      ro.writer_batch_records = raft_batch;
      ro.writer_pause_ms = raft_pause_ms;
      ro.bugs = raft_bugs;
      if (raft_schedule == "figure8") ro.schedule = sim::RaftScenarioOptions::Schedule::figure8;
      if (raft_schedule == "failover") ro.schedule = sim::RaftScenarioOptions::Schedule::failover;
      ro.log_level = options.log_level;
      const sim::RaftScenarioResult rr = sim::run_raft_scenario(ro);
      sim::print_raft_result(rr);
      if (!rr.ok()) {
        ++failures;
        std::string replay = fmt::format("samsa-sim --scenario raft --seed {}", s);
        if (fault_opt->count() > 0) replay += fmt::format(" --fault-ms {}", fault_ms);
        if (quiet_opt->count() > 0) replay += fmt::format(" --quiet-ms {}", quiet_ms);
        if (voters != 0) replay += fmt::format(" --voters {}", voters);
        if (!bug.empty()) replay += " --bug " + bug;
        if (raft_schedule != "random") replay += " --schedule " + raft_schedule;
        std::printf("  replay: %s\n", replay.c_str());
      }
      std::fflush(stdout);
      continue;
    }
    sim::DemoResult r;
    if (scenario == "broker") {
      sim::BrokerScenarioOptions bo;
      bo.seed = s;
      bo.producers = producers;
      bo.fault_time = options.fault_time;
      bo.quiet_time = options.quiet_time;
      bo.log_level = options.log_level;
      r = sim::run_broker_scenario(bo);
    } else if (scenario == "groups") {
      sim::GroupScenarioOptions go;
      go.seed = s;
      go.fault_time = options.fault_time;
      go.quiet_time = options.quiet_time;
      go.log_level = options.log_level;
      r = sim::run_group_scenario(go);
    } else {
      r = sim::run_demo(options);
    }
    std::printf("seed %llu\n", static_cast<unsigned long long>(s));
    std::printf("  simulated time: %.3f s, steps: %llu, acknowledged: %llu, records in log: %llu\n",
                static_cast<double>(r.end_time.ns) / 1e9, static_cast<unsigned long long>(r.steps),
                static_cast<unsigned long long>(r.acked), static_cast<unsigned long long>(r.records));
    const std::string faults = fmt::format("{}", fmt::join(r.faults, ", "));
    std::printf("  faults: %s\n", faults.c_str());
    for (const auto& c : r.checks) {
      std::printf("  property %-22s %s  %s\n", c.name.c_str(), c.ok ? "ok  " : "FAIL", c.detail.c_str());
    }
    for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
    std::printf("  trace hash: %016llx\n", static_cast<unsigned long long>(r.trace_hash));
    std::printf("  verdict: %s\n", r.ok() ? "PASS" : "FAIL");
    if (!r.ok()) {
      ++failures;
      std::string replay = sim::replay_command(options);
      if (scenario != "broker") replay += " --scenario " + scenario;
      if (producers != 2) replay += " --producers " + std::to_string(producers);
      std::printf("  replay: %s\n", replay.c_str());
    }
    std::fflush(stdout);
  }
  if (seeds > 1) std::printf("%llu seeds, %d failed\n", static_cast<unsigned long long>(seeds), failures);
  return failures == 0 ? 0 : 1;
}
