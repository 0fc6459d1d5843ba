// samsa-sim: runs a scenario in the deterministic simulator and prints, for each seed, the
// verdict of every check with the number of operations it examined, the trace hash and, on
// failure, the command that replays it (with the commit it was built from). Over many seeds
// (--seeds N or A..B, in --jobs worker processes, or one --shard K/N of them) it ends with a
// summary per check and per buggify site and the simulation speed; --json writes one line per
// seed and --merge sums shards' lines into the same summary (sim/campaign/).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "runtime/buggify_sites.h"
#include "sim/campaign/results.h"
#include "sim/campaign/profile.h"
#include "sim/campaign/run.h"
#include "sim/campaign/runner.h"
#include "sim/campaign/shrink.h"
#include "sim/timeline/timeline.h"
#include "sim/world/trace_text.h"
#include "sim/scenarios/broker_scenario.h"
#include "sim/scenarios/cluster_scenario.h"
#include "sim/scenarios/planted_bugs.h"
#include "sim/scenarios/raft_scenario.h"

namespace {

using namespace samsa;

constexpr uint64_t kShrinkRunsMax = 300;  // runs of the scenario one --shrink may take

// Each planted bug over o.seeds seeds of its plan, with the bug and without it (the baseline
// must pass: what catches the bug is the bug). Prints a Markdown table.
int run_planted_bugs(const sim::RunOptions& base, LogLevel level) {
  std::printf("| bug | scenario | seeds | caught | baseline failures | first catching seed | what caught it | replay |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  int missed = 0;
  for (const sim::PlantedBugPlan& plan : sim::planted_bug_plans()) {
    sim::RunOptions o = base;
    o.scenario = plan.scenario;
    o.brokers = plan.brokers;
    o.pins = plan.pins;
    o.faults.clear();
    for (sim::Fault f : plan.faults) o.faults.push_back(sim::fault_name(f));
    uint64_t caught = 0, baseline_failed = 0, first = 0;
    std::string what;
    for (uint64_t s = o.seed; s < o.seed + o.seeds; ++s) {
      o.bugs.clear();
      baseline_failed += sim::run_one(o, s, level).ok() ? 0 : 1;
      o.bugs = {bug_name(plan.bug)};
      const sim::RunResult r = sim::run_one(o, s, level);
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
                what.empty() ? "-" : what.c_str(), caught ? sim::replay_command(o, first).c_str() : "-");
    std::fflush(stdout);
  }
  return missed == 0 ? 0 : 1;
}


// Prints each seed's verdict (a line for a passing seed with --brief) as its record arrives,
// then the summary over all of them; --json keeps the records.
int run_seeds(const sim::RunOptions& o, const sim::CampaignPlan& plan, const std::string& json_path) {
  std::ofstream json;
  if (!json_path.empty()) {
    json.open(json_path, std::ios::trunc);
    if (!json) {
      std::fprintf(stderr, "samsa-sim: cannot write %s\n", json_path.c_str());
      return 2;
    }
  }
  sim::Summary summary;
  const auto started = std::chrono::steady_clock::now();  // reporting only: never feeds the simulation
  const bool ran = sim::run_campaign(o, plan, [&](const nlohmann::json& j) {
    (void)summary.add(j);
    if (json) json << j.dump() << "\n" << std::flush;
    if (o.brief && j.value("ok", false)) {
      std::printf("seed %llu PASS %s\n", static_cast<unsigned long long>(j.value("seed", uint64_t{0})),
                  j.value("trace_hash", std::string()).c_str());
    } else {
      std::fputs(j.value("report", std::string("(no report)\n")).c_str(), stdout);
    }
    std::fflush(stdout);
  });
  if (!ran) {
    std::fprintf(stderr, "samsa-sim: cannot start worker processes\n");
    return 2;
  }
  if (summary.runs() > 1) {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fputs(summary.table(wall).c_str(), stdout);
  }
  return summary.failures() == 0 ? 0 : 1;
}

// The summary of shards' JSON lines: as one campaign's, plus seeds of the range no shard ran.
int merge(const std::vector<std::string>& paths) {
  sim::Summary summary;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "samsa-sim: cannot read %s\n", path.c_str());
      return 2;
    }
    std::string line;
    for (uint64_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      const std::optional<std::string> bad = j.is_discarded() ? std::optional<std::string>("not JSON") : summary.add(j);
      if (bad) {
        std::fprintf(stderr, "samsa-sim: %s line %llu: %s\n", path.c_str(), static_cast<unsigned long long>(n), bad->c_str());
        return 2;
      }
      if (!j.value("ok", true)) std::fputs(j.value("report", std::string()).c_str(), stdout);
    }
  }
  std::fputs(summary.table(0).c_str(), stdout);
  const std::set<uint64_t> missing = summary.missing();
  if (!missing.empty()) std::printf("missing: %zu seeds of the range were in no file (first %llu)\n", missing.size(), static_cast<unsigned long long>(*missing.begin()));
  if (!summary.repeated().empty()) std::printf("repeated: %zu seeds were in more than one line\n", summary.repeated().size());
  return summary.failures() == 0 && missing.empty() ? 0 : 1;
}

}  // namespace

