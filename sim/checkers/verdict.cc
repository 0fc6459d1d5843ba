#include "sim/checkers/verdict.h"

#include <fmt/format.h>

namespace samsa::sim {

void CheckResult::fail(std::string example, std::optional<Instant> at) {
  ++anomalies;
  if (at && marks.size() < kMarksMax) marks.emplace_back(*at, example);
  if (examples.size() < kExamplesMax) examples.push_back(std::move(example));
}

void CheckResult::excuse(const std::string& reason) {
  ++excused;
  ++excuses[reason];
}

std::string CheckResult::summary() const {
  std::string s;
  if (vacuous()) {
    s = expect_examined ? "FAIL saw nothing" : "n/a  saw nothing";
  } else if (anomalies > 0) {
    s = fmt::format("FAIL {} of {} {}", anomalies, examined, unit);
  } else {
    s = fmt::format("ok   {} {}", examined, unit);
  }
  for (const auto& [reason, n] : excuses) s += fmt::format("; {} excused: {}", n, reason);
  for (const std::string& e : examples) s += "; e.g. " + e;
  return s;
}

bool RunResult::ok() const {
  if (checks.empty()) return false;
  for (const CheckResult& c : checks) {
    if (!c.ok()) return false;
  }
  return true;
}

const CheckResult* RunResult::find(const std::string& name) const {
  for (const CheckResult& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace samsa::sim
