// Shrinking a failing run to a minimal fault schedule, delta-debugging style (Zeller's ddmin):
// drop chunks of the recorded events (halves, then quarters, ... then single events) while the
// run still fails the same check, then shorten each remaining event's durations (its `*_ns`
// arguments, halved while it still fails). The result is a schedule for a replay file: replaying
// it gives the same run every time (fault_script.h), and no single event of it can be dropped
// without the failure going away.
//
// Plain function; `fails` runs whatever it likes (samsa-sim runs the scenario once per call).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/campaign/run.h"
#include "sim/scenarios/fault_script.h"

namespace samsa::sim {

struct ShrinkResult {
  std::vector<FaultEvent> events;  // the shrunk schedule
  uint64_t runs = 0;               // calls of `fails`
  bool budget_exhausted = false;   // stopped at runs_max: smaller, not minimal
};

// `fails(events)`: whether the run with these events still fails the check being shrunk. The
// caller has seen `events` fail already.
ShrinkResult shrink_schedule(std::vector<FaultEvent> events, const std::function<bool(const std::vector<FaultEvent>&)>& fails,
                             uint64_t runs_max);

// Before its schedule, a failing run's shape is made smaller where it still fails: each step
// changes the options of the run (`result`: the last failing run with them) and says what it
// changed, or returns nullopt where it does not apply. In order: the cluster down to three
// brokers, the broker scenario to one producer, the groups scenario to two members, and (last,
// so a caller may try it again after shrinking the schedule) the fault phase ended soon after
// the last fault.
struct ShapeStep {
  const char* name;
  std::optional<std::string> (*apply)(RunOptions& options, const RunResult& result);
};
std::vector<ShapeStep> shape_steps();

}  // namespace samsa::sim