// --replay FILE: the file's seed, scenario and flags in front of the command line's other flags
// (which may add --trace, say), and its events. Exits on an unreadable file.
std::vector<std::string> expand_replay(int argc, char** argv, sim::ReplayFile* file) {
  std::vector<std::string> args{argv[0]};
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--replay" && i + 1 < argc) {
      path = argv[++i];
      continue;
    }
    if (arg.starts_with("--replay=")) {
      path = arg.substr(std::string("--replay=").size());
      continue;
    }
    args.emplace_back(argv[i]);
  }
  if (path.empty()) return args;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), error;
  std::optional<sim::ReplayFile> f = in ? sim::ReplayFile::parse(text, &error) : std::nullopt;
  if (!f) {
    std::fprintf(stderr, "samsa-sim: --replay %s: %s\n", path.c_str(), in ? error.c_str() : "cannot read it");
    std::exit(2);
  }
  *file = std::move(*f);
  file->source_path = path;
  std::vector<std::string> out{argv[0], "--scenario", file->scenario, "--seed", std::to_string(file->seed)};
  for (const auto& [flag, value] : file->options) {
    out.push_back(flag);
    if (!value.empty()) out.push_back(value);
  }
  out.insert(out.end(), args.begin() + 1, args.end());
  return out;
}

sim::ReplayFile replay_file_of(const sim::RunOptions& o, const sim::RunResult& r, const std::vector<sim::FaultEvent>& events) {
  sim::ReplayFile f;
  f.seed = r.seed;
  f.scenario = o.scenario;
  f.commit = sim::build_commit();
  f.options = sim::option_flags(o);
  f.trace_hash = r.trace_hash;
  f.events = events;
  return f;
}

