// samsa-sim's campaigns (sim/campaign/): seed ranges and shards parse as documented; a seed's
// record is the same whichever number of worker processes ran it; shards merge into the whole
// campaign's summary; a worker that dies loses only the seed it was running, which is reported
// failed; the determinism check fails on a difference; --trace sees the run without changing it.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <unistd.h>

#include "sim/campaign/runner.h"
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

}  // namespace
}  // namespace samsa::sim
