// Runs a campaign: the seeds of a range (or of one shard of it) in `jobs` worker processes
// forked from this one, each seed's record (results.h) handed to the caller as it finishes.
// Processes, not threads: a run that trips an always-on assert aborts only its worker; the seed
// is reported failed ("aborted") and a new worker goes on with the rest of that worker's seeds.
// A worker runs its seeds in order, and each seed's run is the same whichever worker runs it
// (the simulation depends on the seed alone), so the records do not depend on `jobs`.
//
// With check_determinism every seed runs twice in its worker and the record carries a
// `determinism` check that fails on any difference of trace hash, randomness digest, steps or
// verdicts (FoundationDB's unseed check).
//
// Threading: the calling thread; on_record runs on it. Uses fork/pipe/poll (sim/ may; src/ not).
// The wall clock is read for the progress line only, never by a simulation.
#pragma once

#include <functional>

#include "sim/campaign/results.h"

namespace samsa::sim {

struct CampaignPlan {
  static constexpr int kJobsMax = 256;

  SeedRange range;
  Shard shard;
  int jobs = 1;
  bool check_determinism = false;
  bool with_reports = false;  // the printed verdict in every record, not only failed ones
  bool progress = false;      // a progress line on stderr (seeds done, failed, rate, time left)
  LogLevel level = LogLevel::off;
};

using RecordSink = std::function<void(const nlohmann::json&)>;

// The seeds the plan's shard holds, in order.
std::vector<uint64_t> shard_seeds(const CampaignPlan& plan);
// One seed as a campaign runs it (twice with check_determinism).
nlohmann::json run_seed(const RunOptions& o, const CampaignPlan& plan, uint64_t seed);
// The record of a seed whose run never reported: `why` is how its process ended.
nlohmann::json aborted_record(const RunOptions& o, const CampaignPlan& plan, uint64_t seed, const std::string& why);
// The second run of a seed against the first: fails on any difference.
CheckResult determinism_check(const RunResult& first, const RunResult& second);
// Runs every seed of the shard with run_seed(); false when a worker could not be started.
bool run_campaign(const RunOptions& o, const CampaignPlan& plan, const RecordSink& on_record);
// The same with any seed function (the tests give one that crashes): `run` makes a seed's
// record in a worker, `aborted` the record of a seed whose worker died.
bool run_campaign_with(const CampaignPlan& plan, const std::function<nlohmann::json(uint64_t)>& run,
                       const std::function<nlohmann::json(uint64_t, const std::string&)>& aborted, const RecordSink& on_record);

}  // namespace samsa::sim
