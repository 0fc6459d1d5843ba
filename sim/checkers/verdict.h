// What a simulator run reports: each check with how many operations it examined, how many
// anomalies it found, which of those the fault model excuses (and why), and examples; plus the
// run's summary (seed, trace hash, faults). Checkers produce CheckResults; scenarios fill the
// rest. A check that examined nothing is visible as such, and fails when it was expected to see
// something (a vacuous pass is not a pass).
//
// Plain values; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/time.h"

namespace samsa::sim {

struct CheckResult {
  static constexpr size_t kExamplesMax = 3;
  static constexpr size_t kMarksMax = 50;  // anomalies kept with their time, for a timeline

  CheckResult() = default;
  explicit CheckResult(std::string check_name) : name(std::move(check_name)) {}

  std::string name;
  uint64_t examined = 0;   // operations (or records, or steps) the check looked at
  uint64_t anomalies = 0;  // violations that count against the run
  uint64_t excused = 0;    // violations the fault model allows
  bool expect_examined = true;  // examining nothing is a failure
  std::string unit = "ops";
  std::vector<std::string> examples;
  std::map<std::string, uint64_t> excuses;  // reason -> count
  // The first kMarksMax anomalies whose checker knows when they happened (the operation's
  // invocation, or the step an invariant broke), with their text: where a timeline marks them.
  std::vector<std::pair<Instant, std::string>> marks;

  bool vacuous() const { return examined == 0; }
  bool ok() const { return anomalies == 0 && !(vacuous() && expect_examined); }
  void fail(std::string example, std::optional<Instant> at = std::nullopt);
  void excuse(const std::string& reason);
  // "ok   1234 ops" / "FAIL 2 of 1234 ops: example" / "FAIL saw nothing" / "n/a  saw nothing".
  std::string summary() const;
};

struct RunResult {
  uint64_t seed = 0;
  std::string scenario;
  uint64_t trace_hash = 0;
  uint64_t rng_digest = 0;
  Instant end_time{};
  uint64_t steps = 0;
  uint64_t acked = 0;
  uint64_t records = 0;
  std::vector<std::string> faults;    // one line per kind: "crash x3"
  std::vector<std::string> settings;  // what the swarm chose: "segment.bytes=4096"
  // What the seed drew that shrinking may make smaller ("brokers" -> 5, "separate_controllers" -> 1).
  std::map<std::string, int64_t> shape;
  std::vector<CheckResult> checks;
  std::vector<std::string> notes;     // information, never a verdict
  // The nemesis' decisions as replay-file event lines (scenarios that record them: cluster).
  std::vector<std::string> schedule;
  // Buggify sites this seed reached: site -> (enabled, times fired).
  std::map<std::string, std::pair<bool, uint64_t>> buggify;

  bool ok() const;
  const CheckResult* find(const std::string& name) const;
};

}  // namespace samsa::sim
