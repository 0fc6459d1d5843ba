#include "sim/checkers/group_checker.h"

#include <fmt/format.h>

namespace samsa::sim {

namespace {

void check_ownership(const GroupHistory& h, CheckResult& c) {
  std::map<std::pair<int32_t, int32_t>, std::string> owner;  // (generation, partition) -> member
  for (const AssignmentRecord& a : h.assignments) {
    for (int32_t p : a.partitions) {
      ++c.examined;
      auto [it, fresh] = owner.try_emplace({a.generation, p}, a.member);
      if (!fresh && it->second != a.member) {
        c.fail(fmt::format("generation {}: partition {} assigned to {} and {}", a.generation, p, it->second, a.member));
      }
    }
  }
}

// When each generation was first handed to a member.
std::map<int32_t, Instant> generation_births(const GroupHistory& h) {
  std::map<int32_t, Instant> born;
  for (const AssignmentRecord& a : h.assignments) {
    auto [it, fresh] = born.try_emplace(a.generation, a.at);
    if (!fresh) it->second = std::min(it->second, a.at);
  }
  return born;
}

void check_stale_commits(const GroupHistory& h, CheckResult& c) {
  const std::map<int32_t, Instant> born = generation_births(h);
  for (const CommitRecord& k : h.commits) {
    if (k.outcome != CommitRecord::Outcome::ok) continue;
    ++c.examined;
    for (auto it = born.upper_bound(k.generation); it != born.end(); ++it) {
      if (it->second >= k.invoked) continue;
      c.fail(fmt::format("{}commit by {} in generation {} sent at {:.3f} s, after generation {} began at {:.3f} s",
                         k.rogue ? "rogue " : "", k.member, k.generation, k.invoked.ns / 1e9, it->first, it->second.ns / 1e9));
      break;
    }
  }
}

// Values a read of partition p's committed offset, asked at [invoked, completed], may return.
std::set<int64_t> allowed_commits(const GroupHistory& h, int32_t p, Instant invoked, Instant completed) {
  const CommitRecord* last = nullptr;
  for (const CommitRecord& k : h.commits) {
    if (k.outcome != CommitRecord::Outcome::ok || k.offsets.count(p) == 0 || k.completed > invoked) continue;
    if (last == nullptr || k.completed > last->completed) last = &k;
  }
  std::set<int64_t> allowed{last == nullptr ? -1 : last->offsets.at(p)};
  for (const CommitRecord& k : h.commits) {
    const bool concurrent = k.outcome != CommitRecord::Outcome::failed && k.offsets.count(p) != 0 &&
                            k.invoked <= completed && (last == nullptr || k.invoked >= last->invoked);
    if (concurrent) allowed.insert(k.offsets.at(p));
  }
  return allowed;
}

void check_resume(const GroupHistory& h, CheckResult& c) {
  for (const ResumeRecord& r : h.resumes) {
    ++c.examined;
    const std::set<int64_t> allowed = allowed_commits(h, r.partition, r.invoked, r.completed);
    if (allowed.count(r.committed) == 0) {
      c.fail(fmt::format("{} (generation {}) was handed offset {} of partition {}; the last acknowledged commit was {}",
                         r.member, r.generation, r.committed, r.partition, *allowed.rbegin()));
    } else if (r.committed >= 0 && r.first_read >= 0 && r.first_read != r.committed) {
      c.fail(fmt::format("{} (generation {}) resumed partition {} at {}, not at the committed {}", r.member,
                         r.generation, r.partition, r.first_read, r.committed));
    }
  }
}

void check_durable_commits(const GroupHistory& h, CheckResult& c) {
  std::set<int32_t> committed;
  for (const CommitRecord& k : h.commits) {
    if (k.outcome != CommitRecord::Outcome::ok) continue;
    for (const auto& [p, o] : k.offsets) committed.insert(p);
  }
  for (int32_t p : committed) {
    ++c.examined;
    if (!h.final_committed_read) {
      c.fail("the committed offsets could not be read after the final crash");
      return;
    }
    const std::set<int64_t> allowed = allowed_commits(h, p, Instant::max(), Instant::max());
    auto it = h.final_committed.find(p);
    const int64_t got = it == h.final_committed.end() ? -1 : it->second;
    if (allowed.count(got) == 0) {
      c.fail(fmt::format("partition {}: {} committed after recovery, but {} was acknowledged last", p, got, *allowed.rbegin()));
    }
  }
}

void check_liveness(const GroupHistory& h, CheckResult& c) {
  ++c.examined;
  if (!h.stable_at_end) c.fail("the group was not stable at the end of the quiet period");
  for (int32_t p = 0; p < h.partitions; ++p) {
    ++c.examined;
    if (h.owned_at_end.count(p) == 0) c.fail(fmt::format("partition {} owned by no member at the end", p));
    auto end = h.log_end.find(p);
    auto got = h.committed_at_end.find(p);
    const int64_t log_end = end == h.log_end.end() ? 0 : end->second;
    const int64_t committed = got == h.committed_at_end.end() ? -1 : got->second;
    if (log_end > 0 && committed != log_end) {
      c.fail(fmt::format("partition {}: committed {} of {} at the end (lag {})", p, committed, log_end, log_end - committed));
    }
  }
}

void check_at_least_once(const GroupHistory& h, CheckResult& c) {
  for (const auto& rec : h.produced) {
    ++c.examined;
    if (h.processed.count(rec) == 0) c.fail(fmt::format("record {}-{} was never processed", rec.first, rec.second));
  }
}

}  // namespace

std::vector<CheckResult> check_group(const GroupHistory& h) {
  CheckResult own{"exclusive-ownership"}, stale{"stale-commit"}, resume{"resume-from-commit"};
  CheckResult durable{"durable-commits"}, live{"group-liveness"}, once{"at-least-once"};
  own.unit = "assignments";
  stale.unit = "acknowledged commits";
  resume.unit = "resumes";
  durable.unit = "partitions";
  live.unit = "conditions";
  once.unit = "acknowledged records";
  check_ownership(h, own);
  check_stale_commits(h, stale);
  check_resume(h, resume);
  check_durable_commits(h, durable);
  check_liveness(h, live);
  check_at_least_once(h, once);
  return {own, stale, resume, durable, live, once};
}

}  // namespace samsa::sim