std::vector<sim::FaultEvent> events_of(const sim::RunResult& r) {
  std::vector<sim::FaultEvent> out;
  for (const std::string& line : r.schedule) {
    if (std::optional<sim::FaultEvent> e = sim::FaultEvent::parse(line)) out.push_back(std::move(*e));
  }
  return out;
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// --shrink: a smaller run, then the fewest faults, that still fail one of the checks `r` failed;
// writes the replay file. The candidate runs are not traced.
int shrink_run(sim::RunOptions o, LogLevel level, const sim::RunResult& r, const std::string& shrink_path) {
  o.trace_sink = nullptr;
  o.watch = nullptr;
  std::vector<std::string> failed;
  for (const sim::CheckResult& c : r.checks) {
    if (!c.ok()) failed.push_back(c.name);
  }
  sim::RunResult last = r;
  const auto started = std::chrono::steady_clock::now();  // reporting only
  auto still_fails = [&](const sim::RunResult& run) {
    for (const std::string& name : failed) {
      const sim::CheckResult* check = run.find(name);
      if (check != nullptr && !check->ok()) return true;
    }
    return false;
  };
  // A smaller run (fewer brokers or clients, a shorter fault phase) with the same faults, tried
  // before shrinking the schedule and, for the fault phase, again after it.
  sim::RunOptions shape = o;
  std::vector<sim::FaultEvent> start = events_of(r);
  std::vector<std::string> reshaped;
  uint64_t shape_runs = 0;
  auto try_step = [&](const sim::ShapeStep& step) {
    sim::RunOptions c = shape;
    const std::optional<std::string> what = step.apply(c, last);
    if (!what) return;
    c.replay_events = &start;
    const sim::RunResult run = sim::run_one(c, o.seed, level);
    ++shape_runs;
    if (!still_fails(run)) return;
    shape = c;
    shape.replay_events = nullptr;
    start = events_of(run);
    last = run;
    reshaped.push_back(*what);
  };
  const std::vector<sim::ShapeStep> steps = sim::shape_steps();
  for (const sim::ShapeStep& step : steps) try_step(step);
  sim::ShrinkResult s = sim::shrink_schedule(
      start,
      [&](const std::vector<sim::FaultEvent>& candidate) {
        sim::RunOptions c = shape;
        c.replay_events = &candidate;
        const sim::RunResult run = sim::run_one(c, o.seed, level);
        if (!still_fails(run)) return false;
        last = run;
        return true;
      },
      kShrinkRunsMax);
  start = s.events;
  try_step(steps.back());  // the fault phase, now that fewer faults remain
  s.events = start;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!write_text(shrink_path, replay_file_of(shape, last, s.events).to_text())) return 2;
  int64_t before_ns = 0, after_ns = 0;
  for (const sim::FaultEvent& e : events_of(r)) before_ns += e.duration_ns();
  for (const sim::FaultEvent& e : s.events) after_ns += e.duration_ns();
  std::printf("  shrunk %zu events to %zu (fault durations %.1f s to %.1f s) in %llu runs, %.1f s%s; still failing %s\n",
              r.schedule.size(), s.events.size(), static_cast<double>(before_ns) / 1e9, static_cast<double>(after_ns) / 1e9,
              static_cast<unsigned long long>(s.runs + shape_runs), wall, s.budget_exhausted ? " (run budget spent: smaller, not minimal)" : "",
              fmt::format("{}", fmt::join(failed, ", ")).c_str());
  std::printf("  smaller run: %s\n", reshaped.empty() ? "none kept (the shape the seed drew is needed)" : fmt::format("{}", fmt::join(reshaped, ", ")).c_str());
  std::printf("  replay the shrunk run: samsa-sim --replay %s\n", shrink_path.c_str());
  return 1;
}

// One seed with its schedule: --record writes it as a replay file; --shrink reduces a failing
// run's schedule to a minimal one that fails the same check and writes that.
// One seed, recorded, replayed, shrunk or drawn as a timeline page (`timeline` set: o's trace
// sink and watch already feed it).
int run_scheduled(sim::RunOptions o, LogLevel level, const std::string& record_path, const std::string& shrink_path,
                  const sim::ReplayFile* replayed, sim::Timeline* timeline = nullptr, const std::string& timeline_path = "") {
  const sim::RunResult r = sim::run_one(o, o.seed, level);
  std::fputs(sim::format_run(o, r).c_str(), stdout);
  if (timeline != nullptr) {
    timeline->finish(r, replayed != nullptr ? "samsa-sim --replay " + replayed->source_path : sim::replay_command(o, o.seed));
    if (!write_text(timeline_path, sim::timeline_html(*timeline))) return 2;
    std::printf("  timeline: %s\n", timeline_path.c_str());
  }
  const std::vector<sim::FaultEvent> events = replayed != nullptr ? replayed->events : events_of(r);
  if (replayed != nullptr && replayed->trace_hash) {
    std::printf("  replayed %zu events: trace hash %016llx, the file's %016llx (%s)\n", events.size(),
                static_cast<unsigned long long>(r.trace_hash), static_cast<unsigned long long>(*replayed->trace_hash),
                r.trace_hash == *replayed->trace_hash ? "the same run" : "another run: the file's events were edited, or another build");
  }
  if (!record_path.empty()) {
    if (!write_text(record_path, replay_file_of(o, r, events_of(r)).to_text())) return 2;
    std::printf("  recorded %zu events: samsa-sim --replay %s\n", r.schedule.size(), record_path.c_str());
  }
  if (shrink_path.empty()) return r.ok() ? 0 : 1;
  if (r.ok()) {
    std::printf("  the run passes: nothing to shrink\n");
    return 0;
  }
  return shrink_run(o, level, r, shrink_path);
}

