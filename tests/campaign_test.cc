// samsa-sim's campaigns (sim/campaign/): seed ranges and shards parse as documented; a seed's
// record is the same whichever number of worker processes ran it; shards merge into the whole
// campaign's summary; a worker that dies loses only the seed it was running, which is reported
// failed; the determinism check fails on a difference; --trace sees the run without changing it;
// --profile counts its steps by fiber.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <unistd.h>

#include <fmt/format.h>

#include "sim/campaign/profile.h"
#include "sim/campaign/runner.h"
#include "sim/campaign/shrink.h"
#include "sim/world/trace_text.h"

namespace samsa::sim {
namespace {

RunOptions raft_options() {
  RunOptions o;
  o.scenario = "raft";
  o.fault_ms = 8'000;
  o.quiet_ms = 5'000;
  return o;
}

std::map<uint64_t, nlohmann::json> collect(const RunOptions& o, const CampaignPlan& plan) {
  std::map<uint64_t, nlohmann::json> out;
  EXPECT_TRUE(run_campaign(o, plan, [&](const nlohmann::json& j) {
    EXPECT_TRUE(out.emplace(j.at("seed").get<uint64_t>(), j).second) << "seed reported twice: " << j.dump();
  }));
  return out;
}

TEST(Campaign, SeedRangesAndShardsParse) {
  std::string error;
  EXPECT_EQ(SeedRange::parse("5", 10, &error)->last, 14u);
  EXPECT_EQ(SeedRange::parse("3..7", 10, &error)->first, 3u);
  EXPECT_EQ(SeedRange::parse("3..7", 10, &error)->count(), 5u);
  for (const char* bad : {"0", "7..3", "x", "1..", "..4", "1..20000000", ""}) {
    EXPECT_FALSE(SeedRange::parse(bad, 1, &error)) << bad;
  }
  EXPECT_EQ(Shard::parse("2/3", &error)->index, 2u);
  for (const char* bad : {"3/3", "1/0", "1", "a/b"}) EXPECT_FALSE(Shard::parse(bad, &error)) << bad;
  CampaignPlan plan;
  plan.range = SeedRange{10, 16};
  plan.shard = Shard{1, 3};
  EXPECT_EQ(shard_seeds(plan), (std::vector<uint64_t>{11, 14}));
}

TEST(Campaign, RecordsDoNotDependOnTheNumberOfWorkers) {
  const RunOptions o = raft_options();
  CampaignPlan plan;
  plan.range = SeedRange{1, 5};
  const auto one = collect(o, plan);
  plan.jobs = 3;
  const auto three = collect(o, plan);
  ASSERT_EQ(one.size(), 5u);
  ASSERT_EQ(three.size(), 5u);
  for (const auto& [seed, j] : one) {
    EXPECT_EQ(j.at("trace_hash"), three.at(seed).at("trace_hash")) << seed;
    EXPECT_EQ(j.at("checks"), three.at(seed).at("checks")) << seed;
  }
}

TEST(Campaign, ShardsMergeIntoTheWholeCampaignsSummary) {
  const RunOptions o = raft_options();
  CampaignPlan plan;
  plan.range = SeedRange{1, 6};
  Summary whole, merged, partial;
  for (const auto& [seed, j] : collect(o, plan)) EXPECT_FALSE(whole.add(j));
  for (uint64_t k = 0; k < 3; ++k) {
    plan.shard = Shard{k, 3};
    for (const auto& [seed, j] : collect(o, plan)) {
      EXPECT_FALSE(merged.add(j));
      if (k != 1) {
        EXPECT_FALSE(partial.add(j));
      }
    }
  }
  EXPECT_EQ(merged.table(0), whole.table(0));
  EXPECT_TRUE(merged.missing().empty());
  EXPECT_EQ(partial.missing(), (std::set<uint64_t>{2, 5}));
  EXPECT_TRUE(whole.add(nlohmann::json{{"seed", 1}}).has_value()) << "a line without the fields was taken";
}

TEST(Campaign, AWorkerThatDiesLosesOnlyItsSeedWhichIsReportedFailed) {
  CampaignPlan plan;
  plan.range = SeedRange{1, 6};
  plan.jobs = 2;
  std::map<uint64_t, nlohmann::json> got;
  const bool ran = run_campaign_with(
      plan,
      [](uint64_t seed) -> nlohmann::json {
        if (seed == 3) std::abort();  // an always-on assert in the run
        if (seed == 4) ::_exit(0);    // or a clean exit before reporting
        return {{"seed", seed}, {"ok", true}};
      },
      [](uint64_t seed, const std::string& why) -> nlohmann::json { return {{"seed", seed}, {"ok", false}, {"why", why}}; },
      [&](const nlohmann::json& j) { got.emplace(j.at("seed").get<uint64_t>(), j); });
  ASSERT_TRUE(ran);
  ASSERT_EQ(got.size(), 6u);
  for (uint64_t s = 1; s <= 6; ++s) EXPECT_EQ(got.at(s).at("ok").get<bool>(), s != 3 && s != 4) << s;
  EXPECT_NE(got.at(3).at("why").get<std::string>().find("signal"), std::string::npos) << got.at(3).dump();
  EXPECT_NE(got.at(4).at("why").get<std::string>().find("before reporting"), std::string::npos) << got.at(4).dump();
}

TEST(Campaign, TheDeterminismCheckPassesOnARerunAndFailsOnADifference) {
  const RunOptions o = raft_options();
  CampaignPlan plan;
  plan.range = SeedRange{2, 2};
  plan.check_determinism = true;
  const auto records = collect(o, plan);
  bool seen = false;
  for (const nlohmann::json& c : records.at(2).at("checks")) {
    if (c.at("name") != "determinism") continue;
    seen = true;
    EXPECT_TRUE(c.at("ok").get<bool>()) << c.dump();
  }
  EXPECT_TRUE(seen);
  RunResult a, b;
  a.trace_hash = b.trace_hash = 7;
  EXPECT_TRUE(determinism_check(a, b).ok());
  b.trace_hash = 8;
  EXPECT_FALSE(determinism_check(a, b).ok());
  b.trace_hash = 7;
  b.steps = 1;
  EXPECT_FALSE(determinism_check(a, b).ok());
}

}  // namespace
}  // namespace samsa::sim

