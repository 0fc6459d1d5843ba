// StepProfile: where a run's steps go, for `samsa-sim --profile`. A step is a fiber's turn or a
// due event (a timer that wakes a fiber, a network delivery, a disk completion); the profile
// counts them by kind and by the fiber's name with its numbers masked ("conn-#-worker"), so
// one table covers every connection. It reads the trace sink only and never changes the run.
//
// Contract: one run, one thread (the simulator's); print() after the run.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "sim/world/simulator.h"

namespace samsa::sim {

class StepProfile {
 public:
  // Chains in front of `next` (which may be empty) and counts what passes.
  TraceSink sink(TraceSink next);
  // The `rows_max` largest rows, then the rest summed, each also per simulated second (up to
  // the last traced record's time).
  void print(std::FILE* out, size_t rows_max = 30) const;
  uint64_t steps() const { return steps_; }

 private:
  void count(const TraceEvent& e);

  std::map<std::string, uint64_t> rows_;
  uint64_t steps_ = 0;
  Instant last_at_{0};
};

// "conn-17-worker" -> "conn-#-worker": a fiber's name with each run of digits masked.
std::string mask_digits(std::string_view name);

}  // namespace samsa::sim
