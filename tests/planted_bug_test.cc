// The short, CI-sized proof that the broker and group checkers can fail: every planted bug
// (src/runtime/planted_bugs.h) is caught by one of the checks its plan expects, within a small
// budget of seeds known to catch it, and the catching seed passes without the bug. A weakened
// checker (or a scenario that no longer reaches the buggy branch) fails here. The full campaign,
// with catch rates, is `samsa-sim --planted-bugs --seeds 20` (experiments/results/planted_bugs.md).
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "sim/scenarios/planted_bugs.h"

namespace samsa::sim {

// How gtest names a plan in its output.
inline void PrintTo(const PlantedBugPlan& plan, std::ostream* os) {
  *os << bug_name(plan.bug) << " (" << plan.scenario << (plan.brokers > 0 ? ", 3-node cluster" : "") << ")";
}

namespace {

// Seeds 1..kSeedsMax are tried in order; the campaign's table shows each bug's first catching
// seed well inside this budget.
constexpr uint64_t kSeedsMax = 4;

class PlantedBugTest : public ::testing::TestWithParam<PlantedBugPlan> {};

TEST_P(PlantedBugTest, CaughtByItsCheckWithinTheSeedBudget) {
  const PlantedBugPlan& plan = GetParam();
  for (uint64_t seed = plan.first_seed; seed < plan.first_seed + kSeedsMax; ++seed) {
    const RunResult with_bug = run_plan(plan, seed, true);
    if (!caught_as_expected(plan, with_bug)) continue;
    // What catches the bug is the bug: the same seed passes without it.
    const RunResult baseline = run_plan(plan, seed, false);
    EXPECT_TRUE(baseline.ok()) << "seed " << seed << " fails without " << bug_name(plan.bug);
    return;
  }
  ADD_FAILURE() << bug_name(plan.bug) << " was not caught by its expected checks in seeds " << plan.first_seed << ".."
                << plan.first_seed + kSeedsMax - 1;
}

INSTANTIATE_TEST_SUITE_P(Bugs, PlantedBugTest, ::testing::ValuesIn(planted_bug_plans()),
                         [](const ::testing::TestParamInfo<PlantedBugPlan>& param) {
                           std::string n = bug_name(param.param.bug);
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return param.param.brokers > 0 ? n + "_on_cluster" : n;
                         });

}  // namespace
}  // namespace samsa::sim
