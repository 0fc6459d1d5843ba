// How each planted bug (src/runtime/planted_bugs.h) is hunted: the scenario that can see it,
// the swarm choices it needs pinned (durability bugs need acknowledged-means-synced), the fault
// kinds that expose it, and the checks expected to fail. `samsa-sim --planted-bugs` runs every
// plan over a range of seeds, with the bug and without it, and prints the table that
// experiments/results/planted_bugs.md records.
#pragma once

#include <string>
#include <vector>

#include "runtime/planted_bugs.h"
#include "sim/checkers/verdict.h"
#include "sim/scenarios/nemesis.h"

namespace samsa::sim {

struct PlantedBugPlan {
  Bug bug;
  std::string scenario;                // "broker" or "groups"
  std::vector<std::string> pins;       // broker scenario settings
  std::vector<Fault> faults;           // the nemesis' kinds (empty: every kind)
  std::vector<std::string> expect;     // checks that should notice it
  bool durability = false;             // a loss of acknowledged data: caught in >= 90% of seeds
  int brokers = 0;                     // groups scenario: 3 runs it on a KRaft cluster (--brokers 3)
  uint64_t first_seed = 1;             // where the CI-sized search starts (a rare catch: a seed known to)
};

const std::vector<PlantedBugPlan>& planted_bug_plans();
const PlantedBugPlan* plan_for(Bug bug);

// One seed of a plan with the scenario's default timings, with or without its bug.
RunResult run_plan(const PlantedBugPlan& plan, uint64_t seed, bool with_bug);

// Whether a run failed one of the checks the plan expects to notice its bug.
bool caught_as_expected(const PlantedBugPlan& plan, const RunResult& run);

}  // namespace samsa::sim
