// The replication checker: the invariants of the published TLA+ specifications of Kafka's
// replication protocol, checked on what every live replica holds after every simulator step.
// Pure: views in, CheckResults out; the scenario turns its nodes' partitions into views.
//
// - hw-monotonic: a leader's high watermark never goes back within its epoch (per incarnation).
// - leader-completeness: a leader holds every committed record: when a leader epoch starts, its
//   log reaches the highest high watermark any leader of the partition reported.
// - log-matching: two replicas whose leader-epoch caches start epoch E at the same offset (both
//   hold a batch of E there) agree on every epoch before E and where it starts.
// - committed-kept: at the end, after healing, the partition's leader holds everything ever
//   committed (no committed record is lost from every replica).
// - replicas-converge: at the end, with faults healed and producers stopped, every follower's
//   log ends where its leader's does, with the same epochs at the same offsets.
//
// The fault model: Kafka promises none of this once as many replicas of a partition as
// min.insync.replicas have lost power (whether or not it cut their logs; counting only replicas
// that held what was committed) before catching up again (the envelope; KAFKA-10751's question "how much did it lose?"), or after an unclean
// election. The
// scenario reports each power loss with what it cut; a leader epoch that starts while the
// envelope of its partition is broken is excused under the names of those power losses and
// recorded in terms() for the queue checker's RiskWindows.
//
// Plain object; scheduler context (the scenario calls it between steps).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "log/leader_epoch_cache.h"
#include "runtime/time.h"
#include "sim/checkers/verdict.h"

namespace samsa::sim {

struct ReplicaView {
  int32_t node = 0;
  uint64_t incarnation = 0;
  std::string_view topic;  // outlives the observation (the scenario's topic names)
  int32_t partition = 0;
  bool leader = false;
  int32_t leader_epoch = 0;
  int64_t log_start = 0, log_end = 0, high_watermark = 0;
  int64_t epoch_start_offset = 0;  // leader: its log end when this epoch began here
  bool in_isr = false;  // in the ISR as this replica's broker knows it (its metadata image)
  // The replica's leader-epoch cache; valid during observe() only.
  const std::vector<LeaderEpochCache::Entry>* epochs = nullptr;
};

// A leader epoch as first seen on its leader.
struct LeaderTerm {
  std::string topic;
  int32_t partition = 0;
  int32_t epoch = 0;
  int32_t node = 0;
  int64_t start_offset = 0;
  // The partition's committed offset (highest high watermark seen) when this epoch began: acks=1
  // may lose anything from there on at a change of leader, below start_offset too (a new leader
  // that kept an older epoch's uncommitted suffix replaces what the last leader held alone).
  int64_t committed_before = 0;
  Instant at{};
  // Set when it began outside the envelope: the faults that allow it to lose committed records.
  std::optional<std::string> envelope_broken_by;
  bool unclean = false;  // broken by an election the topic's unclean.leader.election.enable allowed
};

// A deposed leader still acting as leader: a replica seen leading an older epoch than the
// partition's newest. Until it learns of the new epoch it may acknowledge acks=1 writes alone,
// at offsets from its log end when first seen deposed up to its highest log end since; they
// are the new epoch's to replace.
struct DeposedRun {
  std::string topic;
  int32_t partition = 0;
  int32_t node = 0;
  uint64_t incarnation = 0;
  int32_t epoch = 0;        // the epoch it went on leading
  int64_t from_offset = 0;  // its log end when first seen deposed
  int64_t to_offset = 0;    // its highest log end while deposed
  Instant until{};          // last seen deposed
};

class ReplicationChecker {
 public:
  static constexpr size_t kTermsMax = 100'000;

  void set_min_insync(const std::string& topic, int32_t min_insync) { min_insync_[topic] = min_insync; }
  // A power loss of `node` with its replica of (topic, partition) at log_end, durable to
  // durable_end (equal: nothing was cut). `cause` names it in the accounting: a failed fsync
  // that drops a file's unsynced writes counts as a power loss of that one replica.
  void power_loss(Instant at, int32_t node, const std::string& topic, int32_t partition, int64_t durable_end,
                  int64_t log_end, std::string_view cause = "power loss");
  // The topic allows unclean elections: a leader epoch that starts below what was committed is
  // what that setting trades away, excused under its name.
  void allow_unclean(const std::string& topic) { unclean_topics_.insert(topic); }
  // An election that chose a replica outside the ISR.
  void unclean_election(Instant at, const std::string& topic, int32_t partition, int32_t node);
  // Every live replica after a step, the replicas of one partition next to each other.
  void observe(Instant now, const std::vector<ReplicaView>& views);
  // Whether a report since the last observe() (a power loss, an unclean election) needs one,
  // even if no replica changed.
  bool wants_observe() const { return reported_since_observe_; }
  // Instead of observe() after a step that changed no replica: what observe() would have
  // recorded of the same views (the deposed leaders it saw are still seen at `now`).
  void unchanged(Instant now);
  // After healing and a settling time without producers: the views of the end of the run.
  void finish(const std::vector<ReplicaView>& views);

  const std::vector<LeaderTerm>& terms() const { return terms_; }
  const std::vector<DeposedRun>& deposed_runs() const { return deposed_; }
  std::vector<CheckResult> results() const;
  uint64_t observations() const { return observations_; }

 private:
  using Tp = std::pair<std::string, int32_t>;
  struct PartitionState {
    int64_t committed = 0;  // highest high watermark a leader reported
    Instant committed_at{};  // when it last rose: only a later leader epoch can have lost it
    int32_t committed_node = 0, committed_epoch = 0;  // whose high watermark, in which epoch
    std::string committed_where() const;
    std::map<int32_t, std::string> at_risk;  // node -> the power loss that cut it, until it catches up
    std::optional<std::string> broken_by;    // the envelope is broken by these faults
    std::optional<std::string> unclean;      // an unclean election not yet judged
    std::set<int32_t> judged_epochs;
    std::map<std::tuple<int32_t, uint64_t, int32_t>, int64_t> leader_hw;  // (node, incarnation, epoch) -> HW
    uint64_t shape = 0;  // digest of log ends and cache sizes: log matching only when it moves
    // (node, incarnation, epoch) -> its entry in deposed_, while it leads deposed
    std::map<std::tuple<int32_t, uint64_t, int32_t>, size_t> deposed;
  };
  void track_deposed(PartitionState& s, const ReplicaView& v, Instant now);

  void track_envelope(PartitionState& s, std::string_view topic);
  void judge_term(PartitionState& s, const ReplicaView& v, Instant now);
  void check_log_matching(const std::vector<const ReplicaView*>& replicas, Instant now);
  void check_converged(const std::vector<ReplicaView>& views);

  std::map<std::string, int32_t> min_insync_;
  std::set<std::string, std::less<>> unclean_topics_;
  std::map<Tp, PartitionState> partitions_;
  // partitions_ by the address of the views' topic name: observe() runs after every step.
  std::map<std::pair<const char*, int32_t>, std::pair<const Tp, PartitionState>*> by_name_address_;
  std::pair<const Tp, PartitionState>& state_of(std::string_view topic, int32_t partition);
  std::vector<LeaderTerm> terms_;
  std::vector<DeposedRun> deposed_;  // at most kTermsMax
  CheckResult hw_monotonic_{"hw-monotonic"}, completeness_{"leader-completeness"}, matching_{"log-matching"},
      kept_{"committed-kept"}, converged_{"replicas-converge"};
  uint64_t observations_ = 0;
  bool reported_since_observe_ = false;
  std::vector<size_t> deposed_seen_;  // entries of deposed_ the last observe() saw
};

}  // namespace samsa::sim
