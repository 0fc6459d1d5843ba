// samsa-sim: runs a scenario in the deterministic simulator and prints, for each seed, the
// verdict of every check with the number of operations it examined, the trace hash and, on
// failure, the command that replays it (with the commit it was built from). Over many seeds it
// ends with a summary per check and per buggify site, and the simulation speed.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "runtime/buggify_sites.h"
#include "samsa_version.h"
#include "sim/scenarios/broker_scenario.h"
#include "sim/scenarios/cluster_scenario.h"
#include "sim/scenarios/demo_scenario.h"
#include "sim/scenarios/failover_scenario.h"
#include "sim/scenarios/group_scenario.h"
#include "sim/scenarios/planted_bugs.h"
#include "sim/scenarios/raft_scenario.h"

namespace {

using namespace samsa;

struct Options {
  std::string scenario = "broker";
  uint64_t seed = 1;
  uint64_t seeds = 1;
  int producers = 2;
  int clients = 2;
  int members = 3;
  int brokers = 0;  // groups scenario: 0 single broker, 3 a KRaft cluster
  int64_t fault_ms = 60'000;
  int64_t quiet_ms = -1;  // scenario default
  int voters = 0, raft_batch = 0, raft_pause_ms = -1;  // raft scenario
  int rounds = 5;                                       // failover scenario
  bool power_loss = false;                              // failover scenario
  std::string schedule = "random";
  std::vector<std::string> bugs;
  std::vector<std::string> pins;
  std::vector<std::string> faults;
  bool verbose = false;
  bool brief = false;
};

// The raft scenario reports in its own terms; here they become the common verdict format.
sim::RunResult run_raft(const Options& o, uint64_t seed, LogLevel level) {
  sim::RaftScenarioOptions ro;
  ro.seed = seed;
  ro.fault_time = std::chrono::milliseconds(o.fault_ms == 60'000 ? 30'000 : o.fault_ms);
  if (o.quiet_ms >= 0) ro.quiet_time = std::chrono::milliseconds(o.quiet_ms);
  ro.voters = o.voters;
  ro.writer_batch_records = o.raft_batch;
  ro.writer_pause_ms = o.raft_pause_ms;
  ro.log_level = level;
  for (const std::string& b : o.bugs) (void)ro.bugs.enable(b);
  if (o.schedule == "figure8") ro.schedule = sim::RaftScenarioOptions::Schedule::figure8;
  if (o.schedule == "failover") ro.schedule = sim::RaftScenarioOptions::Schedule::failover;
  const sim::RaftScenarioResult rr = sim::run_raft_scenario(ro);
  sim::RunResult r;
  r.seed = rr.seed;
  r.scenario = "raft";
  r.trace_hash = rr.trace_hash;
  r.end_time = rr.end_time;
  r.steps = rr.steps;
  r.acked = rr.committed_records;
  r.faults = rr.faults;
  r.settings = {fmt::format("voters={} schedule={}", rr.voters, o.schedule)};
  for (const sim::RaftVerdict& v : rr.verdicts) {
    sim::CheckResult c(v.name);
    c.unit = "changes";
    c.examined = v.examined;
    c.expect_examined = false;  // the quorum reports a vacuous property as such, not as a failure
    if (v.status == sim::RaftVerdict::Status::fail) c.fail(v.detail);
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

sim::RunResult run_cluster(const Options& o, uint64_t seed, LogLevel level) {
  sim::ClusterScenarioOptions c;
  c.seed = seed;
  if (o.fault_ms != 60'000) c.fault_time = std::chrono::milliseconds(o.fault_ms);
  if (o.quiet_ms >= 0) c.quiet_time = std::chrono::milliseconds(o.quiet_ms);
  c.log_level = level;
  c.schedule = sim::cluster_schedule_by_name(o.schedule).value_or(sim::ClusterSchedule::random);
  split_cluster_bugs(o.bugs, c.node_bugs, c.bugs);
  return sim::run_cluster_scenario(c);
}

sim::RunResult run_failover(const Options& o, uint64_t seed, LogLevel level) {
  sim::FailoverOptions f;
  f.seed = seed;
  f.rounds = o.rounds;
  f.kill = o.power_loss ? sim::CrashKind::machine : sim::CrashKind::process;
  f.log_level = level;
  split_cluster_bugs(o.bugs, f.node_bugs, f.bugs);
  return sim::run_failover_scenario(f);
}

sim::RunResult run_one(const Options& o, uint64_t seed, LogLevel level) {
  if (o.scenario == "raft") return run_raft(o, seed, level);
  if (o.scenario == "cluster") return run_cluster(o, seed, level);
  if (o.scenario == "failover") return run_failover(o, seed, level);
  BugSet bugs;
  for (const std::string& b : o.bugs) {
    if (o.scenario != "log-demo") bugs.add(*bug_by_name(b));
  }
  std::vector<sim::Fault> faults;
  for (const std::string& f : o.faults) faults.push_back(*sim::fault_by_name(f));
  const Duration fault = std::chrono::milliseconds(o.fault_ms);
  if (o.scenario == "groups") {
    sim::GroupScenarioOptions g{seed, o.members, o.brokers, fault, std::chrono::seconds(30), level, bugs, faults};
    if (o.quiet_ms >= 0) g.quiet_time = std::chrono::milliseconds(o.quiet_ms);
    return sim::run_group_scenario(g);
  }
  if (o.scenario == "log-demo") {
    sim::DemoOptions d{seed, o.clients, fault, std::chrono::seconds(20), !o.bugs.empty(), level};
    if (o.quiet_ms >= 0) d.quiet_time = std::chrono::milliseconds(o.quiet_ms);
    return sim::run_demo(d);
  }
  sim::BrokerScenarioOptions b{seed, o.producers, fault, std::chrono::seconds(20), level, bugs, o.pins, faults};
  if (o.quiet_ms >= 0) b.quiet_time = std::chrono::milliseconds(o.quiet_ms);
  return sim::run_broker_scenario(b);
}

std::string replay_command(const Options& o, uint64_t seed) {
  std::string cmd = fmt::format("samsa-sim --scenario {} --seed {}", o.scenario, seed);
  if (o.fault_ms != 60'000) cmd += fmt::format(" --fault-ms {}", o.fault_ms);
  if (o.quiet_ms >= 0) cmd += fmt::format(" --quiet-ms {}", o.quiet_ms);
  if (o.scenario == "broker" && o.producers != 2) cmd += fmt::format(" --producers {}", o.producers);
  if (o.scenario == "groups" && o.members != 3) cmd += fmt::format(" --members {}", o.members);
  if (o.scenario == "groups" && o.brokers != 0) cmd += fmt::format(" --brokers {}", o.brokers);
  if (o.scenario == "log-demo" && o.clients != 2) cmd += fmt::format(" --clients {}", o.clients);
  if (o.scenario == "raft" && o.voters != 0) cmd += fmt::format(" --voters {}", o.voters);
  if (o.scenario == "failover" && o.rounds != 5) cmd += fmt::format(" --rounds {}", o.rounds);
  if (o.scenario == "failover" && o.power_loss) cmd += " --power-loss";
  if ((o.scenario == "raft" || o.scenario == "cluster") && o.schedule != "random") cmd += " --schedule " + o.schedule;
  if (o.scenario == "raft" && o.raft_batch != 0) cmd += fmt::format(" --raft-batch {}", o.raft_batch);
  if (o.scenario == "raft" && o.raft_pause_ms != -1) cmd += fmt::format(" --raft-pause-ms {}", o.raft_pause_ms);
  for (const std::string& b : o.bugs) cmd += " --bug " + b;
  for (const std::string& p : o.pins) cmd += " --pin " + p;
  if (!o.faults.empty()) {
    cmd += " --faults ";
    for (size_t i = 0; i < o.faults.size(); ++i) cmd += (i ? "," : "") + o.faults[i];
  }
  return cmd + "   # commit " SAMSA_COMMIT;
}

void print_run(const Options& o, const sim::RunResult& r) {
  std::printf("seed %llu (scenario %s, commit %s)\n", static_cast<unsigned long long>(r.seed), r.scenario.c_str(), SAMSA_COMMIT);
  std::printf("  simulated time: %.3f s, steps: %llu, acknowledged: %llu, records read at the end: %llu\n",
              static_cast<double>(r.end_time.ns) / 1e9, static_cast<unsigned long long>(r.steps),
              static_cast<unsigned long long>(r.acked), static_cast<unsigned long long>(r.records));
  for (const auto& s : r.settings) std::printf("  setting: %s\n", s.c_str());
  std::string faults;
  for (const auto& f : r.faults) faults += (faults.empty() ? "" : ", ") + f;
  std::printf("  faults: %s\n", faults.c_str());
  for (const auto& c : r.checks) std::printf("  check %-22s %s\n", c.name.c_str(), c.summary().c_str());
  for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
  uint64_t enabled = 0, fired = 0;
  for (const auto& [site, s] : r.buggify) {
    enabled += s.first ? 1 : 0;
    fired += s.second;
  }
  std::printf("  buggify: %llu sites reached, %llu enabled, fired %llu times\n", static_cast<unsigned long long>(r.buggify.size()),
              static_cast<unsigned long long>(enabled), static_cast<unsigned long long>(fired));
  std::printf("  trace hash: %016llx\n", static_cast<unsigned long long>(r.trace_hash));
  std::printf("  verdict: %s\n", r.ok() ? "PASS" : "FAIL");
  if (!r.ok()) std::printf("  replay: %s\n", replay_command(o, r.seed).c_str());
}

struct Campaign {
  struct PerCheck {
    uint64_t failed = 0, vacuous = 0, examined = 0;
    uint64_t first_failing_seed = 0;
  };
  struct PerSite {
    uint64_t reached = 0, enabled = 0, fired = 0;
  };
  std::map<std::string, PerCheck> checks;
  std::map<std::string, PerSite> sites;
  uint64_t runs = 0, failures = 0;
  double simulated_s = 0;

  void add(const sim::RunResult& r) {
    ++runs;
    failures += r.ok() ? 0 : 1;
    simulated_s += static_cast<double>(r.end_time.ns) / 1e9;
    for (const auto& c : r.checks) {
      PerCheck& p = checks[c.name];
      p.examined += c.examined;
      p.vacuous += c.vacuous() ? 1 : 0;
      if (!c.ok() && p.failed++ == 0) p.first_failing_seed = r.seed;
    }
    for (const auto& [site, s] : r.buggify) {
      PerSite& p = sites[site];
      ++p.reached;
      p.enabled += s.first ? 1 : 0;
      p.fired += s.second;
    }
  }
  void print(const Options& o, double wall_s) const;
};

void Campaign::print(const Options& o, double wall_s) const {
  std::printf("\n%llu seeds, %llu failed; %.0f simulated s in %.1f wall s (%.0fx real time)\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(failures), simulated_s, wall_s,
              wall_s > 0 ? simulated_s / wall_s : 0.0);
  std::printf("%-22s %8s %8s %14s  %s\n", "check", "failed", "vacuous", "examined", "first failing seed");
  for (const auto& [name, p] : checks) {
    std::printf("%-22s %8llu %8llu %14llu  %s\n", name.c_str(), static_cast<unsigned long long>(p.failed),
                static_cast<unsigned long long>(p.vacuous), static_cast<unsigned long long>(p.examined),
                p.failed ? replay_command(o, p.first_failing_seed).c_str() : "-");
  }
  std::printf("%-36s %8s %8s %10s\n", "buggify site", "reached", "enabled", "fired");
  for (const BuggifySite& b : kBuggifySites) {
    auto it = sites.find(b.name);
    const PerSite p = it == sites.end() ? PerSite{} : it->second;
    std::printf("%-36s %8llu %8llu %10llu%s\n", b.name, static_cast<unsigned long long>(p.reached),
                static_cast<unsigned long long>(p.enabled), static_cast<unsigned long long>(p.fired),
                p.fired == 0 ? "  (did not fire)" : "");
  }
}

// Each planted bug over o.seeds seeds of its plan, with the bug and without it (the baseline
// must pass: what catches the bug is the bug). Prints a Markdown table.
int run_planted_bugs(const Options& base, LogLevel level) {
  std::printf("| bug | scenario | seeds | caught | baseline failures | first catching seed | what caught it | replay |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  int missed = 0;
  for (const sim::PlantedBugPlan& plan : sim::planted_bug_plans()) {
    Options o = base;
    o.scenario = plan.scenario;
    o.brokers = plan.brokers;
    o.pins = plan.pins;
    o.faults.clear();
    for (sim::Fault f : plan.faults) o.faults.push_back(sim::fault_name(f));
    uint64_t caught = 0, baseline_failed = 0, first = 0;
    std::string what;
    for (uint64_t s = o.seed; s < o.seed + o.seeds; ++s) {
      o.bugs.clear();
      baseline_failed += run_one(o, s, level).ok() ? 0 : 1;
      o.bugs = {bug_name(plan.bug)};
      const sim::RunResult r = run_one(o, s, level);
      if (r.ok()) continue;
      if (caught++ == 0) {
        first = s;
        for (const auto& c : r.checks) {
          if (!c.ok()) what += (what.empty() ? "" : ", ") + c.name;
        }
      }
    }
    o.bugs = {bug_name(plan.bug)};
    missed += caught == 0 ? 1 : 0;
    const std::string scenario = plan.brokers > 0 ? plan.scenario + " (3-node cluster)" : plan.scenario;
    std::printf("| %s | %s | %llu | %.0f%% | %llu | %s | %s | `%s` |\n", bug_name(plan.bug), scenario.c_str(),
                static_cast<unsigned long long>(o.seeds), 100.0 * static_cast<double>(caught) / static_cast<double>(o.seeds),
                static_cast<unsigned long long>(baseline_failed), caught ? std::to_string(first).c_str() : "-",
                what.empty() ? "-" : what.c_str(), caught ? replay_command(o, first).c_str() : "-");
    std::fflush(stdout);
  }
  return missed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"samsa-sim: samsa and its clients in deterministic simulation"};
  Options o;
  std::vector<std::string> bug_names;
  for (const BugInfo& b : kBugs) bug_names.push_back(b.name);
  for (const char* b : raft::RaftBugs::kNames) bug_names.push_back(b);
  for (const char* b : controller::ControllerBugs::kNames) bug_names.push_back(b);
  for (const char* b : controller::ControllerBugs::kClusterNames) bug_names.push_back(b);
  app.add_option("--scenario", o.scenario,
                 "broker (default), groups (consumer groups), raft (the metadata quorum), cluster (KRaft nodes, their controller "
                 "and replicated topics), failover (a partition's leader killed, timed), or log-demo (framed appends)")
      ->check(CLI::IsMember({"broker", "groups", "raft", "cluster", "failover", "log-demo"}));
  app.add_option("--schedule", o.schedule,
                 "raft scenario: random (the seeded nemesis), figure8 (a scripted schedule) or failover (crash the leader every "
                 "8 s); cluster scenario: random, kip-279 (KIP-279's fast leader changes with an unclean election), kip-320 (a "
                 "consumer behind a leader epoch that came and went) or controlled-shutdown (a rolling restart by SIGTERM)")
      ->check(CLI::IsMember({"random", "figure8", "failover", "kip-279", "kip-320", "controlled-shutdown"}));
  app.add_option("--voters", o.voters, "raft scenario: voters (0: the seed picks 3 or 5)")->check(CLI::Range(0, 9));
  app.add_option("--raft-batch", o.raft_batch, "raft scenario: records per append (0: 1-3)")->check(CLI::Range(0, 10000));
  app.add_option("--raft-pause-ms", o.raft_pause_ms, "raft scenario: pause between appends (-1: 2-30 ms)")->check(CLI::Range(-1, 10000));
  app.add_option("--rounds", o.rounds, "failover scenario: leader kills")->check(CLI::Range(1, 100));
  app.add_flag("--power-loss", o.power_loss, "failover scenario: the leader loses power instead of kill -9");
  app.add_option("--seed", o.seed, "seed of the run (decides every fault and interleaving)");
  app.add_option("--seeds", o.seeds, "run this many consecutive seeds starting at --seed")->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  app.add_option("--producers", o.producers, "producer nodes (broker scenario)")->check(CLI::Range(1, 16));
  app.add_option("--clients", o.clients, "client nodes (log-demo scenario)")->check(CLI::Range(1, 16));
  app.add_option("--members", o.members, "group members (groups scenario)")->check(CLI::Range(1, 16));
  app.add_option("--brokers", o.brokers,
                 "groups scenario: 0 = the single broker (default), 3 = a KRaft cluster of three nodes with a "
                 "replicated __consumer_offsets")
      ->check(CLI::IsMember({0, 3}));
  app.add_option("--fault-ms", o.fault_ms, "simulated milliseconds of faults")->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  app.add_option("--quiet-ms", o.quiet_ms, "simulated milliseconds after healing")->check(CLI::Range(int64_t{1'000}, int64_t{3'600'000}));
  app.add_option("--bug", o.bugs, "switch on a planted bug (repeatable); see --list-bugs")->check(CLI::IsMember(bug_names));
  app.add_option("--pin", o.pins, "broker scenario: pin a setting the swarm would draw, e.g. log.flush.interval.messages=1 (repeatable)");
  app.add_option("--faults", o.faults, "restrict the nemesis to these fault kinds (comma-separated), e.g. machine-crash,partition")
      ->delimiter(',');
  bool list_bugs = false, planted = false;
  app.add_flag("--planted-bugs", planted, "run every planted bug's plan over --seeds seeds, with and without the bug, and print the table");
  app.add_flag("--list-bugs", list_bugs, "list the planted bugs and exit");
  app.add_flag("-v,--verbose", o.verbose, "log what the nodes do (SAMSA_DEBUG=1 for debug logs)");
  app.add_flag("--brief", o.brief, "one line per passing seed");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return e.get_exit_code() == 0 ? 0 : (rc == 0 ? 0 : 2);
  }
  for (const std::string& f : o.faults) {
    if (!sim::fault_by_name(f)) {
      std::fprintf(stderr, "samsa-sim: unknown fault kind '%s'\n", f.c_str());
      return 2;
    }
  }
  if (list_bugs) {
    for (const BugInfo& b : kBugs) std::printf("%-28s %s%s\n", b.name, b.what, replicated_only(b.bug) ? " (cluster scenario)" : "");
    for (const char* b : raft::RaftBugs::kNames) std::printf("%-28s (raft scenario)\n", b);
    for (const char* b : controller::ControllerBugs::kNames) std::printf("%-28s (cluster scenario)\n", b);
    for (const char* b : controller::ControllerBugs::kClusterNames) std::printf("%-28s (cluster scenario)\n", b);
    return 0;
  }
  for (const std::string& b : o.bugs) {
    const bool controller_bug = controller::ControllerBugs{}.enable(b);
    const std::optional<Bug> node_bug = bug_by_name(b);
    const bool replication_bug = node_bug && replicated_only(*node_bug);
    const std::string wants = replication_bug || controller_bug ? "cluster" : node_bug ? "broker" : "raft";
    const bool fits = wants == "broker"    ? o.scenario != "raft" && o.scenario != "cluster" && o.scenario != "failover"
                      : wants == "cluster" ? o.scenario == "cluster" || o.scenario == "failover"
                                           : o.scenario == wants;
    if (!fits && o.scenario != "log-demo") {
      std::fprintf(stderr, "samsa-sim: --bug %s applies to --scenario %s\n", b.c_str(), wants == "broker" ? "broker or groups" : wants == "cluster" ? "cluster or failover" : wants.c_str());
      return 2;
    }
  }
  const bool raft_schedule = o.schedule == "figure8" || o.schedule == "failover";
  if (o.schedule != "random" && (raft_schedule ? o.scenario != "raft" : o.scenario != "cluster")) {
    std::fprintf(stderr, "samsa-sim: --schedule %s applies to --scenario %s\n", o.schedule.c_str(), raft_schedule ? "raft" : "cluster");
    return 2;
  }
  if (o.scenario == "log-demo" && (o.bugs.size() > 1 || (o.bugs.size() == 1 && o.bugs[0] != "ack-before-sync"))) {
    std::fprintf(stderr, "samsa-sim: --scenario log-demo takes only --bug ack-before-sync\n");
    return 2;
  }
  if (!o.pins.empty()) {
    broker::BrokerConfig probe;
    sim::WorkloadProfile workload;
    std::string error;
    if (o.scenario != "broker" || !sim::apply_pins(o.pins, probe, workload, &error)) {
      std::fprintf(stderr, "samsa-sim: %s\n", o.scenario != "broker" ? "--pin applies to --scenario broker" : error.c_str());
      return 2;
    }
  }
  const LogLevel level = o.verbose ? (std::getenv("SAMSA_DEBUG") ? LogLevel::debug : LogLevel::info) : LogLevel::off;
  if (planted) return run_planted_bugs(o, level);
  Campaign campaign;
  const auto started = std::chrono::steady_clock::now();  // reporting only: never feeds the simulation
  for (uint64_t s = o.seed; s < o.seed + o.seeds; ++s) {
    const sim::RunResult r = run_one(o, s, level);
    campaign.add(r);
    if (o.brief && r.ok()) {
      std::printf("seed %llu PASS %016llx\n", static_cast<unsigned long long>(s), static_cast<unsigned long long>(r.trace_hash));
    } else {
      print_run(o, r);
    }
    std::fflush(stdout);
  }
  if (o.seeds > 1) {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    campaign.print(o, wall);
  }
  return campaign.failures == 0 ? 0 : 1;
}
