// Planted bugs: switches that restore a plausible mistake in samsa's own code, kept in the code
// on purpose so that anyone can check that the simulator's checkers notice it
// (`samsa-sim --bug NAME`, experiments/run_planted_bugs.sh). Every switch is off unless a backend
// was told otherwise; code asks `rt.bug(Bug::x)` at the one place the mistake lives.
//
// Plain values; any fiber.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace samsa {

enum class Bug : uint8_t {
  log_ack_before_sync,            // flush.messages=1 acknowledges before the fsync
  log_trust_unverified_tail,      // recovery keeps the last batch without checking its CRC
  log_keep_torn_tail,             // recovery keeps bytes after the last whole batch
  log_append_twice,               // an append of a many-record batch writes it twice
  log_skip_dir_sync,              // a new segment's directory entry is never fsynced
  broker_read_past_hw,            // fetch serves records past the high watermark
  broker_skip_batch_on_fetch,     // fetch at a segment's first batch starts at the second
  broker_error_after_append,      // a produce is answered with an error after it was appended
  broker_interleave_appends,      // a record set's batches are appended one lock hold each
  groups_accept_stale_generation, // OffsetCommit from an older generation is accepted
  groups_ack_commit_before_durable,  // OffsetCommit answered before the offsets log is fsynced
  groups_forget_commits_on_restart,  // the coordinator does not replay offsets on start
  client_overlapping_assignor,    // the range assignor gives one partition to two members
  client_consumer_rewind,         // the consumer moves back a batch after a fetch error
  client_consumer_drop_partition, // after a fetch error the consumer never fetches its last partition
  // Kafka's own historical replication bugs, their fixes switched off:
  replication_truncate_to_hw,     // KIP-101: a follower truncates to its high watermark
  replication_naive_epoch_answer, // KIP-279: divergence judged by offsets alone
  replication_no_epoch_fencing,   // KIP-320: a request's current leader epoch is not checked
  count_,
};

struct BugInfo {
  Bug bug;
  const char* name;  // as given to --bug
  const char* what;
};

inline constexpr BugInfo kBugs[] = {
    {Bug::log_ack_before_sync, "ack-before-sync", "flush.messages=1 acknowledges an append before its fsync"},
    {Bug::log_trust_unverified_tail, "trust-unverified-tail", "recovery trusts the last batch without its CRC"},
    {Bug::log_keep_torn_tail, "keep-torn-tail", "recovery keeps the torn bytes after the last whole batch"},
    {Bug::log_append_twice, "append-twice", "a many-record batch is written to the log twice"},
    {Bug::log_skip_dir_sync, "skip-dir-sync", "a new segment's directory entry is never fsynced"},
    {Bug::broker_read_past_hw, "read-past-hw", "fetch serves records past the high watermark"},
    {Bug::broker_skip_batch_on_fetch, "skip-batch-on-fetch", "fetch at a segment's first batch skips it"},
    {Bug::broker_error_after_append, "error-after-append", "a produce that was appended is answered with an error"},
    {Bug::broker_interleave_appends, "interleave-appends", "the batches of one record set are appended one at a time"},
    {Bug::groups_accept_stale_generation, "accept-stale-generation", "a commit from an older generation is accepted"},
    {Bug::groups_ack_commit_before_durable, "ack-commit-before-durable", "a commit is acknowledged before it is fsynced"},
    {Bug::groups_forget_commits_on_restart, "forget-commits-on-restart", "committed offsets are not replayed on start"},
    {Bug::client_overlapping_assignor, "overlapping-assignor", "the range assignor gives a partition to two members"},
    {Bug::client_consumer_rewind, "consumer-rewind", "the consumer moves back one batch after a fetch error"},
    {Bug::client_consumer_drop_partition, "consumer-drop-partition",
     "after a fetch error the consumer leaves its last partition out of every later fetch"},
    {Bug::replication_truncate_to_hw, "truncate-to-hw",
     "Kafka before KIP-101: a follower truncates its log to its high watermark when it starts following a leader epoch"},
    {Bug::replication_naive_epoch_answer, "naive-epoch-answer",
     "Kafka before KIP-279: a follower's divergence is judged by offsets alone, not by the epochs at them"},
    {Bug::replication_no_epoch_fencing, "no-epoch-fencing",
     "Kafka before KIP-320: Fetch, ListOffsets and OffsetForLeaderEpoch ignore the requester's current leader epoch"},
};
static_assert(std::size(kBugs) == static_cast<size_t>(Bug::count_));

inline std::optional<Bug> bug_by_name(std::string_view name) {
  for (const BugInfo& b : kBugs) {
    if (name == b.name) return b.bug;
  }
  return std::nullopt;
}

// Bugs that only a replicated cluster can show (the cluster scenario's).
inline constexpr bool replicated_only(Bug bug) {
  return bug == Bug::replication_truncate_to_hw || bug == Bug::replication_naive_epoch_answer ||
         bug == Bug::replication_no_epoch_fencing;
}

inline const char* bug_name(Bug bug) { return kBugs[static_cast<size_t>(bug)].name; }

class BugSet {
 public:
  constexpr BugSet() = default;
  constexpr bool has(Bug b) const { return (bits_ >> static_cast<unsigned>(b) & 1u) != 0; }
  constexpr void add(Bug b) { bits_ |= uint64_t{1} << static_cast<unsigned>(b); }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr uint64_t bits() const { return bits_; }

 private:
  static_assert(static_cast<size_t>(Bug::count_) <= 64);
  uint64_t bits_ = 0;
};

}  // namespace samsa
