#include "sim/checkers/replication_checker.h"

#include <fmt/format.h>

#include <algorithm>

#include "runtime/assert.h"

namespace samsa::sim {

namespace {

std::string at_s(Instant t) { return fmt::format("{:.3f} s", static_cast<double>(t.ns) / 1e9); }

// The cache's epochs that cover offsets in [from, to), each starting no lower than `from`: two
// replicas with different log starts compare only what both still hold.
std::vector<std::pair<int32_t, int64_t>> covering(const std::vector<LeaderEpochCache::Entry>& epochs, int64_t from,
                                                  int64_t to) {
  std::vector<std::pair<int32_t, int64_t>> out;
  for (size_t i = 0; i < epochs.size(); ++i) {
    const int64_t next = i + 1 < epochs.size() ? epochs[i + 1].start_offset : to;
    if (next <= from || epochs[i].start_offset >= to) continue;
    out.emplace_back(epochs[i].epoch, std::max(epochs[i].start_offset, from));
  }
  return out;
}

}  // namespace

void ReplicationChecker::power_loss(Instant at, int32_t node, const std::string& topic, int32_t partition,
                                    int64_t durable_end, int64_t log_end, std::string_view cause) {
  reported_since_observe_ = true;
  // Counted whether or not it cut anything: Kafka's envelope counts machine crashes of replicas.
  // But only of replicas that held what is committed: a lagging one had nothing to lose.
  PartitionState& s = partitions_[{topic, partition}];
  if (log_end < s.committed) return;
  s.at_risk[node] = durable_end >= log_end
                        ? fmt::format("{} of node {} at {} ({}-{} all synced, at {})", cause, node, at_s(at), topic, partition, log_end)
                        : fmt::format("{} of node {} at {} (cut {}-{} from {} to {})", cause, node, at_s(at), topic, partition,
                                      log_end, durable_end);
  track_envelope(s, topic);
}

void ReplicationChecker::unclean_election(Instant at, const std::string& topic, int32_t partition, int32_t node) {
  reported_since_observe_ = true;
  PartitionState& s = partitions_[{topic, partition}];
  s.unclean = fmt::format("unclean election of node {} for {}-{} at {}", node, topic, partition, at_s(at));
}

// Kafka's promise holds while fewer than min.insync.replicas replicas are cut by power losses
// and not yet caught up; once broken it stays broken until every cut replica has caught up.
std::string ReplicationChecker::PartitionState::committed_where() const {
  return fmt::format("high watermark of node {} in epoch {} at {}", committed_node, committed_epoch, at_s(committed_at));
}

void ReplicationChecker::track_envelope(PartitionState& s, std::string_view topic) {
  auto m = min_insync_.find(std::string(topic));
  const size_t needed = static_cast<size_t>(std::max(m == min_insync_.end() ? 1 : m->second, 1));
  if (s.at_risk.empty()) {
    s.broken_by.reset();
    return;
  }
  if (s.at_risk.size() < needed || s.broken_by) return;
  std::string why;
  for (const auto& [node, fault] : s.at_risk) why += (why.empty() ? "" : " and ") + fault;
  s.broken_by = fmt::format("{} of {} replicas needed in sync cut at once: {}", s.at_risk.size(), needed, why);
}

void ReplicationChecker::judge_term(PartitionState& s, const ReplicaView& v, Instant now) {
  s.judged_epochs.insert(v.leader_epoch);
  ++completeness_.examined;
  LeaderTerm t{std::string(v.topic), v.partition, v.leader_epoch, v.node, v.epoch_start_offset, s.committed, now, std::nullopt,
               false};
  if (s.unclean) t.envelope_broken_by = s.unclean;
  else if (s.broken_by) t.envelope_broken_by = s.broken_by;
  else if (v.epoch_start_offset < s.committed && unclean_topics_.count(v.topic)) {
    t.envelope_broken_by = fmt::format("unclean.leader.election.enable=true on {}: node {} elected in epoch {} at {}", v.topic,
                                       v.node, v.leader_epoch, at_s(now));
    t.unclean = true;
  }
  if (v.epoch_start_offset < s.committed) {
    if (t.envelope_broken_by) {
      completeness_.excuse(*t.envelope_broken_by);
    } else {
      completeness_.fail(fmt::format("node {} leads {}-{} epoch {} from offset {} at {}, but {} was committed ({})", v.node,
                                     v.topic, v.partition, v.leader_epoch, v.epoch_start_offset, at_s(now), s.committed,
                                     s.committed_where()),
                         now);
    }
  }
  // What this epoch does not hold is gone (counted above): committed is what it holds now.
  s.committed = std::min(s.committed, v.epoch_start_offset);
  s.unclean.reset();
  if (terms_.size() < kTermsMax) terms_.push_back(std::move(t));
}

void ReplicationChecker::track_deposed(PartitionState& s, const ReplicaView& v, Instant now) {
  const auto key = std::make_tuple(v.node, v.incarnation, v.leader_epoch);
  auto it = s.deposed.find(key);
  if (it == s.deposed.end()) {
    if (deposed_.size() >= kTermsMax) return;
    it = s.deposed.emplace(key, deposed_.size()).first;
    deposed_.push_back(DeposedRun{std::string(v.topic), v.partition, v.node, v.incarnation, v.leader_epoch, v.log_end,
                                  v.log_end, now});
  }
  DeposedRun& run = deposed_[it->second];
  run.to_offset = std::max(run.to_offset, v.log_end);
  run.until = now;
  deposed_seen_.push_back(it->second);
}

void ReplicationChecker::unchanged(Instant now) {
  SAMSA_ASSERT(!reported_since_observe_);
  ++observations_;  // a step checked all the same
  for (size_t i : deposed_seen_) deposed_[i].until = now;
}

std::pair<const ReplicationChecker::Tp, ReplicationChecker::PartitionState>& ReplicationChecker::state_of(
    std::string_view topic, int32_t partition) {
  auto [it, fresh] = by_name_address_.try_emplace({topic.data(), partition}, nullptr);
  if (fresh) it->second = &*partitions_.try_emplace(Tp{std::string(topic), partition}).first;
  return *it->second;
}

void ReplicationChecker::observe(Instant now, const std::vector<ReplicaView>& views) {
  ++observations_;
  reported_since_observe_ = false;
  deposed_seen_.clear();
  std::vector<const ReplicaView*> replicas;
  for (size_t i = 0; i < views.size();) {
    replicas.clear();
    const ReplicaView& first = views[i];
    for (; i < views.size() && views[i].partition == first.partition && views[i].topic == first.topic; ++i) {
      replicas.push_back(&views[i]);
    }
    auto& [tp, s] = state_of(first.topic, first.partition);
    const ReplicaView* leader = nullptr;
    for (const ReplicaView* v : replicas) {
      if (v->leader && (leader == nullptr || v->leader_epoch > leader->leader_epoch)) leader = v;
    }
    if (leader != nullptr) {
      if (!s.judged_epochs.count(leader->leader_epoch)) judge_term(s, *leader, now);
      for (const ReplicaView* v : replicas) {
        if (v->leader && v->leader_epoch < leader->leader_epoch) track_deposed(s, *v, now);
      }
      auto key = std::make_tuple(leader->node, leader->incarnation, leader->leader_epoch);
      auto [it, fresh] = s.leader_hw.try_emplace(key, leader->high_watermark);
      if (!fresh && it->second != leader->high_watermark) {
        ++hw_monotonic_.examined;
        if (leader->high_watermark < it->second) {
          hw_monotonic_.fail(fmt::format("node {} leading {}-{} epoch {}: high watermark {} -> {} at {}", leader->node,
                                         tp.first, tp.second, leader->leader_epoch, it->second, leader->high_watermark,
                                         at_s(now)),
                           now);
        }
        it->second = leader->high_watermark;
      }
      if (leader->high_watermark > s.committed) {
        s.committed = leader->high_watermark;
        s.committed_at = now;
        s.committed_node = leader->node;  // formatted only when reported: HWs advance every few steps
        s.committed_epoch = leader->leader_epoch;
      }
      // A cut replica is whole again once it holds what is committed (or leads, judged above).
      for (const ReplicaView* v : replicas) {
        if (!s.at_risk.count(v->node)) continue;
        const bool caught_up = v->leader_epoch == leader->leader_epoch && v->log_end >= leader->high_watermark;
        if (v == leader || caught_up) s.at_risk.erase(v->node);
      }
      track_envelope(s, tp.first);
    }
    uint64_t shape = 1469598103934665603ULL;
    for (const ReplicaView* v : replicas) {
      for (int64_t x : {int64_t{v->node}, v->log_start, v->log_end, static_cast<int64_t>(v->epochs ? v->epochs->size() : 0)}) {
        shape = (shape ^ static_cast<uint64_t>(x)) * 1099511628211ULL;
      }
    }
    if (shape != s.shape) {
      s.shape = shape;
      check_log_matching(replicas, now);
    }
  }
}

// For the largest epoch two replicas both start at the same offset (and both hold a batch of it),
// everything before it must be the same epochs starting at the same offsets.
void ReplicationChecker::check_log_matching(const std::vector<const ReplicaView*>& replicas, Instant now) {
  for (size_t i = 0; i < replicas.size(); ++i) {
    for (size_t j = i + 1; j < replicas.size(); ++j) {
      const ReplicaView& a = *replicas[i];
      const ReplicaView& b = *replicas[j];
      if (a.epochs == nullptr || b.epochs == nullptr) continue;
      const int64_t from = std::max(a.log_start, b.log_start);
      const int64_t to = std::min(a.log_end, b.log_end);
      std::optional<LeaderEpochCache::Entry> common;
      for (const LeaderEpochCache::Entry& e : *a.epochs) {
        if (e.start_offset < from || e.start_offset >= to) continue;
        if (std::find(b.epochs->begin(), b.epochs->end(), e) != b.epochs->end()) common = e;
      }
      if (!common) continue;
      ++matching_.examined;
      if (covering(*a.epochs, from, common->start_offset) != covering(*b.epochs, from, common->start_offset)) {
        matching_.fail(fmt::format("{}-{}: nodes {} and {} both start epoch {} at {} but differ before it", a.topic,
                                   a.partition, a.node, b.node, common->epoch, common->start_offset),
                       now);
      }
    }
  }
}

void ReplicationChecker::finish(const std::vector<ReplicaView>& views) {
  check_converged(views);
  for (auto& [tp, s] : partitions_) {
    const ReplicaView* leader = nullptr;
    for (const ReplicaView& v : views) {
      if (v.topic == tp.first && v.partition == tp.second && v.leader &&
          (leader == nullptr || v.leader_epoch > leader->leader_epoch)) {
        leader = &v;
      }
    }
    ++kept_.examined;
    if (leader != nullptr && leader->log_end >= s.committed) continue;
    const std::string what = leader == nullptr ? std::string("no leader at the end")
                                               : fmt::format("leader node {} ends at {}", leader->node, leader->log_end);
    bool excused = false;
    for (const LeaderTerm& t : terms_) {
      if (t.topic == tp.first && t.partition == tp.second && t.envelope_broken_by && t.start_offset < s.committed &&
          t.at >= s.committed_at) {
        kept_.excuse(*t.envelope_broken_by);
        excused = true;
        break;
      }
    }
    if (!excused) kept_.fail(fmt::format("{}-{}: {} but {} was committed ({})", tp.first, tp.second, what, s.committed, s.committed_where()));
  }
}

// Once faults have healed and producers stopped, every follower fetches up to its leader: a log
// that ends elsewhere, or holds other epochs at the same offsets, never will (a follower stuck
// on a batch it cannot append, or one that kept batches the leader never had).
void ReplicationChecker::check_converged(const std::vector<ReplicaView>& views) {
  for (size_t i = 0; i < views.size(); ++i) {
    const ReplicaView& leader = views[i];
    if (!leader.leader || leader.epochs == nullptr) continue;
    for (const ReplicaView& v : views) {
      if (&v == &leader || v.leader || v.topic != leader.topic || v.partition != leader.partition || v.epochs == nullptr) continue;
      ++converged_.examined;
      const int64_t from = std::max(v.log_start, leader.log_start);
      if (v.log_end == leader.log_end && covering(*v.epochs, from, v.log_end) == covering(*leader.epochs, from, v.log_end)) continue;
      std::string own, theirs;
      for (const auto& [e, o] : covering(*v.epochs, from, v.log_end)) own += fmt::format(" {}@{}", e, o);
      for (const auto& [e, o] : covering(*leader.epochs, from, leader.log_end)) theirs += fmt::format(" {}@{}", e, o);
      converged_.fail(fmt::format("{}-{}: follower {} holds [{}, {}) epochs{}; leader {} holds [{}, {}) epochs{}", v.topic,
                                  v.partition, v.node, v.log_start, v.log_end, own, leader.node, leader.log_start,
                                  leader.log_end, theirs));
    }
  }
}

std::vector<CheckResult> ReplicationChecker::results() const {
  std::vector<CheckResult> out{hw_monotonic_, completeness_, matching_, kept_, converged_};
  out[0].unit = "advances";
  out[1].unit = "leader epochs";
  out[2].unit = "comparisons";
  out[3].unit = "partitions";
  out[4].unit = "followers";
  return out;
}

}  // namespace samsa::sim
