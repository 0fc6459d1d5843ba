// A campaign's results: one JSON line per seed (what any batch engine can collect and merge)
// and the summary samsa-sim prints at the end, built only from those lines, so a campaign run
// in one process and one split into shards and merged (`--merge`) print the same table.
//
// Seed line: {"seed", "scenario", "ok", "trace_hash" (16 hex digits), "simulated_s", "steps",
// "acked", "rng_digest", "checks": [{"name", "ok", "vacuous", "examined", "anomalies", "summary"}],
// "buggify": {site: [enabled, fired]}, "replay" (the command), "report" (the verdict as
// samsa-sim prints it, for failed seeds), "range" ("A..B", the campaign's), "shard" ("K/N")}.
//
// Plain values; any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "sim/campaign/run.h"

namespace samsa::sim {

// Seeds first..last, both included. "--seeds N" (N seeds from --seed) or "--seeds A..B".
struct SeedRange {
  uint64_t first = 1, last = 1;
  static constexpr uint64_t kSeedsMax = 10'000'000;

  uint64_t count() const { return last - first + 1; }
  std::string to_string() const { return std::to_string(first) + ".." + std::to_string(last); }
  // nullopt (and *error) for anything else, an empty range or more than kSeedsMax seeds.
  static std::optional<SeedRange> parse(const std::string& spec, uint64_t from_seed, std::string* error);
};

// "K/N": the seeds whose position in the range is K modulo N.
struct Shard {
  uint64_t index = 0, count = 1;
  bool holds(const SeedRange& r, uint64_t seed) const { return (seed - r.first) % count == index; }
  std::string to_string() const { return std::to_string(index) + "/" + std::to_string(count); }
  static std::optional<Shard> parse(const std::string& spec, std::string* error);
};

// `with_report`: include the printed verdict also when the seed passed.
nlohmann::json seed_record(const RunOptions& o, const RunResult& r, const SeedRange& range, const Shard& shard,
                           bool with_report = false);

class Summary {
 public:
  // nullopt, or why the line is not a seed record.
  std::optional<std::string> add(const nlohmann::json& record);
  uint64_t runs() const { return runs_; }
  uint64_t failures() const { return failures_; }
  double simulated_s() const { return simulated_s_; }
  // Seeds of the records' ranges that no record covers, and seeds seen more than once.
  std::set<uint64_t> missing() const;
  const std::set<uint64_t>& repeated() const { return repeated_; }
  // The table: runs, failures, speed (when wall_s > 0), per check (failed, vacuous, examined,
  // first failing seed's replay command), per buggify site.
  std::string table(double wall_s) const;

 private:
  struct PerCheck {
    uint64_t failed = 0, vacuous = 0, examined = 0;
    uint64_t first_failing_seed = UINT64_MAX;
    std::string first_replay;
  };
  struct PerSite {
    uint64_t reached = 0, enabled = 0, fired = 0;
  };
  std::map<std::string, PerCheck> checks_;
  std::map<std::string, PerSite> sites_;
  std::set<uint64_t> seen_, repeated_;
  std::set<std::string> ranges_;
  uint64_t runs_ = 0, failures_ = 0;
  double simulated_s_ = 0;
};

}  // namespace samsa::sim