int main(int argc, char** argv) {
  sim::keep_freed_memory_for_simulation();
  static sim::ReplayFile replayed;  // outlives every run that points at its events
  std::vector<std::string> expanded = expand_replay(argc, argv, &replayed);
  std::vector<char*> args;
  for (std::string& a : expanded) args.push_back(a.data());
  argc = static_cast<int>(args.size());
  argv = args.data();
  CLI::App app{"samsa-sim: samsa and its clients in deterministic simulation"};
  sim::RunOptions o;
  std::string seeds_spec = "1", shard_spec = "0/1", json_path;
  std::vector<std::string> merge_paths;
  sim::CampaignPlan plan;
  bool progress = false;
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
  app.add_option("--cluster-brokers", o.cluster_brokers, "cluster scenario: this many brokers (default: the seed draws 3-5)")
      ->check(CLI::Range(3, 9));
  app.add_option("--send-rate", o.send_rate,
                 "cluster, broker and groups scenarios: each producer's sends per second (0: drawn from the seed, "
                 "about 12-250; the offered load for speed measurements, fewer records when shrinking)")
      ->check(CLI::Range(0, 1000));
  app.add_flag("--separate-controllers", o.separate_controllers,
               "cluster scenario with --cluster-brokers: the quorum on three controller-only nodes (default: combined)");
  app.add_flag("--power-loss", o.power_loss, "failover scenario: the leader loses power instead of kill -9");
  app.add_option("--seed", o.seed, "seed of the run (decides every fault and interleaving)");
  app.add_option("--seeds", seeds_spec, "N: this many consecutive seeds from --seed; A..B: seeds A to B");
  app.add_option("--jobs,-j", plan.jobs, "worker processes running seeds at once")->check(CLI::Range(1, sim::CampaignPlan::kJobsMax));
  app.add_option("--shard", shard_spec, "K/N: run only the seeds whose position in the range is K modulo N (merge with --merge)");
  app.add_option("--json", json_path, "write one JSON line per seed to this file (see sim/campaign/results.h)");
  app.add_option("--merge", merge_paths, "print the summary of the JSON lines of these files (shards of one campaign) and exit")
      ->expected(1, -1);
  app.add_flag("--check-determinism", plan.check_determinism, "run every seed twice and fail it on any difference");
  app.add_flag("--progress", progress, "a progress line on stderr (default: when stderr is a terminal)");
  bool trace = false;
  std::string trace_json, record_path, shrink_path, replay_path_shown;  // --replay is read before parsing (expand_replay)
  app.add_option("--record", record_path,
                 "one seed: write its fault schedule (the random nemesis' decisions; a scripted schedule is its settings) as a "
                 "replay file");
  app.add_option("--shrink", shrink_path,
                 "one failing seed: shrink it to a minimal run failing the same check (fewer brokers, clients and records, a "
                 "shorter fault phase, then the fewest and shortest of the random nemesis' faults) and write that as a replay file");
  app.add_option("--replay", replay_path_shown, "run the seed, settings and fault schedule of a replay file (see --record)");
  app.add_flag("--trace", trace, "one seed: print every traced event (simulated time, node, kind, what) before the verdict");
  std::string timeline_path;
  app.add_option("--timeline", timeline_path,
                 "one seed: write a self-contained HTML page of the run (nodes, network, partitions' leader/ISR/HW/log end, "
                 "clients, anomalies)");
  bool profile = false;
  app.add_flag("--profile", profile, "one seed: count its steps by kind and fiber name (numbers masked) and print the table after the verdict");
  app.add_option("--trace-json", trace_json, "one seed: write every traced event to this file as JSON lines");
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
  app.set_version_flag("--version", std::string("samsa-sim ") + sim::build_commit(),
                       "print the commit samsa-sim was built from (replay files name theirs) and exit");
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
  if (!merge_paths.empty()) return merge(merge_paths);
  std::string error;
  const std::optional<sim::SeedRange> range = sim::SeedRange::parse(seeds_spec, o.seed, &error);
  const std::optional<sim::Shard> shard = sim::Shard::parse(shard_spec, &error);
  if (!range || !shard) {
    std::fprintf(stderr, "samsa-sim: %s\n", error.c_str());
    return 2;
  }
  o.seed = range->first;
  o.seeds = range->count();
  if (planted) return run_planted_bugs(o, level);
  std::ofstream trace_out;
  if (trace || !trace_json.empty()) {
    if (o.seeds != 1 || plan.jobs != 1) {
      std::fprintf(stderr, "samsa-sim: --trace and --trace-json take one seed and one job\n");
      return 2;
    }
    if (!trace_json.empty()) {
      trace_out.open(trace_json, std::ios::trunc);
      if (!trace_out) {
        std::fprintf(stderr, "samsa-sim: cannot write %s\n", trace_json.c_str());
        return 2;
      }
    }
    o.trace_sink = [trace, &trace_out](const sim::TraceEvent& e) {
      const std::string what = sim::describe_trace(e);
      if (trace) std::printf("%12.6f n%-3d %-12s %s\n", static_cast<double>(e.at.ns) / 1e9, e.node, sim::trace_kind_name(e.kind), what.c_str());
      if (trace_out) {
        trace_out << nlohmann::json{{"t_ns", e.at.ns}, {"node", e.node}, {"kind", sim::trace_kind_name(e.kind)}, {"a", e.a}, {"b", e.b},
                                    {"what", what}}.dump()
                  << "\n";
      }
    };
  }
  sim::StepProfile step_profile;
  if (profile) {
    if (o.seeds != 1 || plan.jobs != 1) {
      std::fprintf(stderr, "samsa-sim: --profile takes one seed and one job\n");
      return 2;
    }
    o.trace_sink = step_profile.sink(o.trace_sink);
  }
  plan.range = *range;
  plan.shard = *shard;
  plan.level = level;
  plan.with_reports = !o.brief;
  plan.progress = progress || (o.seeds > 1 && ::isatty(2) == 1);
  sim::Timeline timeline;
  sim::RunWatch watch;
  if (!timeline_path.empty()) {
    if (o.seeds != 1 || plan.jobs != 1 || !shrink_path.empty()) {
      std::fprintf(stderr, "samsa-sim: --timeline takes one seed and one job (for a shrunk run: --replay its file)\n");
      return 2;
    }
    o.trace_sink = timeline.sink(o.trace_sink);
    watch = timeline.watch();
    o.watch = &watch;
  }
  if (!record_path.empty() || !shrink_path.empty() || !replayed.scenario.empty()) {
    // A scripted schedule, or a scenario without a random nemesis, is decided by its seed and
    // settings alone: its file holds no events, and replaying the settings replays the run.
    const bool nemesis = (o.scenario == "cluster" || o.scenario == "broker" || o.scenario == "groups" || o.scenario == "raft") &&
                         o.schedule == "random";
    if (o.seeds != 1 || plan.jobs != 1) {
      std::fprintf(stderr, "samsa-sim: --record, --shrink and --replay take one seed\n");
      return 2;
    }
    if (!nemesis && !replayed.events.empty()) {
      std::fprintf(stderr, "samsa-sim: --replay %s: events for a run without a random nemesis (scenario %s, schedule %s)\n",
                   replayed.source_path.c_str(), o.scenario.c_str(), o.schedule.c_str());
      return 2;
    }
    if (!replayed.scenario.empty()) o.replay_events = &replayed.events;
    return run_scheduled(o, level, record_path, shrink_path, replayed.scenario.empty() ? nullptr : &replayed,
                         timeline_path.empty() ? nullptr : &timeline, timeline_path);
  }
  if (!timeline_path.empty()) {
    return run_scheduled(o, level, "", "", nullptr, &timeline, timeline_path);
  }
  const int code = run_seeds(o, plan, json_path);
  if (profile) step_profile.print(stdout);
  return code;
}