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
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/planted_bugs.h"

#include "sim/scenarios/cluster_scenario.h"
#include "sim/scenarios/failover_scenario.h"
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
  // No atomic (raw) sends in this scenario: int-send-skip has nothing to look at.
  const std::set<std::string> optional{"int-send-skip", "acks1:int-send-skip"};
  std::set<std::string> topologies;
  uint64_t disk_halts = 0, disk_faults = 0;
  for (uint64_t seed = 1; seed <= kCampaignSeeds; ++seed) {
    const RunResult r = run_cluster_scenario(with_seed(seed));
    topologies.insert(r.settings.front());
    for (const std::string& n : r.notes) {
      if (n.rfind("nodes halted on a disk error: ", 0) == 0) disk_halts += std::stoull(n.substr(30));
    }
    for (const std::string& f : r.faults) disk_faults += f.rfind("disk-", 0) == 0 && !f.ends_with(" x0") ? 1 : 0;
    for (const CheckResult& c : r.checks) {
      EXPECT_TRUE(c.ok()) << "seed " << seed << ": " << c.name << " " << c.summary()
                          << " (replay: samsa-sim --scenario cluster --seed " << seed << ")";
      examined[c.name] += c.examined;
    }
  }
  // The seeds drew both shapes of the metadata quorum, and more than one number of brokers.
  bool combined = false, separate = false;
  for (const std::string& t : topologies) {
    combined = combined || t.find("combined") != std::string::npos;
    separate = separate || t.find("controller-only") != std::string::npos;
  }
  EXPECT_TRUE(combined && separate && topologies.size() >= 3) << fmt::format("{}", fmt::join(topologies, "; "));
  // Disk errors were injected, and some node halted on one (as Kafka's broker does) and came back.
  EXPECT_GT(disk_faults, 0u);
  EXPECT_GT(disk_halts, 0u);
  // The controller's 6, the queue checker's 13 for each topic (acks=all, acks=1), replication's 5.
  ASSERT_EQ(examined.size(), 6u + 2 * 13u + 5u);
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

// acks=1 may lose, at a change of leader, whatever the old leader alone held: below the new
// epoch's start too when the new leader kept an older epoch's uncommitted suffix (seed 20021: node
// 3 leads epoch 2 from 1129 and acknowledges alone; node 2, holding epoch 1 up to 1151, leads epoch
// 3 from 1151), and below the committed offset when the election was unclean (seed 10020 of the
// kip-279 schedule: the unclean leader's own epoch-0 suffix replaces epoch 1's). Both once failed
// acks1:lost-write as unexcused losses; without a bug they pass, and the losses are excused.
TEST(ClusterScenario, AcksOneLossesBelowTheNewEpochsStartAreExcusedByTheLeaderChange) {
  ClusterScenarioOptions unclean = with_seed(10020);
  unclean.schedule = ClusterSchedule::kip279;
  for (const ClusterScenarioOptions& o : {with_seed(20021), unclean}) {
    const RunResult r = run_cluster_scenario(o);
    const CheckResult* lost = r.find("acks1:lost-write");
    ASSERT_NE(lost, nullptr);
    EXPECT_TRUE(r.ok()) << "seed " << o.seed;
    EXPECT_GT(lost->excused, 0u) << "seed " << o.seed << ": " << lost->summary();
  }
}

// A three-broker cluster seed at a fixed send rate passes, and `check` examined something.
void expect_three_brokers_pass(uint64_t seed, int send_rate, const char* check) {
  ClusterScenarioOptions o = with_seed(seed);
  o.topology = ClusterTopology{3, false};
  o.send_rate = send_rate;
  const RunResult r = run_cluster_scenario(o);
  const CheckResult* c = r.find(check);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(r.ok()) << c->summary();
  EXPECT_GT(c->examined, 0u);
}

// A broker that began to halt on one disk error (its metadata log's fsync) and then had a data
// log's fsync fail as well, before it stopped, came back as a clean restart: it kept its place in
// the ISR with a log the failed fsync had emptied, led again from offset 0 and lost what was
// committed (cluster --cluster-brokers 3 --send-rate 1 --seed 6, leader-completeness). Now any
// stop after a failed fsync forgets the broker epoch, and the checker counts it as a power loss.
TEST(ClusterScenario, ABrokerWhoseFsyncFailedWhileItHaltedComesBackAsAfterAPowerLoss) {
  expect_three_brokers_pass(6, 1, "leader-completeness");
}

// A broker halted on a read error, and its last flush as it stopped failed an fsync: the stop
// forgot its broker epoch, so the controller trusted none of its replicas when it came back and
// elected a shorter one; the checker, told of the halt before the stop, did not count the loss
// and failed nonmonotonic-send (found by experiments/run_sim_speed.sh).
TEST(ClusterScenario, AFsyncThatFailsAsAHaltedBrokerStopsCountsAsItsPowerLoss) {
  expect_three_brokers_pass(7, 50, "nonmonotonic-send");
}

struct BugPlan {
  const char* bug;
  std::vector<const char*> checks;  // any of these must catch it
  bool data_plane = false;          // needs the producers and consumers (replication bugs)
  uint64_t first_seed = 1;          // where the search starts (a seed known to catch it)
  ClusterSchedule schedule = ClusterSchedule::random;  // a scripted schedule the bug needs
};