namespace samsa::sim {
namespace {

// --trace sees every record folded into the trace hash, without changing the run.
TEST(Trace, ASinkSeesEveryRecordWithoutChangingTheRun) {
  RunOptions o;
  o.scenario = "raft";  // 30 s of faults: crashes among them
  const RunResult plain = run_one(o, 3, LogLevel::off);
  std::map<Trace, uint64_t> kinds;
  uint64_t described = 0;
  Instant last{};
  bool ordered = true;
  o.trace_sink = [&](const TraceEvent& e) {
    ++kinds[e.kind];
    described += describe_trace(e).empty() ? 0 : 1;
    ordered = ordered && e.at >= last;
    last = e.at;
  };
  const RunResult traced = run_one(o, 3, LogLevel::off);
  EXPECT_EQ(traced.trace_hash, plain.trace_hash);
  EXPECT_TRUE(ordered) << "simulated time went back in the trace";
  // One schedule or event record per step (less the steps that found their fiber killed or paused).
  EXPECT_LE(kinds[Trace::schedule] + kinds[Trace::event], traced.steps);
  EXPECT_GT(kinds[Trace::schedule] + kinds[Trace::event], traced.steps * 9 / 10);
  EXPECT_GT(kinds[Trace::node_crash], 0u);
  EXPECT_GT(kinds[Trace::fault], 0u);
  uint64_t total = 0;
  for (const auto& [k, n] : kinds) total += n;
  EXPECT_EQ(described, total);
}

// --profile counts the steps the run took, by fiber name with its numbers masked, and the
// schedule records carry the names the fibers were spawned with.
TEST(Trace, TheStepProfileCountsTheRunsStepsByFiberName) {
  EXPECT_EQ(mask_digits("conn-17-worker"), "conn-#-worker");
  EXPECT_EQ(mask_digits("replica-fetcher-3"), "replica-fetcher-#");
  EXPECT_EQ(mask_digits("raft-apply"), "raft-apply");
  RunOptions o;
  o.scenario = "raft";
  StepProfile profile;
  uint64_t unnamed = 0;
  o.trace_sink = profile.sink([&](const TraceEvent& e) { unnamed += e.kind == Trace::schedule && e.label.empty() ? 1 : 0; });
  const RunResult r = run_one(o, 3, LogLevel::off);
  EXPECT_EQ(unnamed, 0u);
  EXPECT_LE(profile.steps(), r.steps);
  EXPECT_GT(profile.steps(), r.steps * 9 / 10);
  char* text = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  profile.print(out);
  std::fclose(out);
  const std::string printed(text, size);
  std::free(text);
  EXPECT_NE(printed.find("run   raft-apply"), std::string::npos) << printed;
  EXPECT_NE(printed.find(fmt::format("{} steps", profile.steps())), std::string::npos) << printed;
}

}  // namespace
}  // namespace samsa::sim

