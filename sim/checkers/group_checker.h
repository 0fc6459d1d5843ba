// The consumer-group checker: pure functions from a recorded group history to CheckResults.
//
// - exclusive-ownership: within one generation no partition is assigned to two members.
// - stale-commit: no commit is acknowledged from a generation older than one that some member
//   had already been given when the commit was sent (zombies and removed members included).
// - resume-from-commit: a member that takes over a partition is handed the last commit that was
//   acknowledged before it asked (or one concurrent with asking) and starts reading exactly there.
// - durable-commits: after the final crash and recovery, the coordinator holds, for every
//   partition, the last acknowledged commit (or one sent after it whose outcome is unknown).
// - group-liveness: after the faults stop the group is stable, every partition is owned, and the
//   committed offsets reach the end of the log.
// - at-least-once: every acknowledged record was processed by some member.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/time.h"
#include "sim/checkers/verdict.h"

namespace samsa::sim {

struct AssignmentRecord {
  std::string member;
  int32_t generation = -1;
  Instant at{};
  std::vector<int32_t> partitions;
};

struct CommitRecord {
  enum class Outcome : uint8_t { ok, failed, indeterminate };
  std::string member;
  int32_t generation = -1;
  Instant invoked{}, completed{};
  Outcome outcome = Outcome::indeterminate;
  std::map<int32_t, int64_t> offsets;
  bool rogue = false;  // sent by a misbehaving client with a stale or removed identity
};

struct ResumeRecord {
  std::string member;
  int32_t generation = -1;
  int32_t partition = 0;
  Instant invoked{}, completed{};  // of the OffsetFetch
  int64_t committed = -1;          // what it returned (-1: nothing committed)
  int64_t first_read = -1;         // first offset read afterwards (-1: none)
};

struct GroupHistory {
  int32_t partitions = 0;
  std::vector<AssignmentRecord> assignments;
  std::vector<CommitRecord> commits;
  std::vector<ResumeRecord> resumes;
  bool final_committed_read = false;
  std::map<int32_t, int64_t> final_committed;  // after the final crash and recovery
  // Liveness, observed at the end of the quiet period.
  bool stable_at_end = false;
  std::set<int32_t> owned_at_end;
  std::map<int32_t, int64_t> committed_at_end;
  std::map<int32_t, int64_t> log_end;
  std::set<std::pair<int32_t, int64_t>> produced;   // acknowledged records
  std::set<std::pair<int32_t, int64_t>> processed;  // by any member
};

std::vector<CheckResult> check_group(const GroupHistory& history);

}  // namespace samsa::sim