// accept-stale-partition-epoch needs AlterPartition, which brokers send once they replicate
// (the next issue); properties/controller_properties.cc catches it on the pure controller.
// The controller's bugs run without the data plane (fast); Kafka's historical replication bugs
// with it, from a seed found by experiments/run_cluster_campaign.sh.
const BugPlan kPlans[] = {
    {"keep-fenced-in-isr", {"fenced-broker-role"}},   {"elect-outside-isr", {"leader-in-isr"}},
    {"reuse-partition-epoch", {"partition-epoch-grows"}}, {"snapshot-forgets-fencing", {"image-agreement"}},
    {"ack-before-commit", {"acknowledged-topics"}, false, 66},   {"never-unfence", {"cluster-liveness"}},
    {"truncate-to-hw", {"leader-completeness", "lost-write", "inconsistent-offsets"}, true, 29},
    {"no-elr", {"leader-completeness", "lost-write", "unseen", "committed-kept"}, true, 43},
    // Kafka before 0.11 elected out-of-sync replicas when no ISR member was live.
    {"unclean-election", {"leader-completeness", "lost-write", "inconsistent-offsets"}, true, 34},
    // KIP-279 needs a leader elected on a log that lacks its follower's last epoch: an unclean
    // election, which the kip-279 schedule sets up (cluster_schedules.h).
    {"naive-epoch-answer", {"replicas-converge", "log-matching"}, true, 1, ClusterSchedule::kip279},
    // KIP-320's fencing matters when a consumer's stale epoch reaches the broker that leads again
    // after a truncation: the kip-320 schedule.
    {"no-epoch-fencing", {"acks1:poll-skip"}, true, 1, ClusterSchedule::kip320},
    // A rolling restart by SIGTERM: without the controlled shutdown a broker leaves still leading.
    {"skip-controlled-shutdown", {"controlled-shutdown"}, true, 1, ClusterSchedule::controlled_shutdown},
};

void PrintTo(const BugPlan& plan, std::ostream* os) { *os << plan.bug << " (caught by " << plan.checks.front() << ")"; }

class ClusterBugTest : public ::testing::TestWithParam<BugPlan> {};

ClusterScenarioOptions with_bug(const BugPlan& plan, uint64_t seed, bool bug) {
  ClusterScenarioOptions o = with_seed(seed);
  o.data_plane = plan.data_plane;
  o.schedule = plan.schedule;
  if (!bug) return o;
  if (std::optional<Bug> b = bug_by_name(plan.bug)) {
    o.node_bugs.add(*b);
  } else {
    EXPECT_TRUE(o.bugs.enable(plan.bug));
  }
  return o;
}

TEST_P(ClusterBugTest, CaughtByItsCheckAndTheSeedPassesWithoutIt) {
  const BugPlan& plan = GetParam();
  for (uint64_t seed = plan.first_seed; seed < plan.first_seed + kBugSeedsMax; ++seed) {
    const RunResult r = run_cluster_scenario(with_bug(plan, seed, true));
    bool caught = false;
    for (const char* check : plan.checks) {
      const CheckResult* c = r.find(check);
      ASSERT_NE(c, nullptr) << check;
      caught = caught || c->anomalies > 0;
    }
    if (!caught) continue;
    std::printf("%s caught at seed %llu\n", plan.bug, static_cast<unsigned long long>(seed));
    EXPECT_TRUE(run_cluster_scenario(with_bug(plan, seed, false)).ok()) << "seed " << seed << " fails without " << plan.bug;
    return;
  }
  ADD_FAILURE() << plan.bug << " was not caught by " << plan.checks.front() << " (or the others) in seeds "
                << plan.first_seed << ".." << plan.first_seed + kBugSeedsMax - 1;
}

INSTANTIATE_TEST_SUITE_P(Bugs, ClusterBugTest, ::testing::ValuesIn(kPlans), [](const ::testing::TestParamInfo<BugPlan>& p) {
  std::string n = p.param.bug;
  for (char& c : n) c = c == '-' ? '_' : c;
  return n;
});

// The failover scenario: each kill of the partition's leader is followed by acks=all
// acknowledgements again (failover-completes), and nothing acknowledged is lost. Under the
// controller bug never-unfence no broker is ever unfenced, so no round finds a leader to kill
// or gets an acknowledgement: the check can fail.
TEST(FailoverScenario, EveryKillIsFollowedByAcknowledgementsAndNothingIsLost) {
  FailoverOptions o;
  o.rounds = 3;
  const RunResult r = run_failover_scenario(o);
  for (const CheckResult& c : r.checks) EXPECT_TRUE(c.ok()) << c.name << " " << c.summary();
  const CheckResult* completes = r.find("failover-completes");
  ASSERT_NE(completes, nullptr);
  EXPECT_EQ(completes->examined, 3u);
  ASSERT_NE(r.find("lost-write"), nullptr);
  EXPECT_GT(r.find("lost-write")->examined, 0u);
  o.bugs.enable("never-unfence");
  const RunResult bad = run_failover_scenario(o);
  ASSERT_NE(bad.find("failover-completes"), nullptr);
  EXPECT_GT(bad.find("failover-completes")->anomalies, 0u) << "never-unfence went unnoticed";
}

}  // namespace
}  // namespace samsa::sim