namespace samsa::sim {
namespace {

FaultEvent event(uint64_t tick, int64_t for_ns) {
  return FaultEvent{.tick = tick, .at = Instant{static_cast<int64_t>(tick) * 1'000'000'000}, .kind = "pause",
                    .args = {{"node", 1}, {"for_ns", for_ns}}};
}

TEST(FaultScript, EventsAndReplayFilesRoundTrip) {
  const FaultEvent e = event(7, 1'500'000'000);
  EXPECT_EQ(e.to_line(), "event 7 7.000000000 pause node=1 for_ns=1500000000");
  const std::optional<FaultEvent> back = FaultEvent::parse(e.to_line());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_line(), e.to_line());
  for (const char* bad : {"event x 1.000000000 pause", "event 1 1.0 pause", "event 1 1.000000000 pause node", "evt 1 1.000000000 k"}) {
    EXPECT_FALSE(FaultEvent::parse(bad)) << bad;
  }
  ReplayFile f{.seed = 5, .scenario = "cluster", .commit = "abc", .options = {{"--fault-ms", "15000"}, {"--separate-controllers", ""}},
               .trace_hash = 0x1234, .events = {e, event(9, 10)}};
  std::string error;
  const std::optional<ReplayFile> g = ReplayFile::parse(f.to_text(), &error);
  ASSERT_TRUE(g) << error;
  EXPECT_EQ(g->to_text(), f.to_text());
  EXPECT_FALSE(ReplayFile::parse("scenario cluster\nevent 1 1.000000000 k\n", &error)) << "no seed";
  EXPECT_FALSE(ReplayFile::parse("seed 1\nscenario cluster\nbogus\n", &error));
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
}

// The shrinker finds the two events a failure needs among twenty and shortens their durations
// to what it needs; it reports its runs and a spent budget.
TEST(Shrink, DdminKeepsOnlyTheEventsTheFailureNeedsAndShortensThem) {
  std::vector<FaultEvent> events;
  for (uint64_t t = 0; t < 20; ++t) events.push_back(event(t, 4'000'000'000));
  auto fails = [](const std::vector<FaultEvent>& es) {
    bool three = false, eleven = false;
    for (const FaultEvent& e : es) {
      three = three || (e.tick == 3 && e.args[1].second >= 900'000'000);
      eleven = eleven || e.tick == 11;
    }
    return three && eleven;
  };
  const ShrinkResult r = shrink_schedule(events, fails, 500);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].tick, 3u);
  EXPECT_EQ(r.events[1].tick, 11u);
  EXPECT_EQ(r.events[0].args[1].second, 1'000'000'000) << "halved while it still failed: 4 s, 2 s, 1 s";
  EXPECT_LT(r.events[1].args[1].second, 100'000'000);
  EXPECT_FALSE(r.budget_exhausted);
  EXPECT_GT(r.runs, 0u);
  const ShrinkResult cut = shrink_schedule(events, fails, 3);
  EXPECT_TRUE(cut.budget_exhausted);
  EXPECT_EQ(cut.runs, 3u);
}

// A cluster run's recorded schedule replays it bit for bit; a schedule with events dropped is
// another run, the same each time it is replayed.
// Each scenario with a random nemesis records its decisions; replaying them gives the same run,
// and an edited schedule a run of its own that is the same every time.
class Replay : public ::testing::TestWithParam<const char*> {};

TEST_P(Replay, ARecordedScheduleReplaysTheRunAndAnEditedOneIsStable) {
  RunOptions o;
  o.scenario = GetParam();
  o.fault_ms = 10'000;
  o.quiet_ms = 20'000;
  const RunResult recorded = run_one(o, 3, LogLevel::off);
  std::vector<FaultEvent> events;
  for (const std::string& line : recorded.schedule) {
    std::optional<FaultEvent> e = FaultEvent::parse(line);
    ASSERT_TRUE(e) << line;
    events.push_back(*e);
  }
  ASSERT_GE(events.size(), 2u);
  o.replay_events = &events;
  EXPECT_EQ(run_one(o, 3, LogLevel::off).trace_hash, recorded.trace_hash);
  std::vector<FaultEvent> half(events.begin(), events.begin() + static_cast<long>(events.size() / 2));
  o.replay_events = &half;
  const RunResult a = run_one(o, 3, LogLevel::off);
  const RunResult b = run_one(o, 3, LogLevel::off);
  EXPECT_NE(a.trace_hash, recorded.trace_hash);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  // The file's events only (its ticks come at times the changed run draws, so a late one may
  // fall after the faults stop, and one whose target is gone does nothing).
  EXPECT_LE(a.schedule.size(), half.size());
  EXPECT_GT(a.schedule.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, Replay, ::testing::Values("cluster", "broker", "groups", "raft"));

// Recording and replaying must consume the generator alike on every path a tick can take (a
// partition without a leader, a node that is down...): an unedited file replays its run.
TEST(Replay, UneditedFilesReplayTheirRunsOverManySeeds) {
  uint64_t leader_reactions = 0;  // the raft nemesis' second stream (new leaders crashed or cut off)
  for (const auto& [scenario, seeds] :
       std::vector<std::pair<std::string, uint64_t>>{{"cluster", 8}, {"groups", 8}, {"broker", 2}, {"raft", 10}}) {
    RunOptions o;
    o.scenario = scenario;
    o.fault_ms = 10'000;
    o.quiet_ms = 20'000;
    for (uint64_t seed = 1; seed <= seeds; ++seed) {
      const RunResult recorded = run_one(o, seed, LogLevel::off);
      std::vector<FaultEvent> events;
      for (const std::string& line : recorded.schedule) events.push_back(FaultEvent::parse(line).value());
      for (const FaultEvent& e : events) leader_reactions += e.kind.ends_with("-new-leader") ? 1 : 0;
      RunOptions replay = o;
      replay.replay_events = &events;
      EXPECT_EQ(run_one(replay, seed, LogLevel::off).trace_hash, recorded.trace_hash) << scenario << " seed " << seed;
    }
  }
  EXPECT_GT(leader_reactions, 0u) << "no raft seed reacted to a new leader: that stream went unchecked";
}

// The groups scenario on a KRaft cluster has a second stream of faults (the brokers cut off from
// each other, the coordinator's power loss): recorded and replayed with the nemesis' own.
TEST(Replay, TheGroupsClusterFaultsAreRecordedAndReplayed) {
  RunOptions o;
  o.scenario = "groups";
  o.brokers = 3;
  o.fault_ms = 20'000;
  o.quiet_ms = 20'000;
  uint64_t cluster_events = 0;
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    const RunResult recorded = run_one(o, seed, LogLevel::off);
    std::vector<FaultEvent> events;
    for (const std::string& line : recorded.schedule) events.push_back(FaultEvent::parse(line).value());
    std::vector<FaultEvent> without;  // the cluster stream dropped
    for (const FaultEvent& e : events) {
      const bool cluster_fault = e.kind == "partition-brokers" || e.kind == "power-loss-coordinator";
      cluster_events += cluster_fault ? 1 : 0;
      if (!cluster_fault) without.push_back(e);
    }
    RunOptions replay = o;
    replay.replay_events = &events;
    EXPECT_EQ(run_one(replay, seed, LogLevel::off).trace_hash, recorded.trace_hash) << "seed " << seed;
    if (without.size() == events.size()) continue;
    replay.replay_events = &without;
    const RunResult edited = run_one(replay, seed, LogLevel::off);
    EXPECT_NE(edited.trace_hash, recorded.trace_hash) << "seed " << seed;
    for (const std::string& line : edited.schedule) {
      EXPECT_EQ(line.find("partition-brokers"), std::string::npos) << "a dropped cluster fault came back: " << line;
    }
  }
  EXPECT_GT(cluster_events, 0u) << "no cluster fault drawn: the stream went unchecked";
}

// Shrinking first tries a smaller run: each step applies only where there is something smaller.
TEST(Shrink, ShapeStepsMakeTheRunSmallerWhereTheyCan) {
  RunResult r;
  r.shape = {{"brokers", 5}, {"separate_controllers", 1}};
  r.schedule = {"event 3 11.500000000 partition node=1 for_ns=100"};
  std::map<std::string, const ShapeStep*> steps;
  const std::vector<ShapeStep> all = shape_steps();
  for (const ShapeStep& s : all) steps[s.name] = &s;
  RunOptions cluster;
  cluster.scenario = "cluster";
  EXPECT_EQ(steps.at("brokers")->apply(cluster, r), std::optional<std::string>("5 -> 3 brokers"));
  EXPECT_EQ(cluster.cluster_brokers, 3);
  EXPECT_TRUE(cluster.separate_controllers);
  EXPECT_EQ(steps.at("fault time")->apply(cluster, r), std::optional<std::string>("faults for 40 s -> 14 s"));
  EXPECT_EQ(cluster.fault_ms, 14'000);
  EXPECT_FALSE(steps.at("fault time")->apply(cluster, r));  // nothing shorter left
  r.shape["brokers"] = 3;
  RunOptions three;
  three.scenario = "cluster";
  EXPECT_FALSE(steps.at("brokers")->apply(three, r));
  RunOptions broker;
  broker.scenario = "broker";
  EXPECT_EQ(steps.at("producers")->apply(broker, r), std::optional<std::string>("2 -> 1 producer"));
  EXPECT_FALSE(steps.at("producers")->apply(broker, r));
  EXPECT_FALSE(steps.at("members")->apply(broker, r));
  RunOptions groups;
  groups.scenario = "groups";
  EXPECT_EQ(steps.at("members")->apply(groups, r), std::optional<std::string>("3 -> 2 members"));
  // Fewer records: a slower pace for the producers, or for the raft scenario's leader.
  EXPECT_EQ(steps.at("records")->apply(groups, r), std::optional<std::string>("drawn send rate -> 2 sends/s per producer"));
  EXPECT_EQ(groups.send_rate, 2);
  EXPECT_FALSE(steps.at("records")->apply(groups, r));
  broker.send_rate = 50;
  EXPECT_EQ(steps.at("records")->apply(broker, r), std::optional<std::string>("50 -> 2 sends/s per producer"));
  RunOptions raft;
  raft.scenario = "raft";
  EXPECT_EQ(steps.at("records")->apply(raft, r), std::optional<std::string>("appends every 2-30 ms -> every 100 ms"));
  EXPECT_EQ(raft.raft_pause_ms, 100);
  EXPECT_FALSE(steps.at("records")->apply(raft, r));
  EXPECT_EQ(steps.at("fault time")->apply(raft, r), std::optional<std::string>("faults for 30 s -> 14 s"));
  RunOptions demo;
  demo.scenario = "log-demo";
  EXPECT_FALSE(steps.at("records")->apply(demo, r));
}

// A planted groups bug (a coordinator accepting a stale generation's commit) found with client
// crashes and pauses shrinks to a schedule of a few events that still fails the same check.
TEST(Shrink, APlantedGroupsBugShrinksToAFewEventsThatStillFail) {
  RunOptions o;
  o.scenario = "groups";
  o.bugs = {"accept-stale-generation"};
  o.faults = {"crash-client", "pause-client"};
  const RunResult r = run_one(o, 1, LogLevel::off);
  ASSERT_FALSE(r.ok()) << "the planted bug's first seed (planted_bugs.md) no longer fails";
  ASSERT_NE(r.find("stale-commit"), nullptr);
  ASSERT_FALSE(r.find("stale-commit")->ok());
  std::vector<FaultEvent> events;
  for (const std::string& line : r.schedule) {
    std::optional<FaultEvent> e = FaultEvent::parse(line);
    ASSERT_TRUE(e) << line;
    events.push_back(*e);
  }
  auto fails = [&](const std::vector<FaultEvent>& candidate) {
    RunOptions c = o;
    c.replay_events = &candidate;
    const RunResult run = run_one(c, 1, LogLevel::off);
    const CheckResult* check = run.find("stale-commit");
    return check != nullptr && !check->ok();
  };
  const ShrinkResult s = shrink_schedule(events, fails, 200);
  EXPECT_FALSE(s.budget_exhausted);
  EXPECT_LT(s.events.size(), events.size() / 4);
  EXPECT_TRUE(fails(s.events));
  // Minimal: no single event of it can go.
  for (size_t i = 0; i < s.events.size(); ++i) {
    std::vector<FaultEvent> less = s.events;
    less.erase(less.begin() + static_cast<long>(i));
    EXPECT_FALSE(fails(less)) << "event " << i << " of the shrunk schedule was not needed";
  }
}

}  // namespace
}  // namespace samsa::sim
