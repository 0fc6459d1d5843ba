// The KRaft cluster in the simulator (sim/scenarios/cluster_scenario.h): real samsa nodes with
// the controller on the metadata quorum, under crashes, pauses, partitions and clogs. A CI-sized
// campaign passes with every check having examined something; the same seed gives the same
// trace hash twice in a process and across processes; and every check is shown to fail: each
// planted controller bug is caught by the check it breaks within a small seed budget, and that
// seed passes without the bug.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <ostream>
#include <string>

#include "sim/scenarios/cluster_scenario.h"
#include "sim_binary.h"

namespace samsa::sim {
namespace {

constexpr uint64_t kCampaignSeeds = 12;  // the 1000-seed campaign is its own test (Release only)
constexpr uint64_t kBugSeedsMax = 12;

ClusterScenarioOptions with_seed(uint64_t seed) {
  ClusterScenarioOptions o;
  o.seed = seed;
  return o;
}

TEST(ClusterScenario, CampaignPassesAndEveryCheckExamines) {
  std::map<std::string, uint64_t> examined;
  std::set<std::string> optional;  // checks that may see nothing (int-send-skip: no atomic sends here)
  for (uint64_t seed = 1; seed <= kCampaignSeeds; ++seed) {
    const RunResult r = run_cluster_scenario(with_seed(seed));
    for (const CheckResult& c : r.checks) {
      EXPECT_TRUE(c.ok()) << "seed " << seed << ": " << c.name << " " << c.summary()
                          << " (replay: samsa-sim --scenario cluster --seed " << seed << ")";
      examined[c.name] += c.examined;
      if (!c.expect_examined) optional.insert(c.name);
    }
  }
  // The controller's 6, the queue checker's 13 for each topic (acks=all, acks=1), replication's 4.
  ASSERT_EQ(examined.size(), 6u + 2 * 13u + 4u);
  for (const auto& [name, n] : examined) {
    if (optional.count(name)) continue;
    EXPECT_GT(n, 0u) << name << " examined nothing in " << kCampaignSeeds << " seeds";
  }
}

TEST(ClusterScenario, SameSeedSameTraceInProcessAndAcrossProcesses) {
  const RunResult a = run_cluster_scenario(with_seed(7));
  const RunResult b = run_cluster_scenario(with_seed(7));
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_NE(a.trace_hash, run_cluster_scenario(with_seed(8)).trace_hash);
  const std::string out = testing::run_sim_binary("--scenario cluster --seed 7");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(a.trace_hash));
  EXPECT_EQ(testing::line_with(out, "trace hash:"), std::string("trace hash: ") + hex) << out;
}

struct BugPlan {
  const char* bug;
  const char* check;  // the check that must catch it
};

// accept-stale-partition-epoch needs AlterPartition, which brokers send once they replicate
// (the next issue); properties/controller_properties.cc catches it on the pure controller.
constexpr BugPlan kPlans[] = {
    {"keep-fenced-in-isr", "fenced-broker-role"},   {"elect-outside-isr", "leader-in-isr"},
    {"reuse-partition-epoch", "partition-epoch-grows"}, {"snapshot-forgets-fencing", "image-agreement"},
    {"ack-before-commit", "acknowledged-topics"},   {"never-unfence", "cluster-liveness"},
};

void PrintTo(const BugPlan& plan, std::ostream* os) { *os << plan.bug << " (caught by " << plan.check << ")"; }

class ClusterBugTest : public ::testing::TestWithParam<BugPlan> {};

TEST_P(ClusterBugTest, CaughtByItsCheckAndTheSeedPassesWithoutIt) {
  const BugPlan& plan = GetParam();
  for (uint64_t seed = 1; seed <= kBugSeedsMax; ++seed) {
    ClusterScenarioOptions o = with_seed(seed);
    ASSERT_TRUE(o.bugs.enable(plan.bug));
    const RunResult r = run_cluster_scenario(o);
    const CheckResult* c = r.find(plan.check);
    ASSERT_NE(c, nullptr);
    if (c->anomalies == 0) continue;
    EXPECT_TRUE(run_cluster_scenario(with_seed(seed)).ok()) << "seed " << seed << " fails without " << plan.bug;
    return;
  }
  ADD_FAILURE() << plan.bug << " was not caught by " << plan.check << " in seeds 1.." << kBugSeedsMax;
}

INSTANTIATE_TEST_SUITE_P(Bugs, ClusterBugTest, ::testing::ValuesIn(kPlans), [](const ::testing::TestParamInfo<BugPlan>& p) {
  std::string n = p.param.bug;
  for (char& c : n) c = c == '-' ? '_' : c;
  return n;
});

}  // namespace
}  // namespace samsa::sim
