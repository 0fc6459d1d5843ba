#include "replication/replica_fetcher.h"

#include <algorithm>

#include <fmt/format.h>

#include <set>

#include "runtime/log.h"

namespace samsa::replication {

using namespace samsa::kafka;

ReplicaFetcher::ReplicaFetcher(Runtime& rt, model::BrokerId self, PartitionTable& partitions, LeaderChannel& channel)
    : rt_(rt), self_(self), partitions_(partitions), channel_(channel) {}

ReplicaFetcher::~ReplicaFetcher() = default;

std::vector<std::shared_ptr<Partition>> ReplicaFetcher::followed(int32_t leader) const {
  std::vector<std::shared_ptr<Partition>> out;
  for (const auto& [tp, p] : partitions_.all()) {
    if (p->role() == Role::follower && p->state().leader.value == leader) out.push_back(p);
  }
  return out;
}

void ReplicaFetcher::refresh() {
  if (stopped_) return;
  std::set<int32_t> leaders;
  for (const auto& [tp, p] : partitions_.all()) {
    if (p->role() == Role::follower && p->state().leader.value >= 0) leaders.insert(p->state().leader.value);
  }
  for (int32_t leader : leaders) {
    if (fibers_.count(leader) != 0) continue;
    fibers_[leader] = rt_.spawn(fmt::format("replica-fetcher-{}", leader), [this, leader] { fetch_loop(leader); });
  }
}

void ReplicaFetcher::stop() {
  stopped_ = true;
  std::map<int32_t, FiberId> fibers;
  fibers.swap(fibers_);
  for (const auto& [leader, fiber] : fibers) rt_.cancel(fiber);
  for (const auto& [leader, fiber] : fibers) (void)rt_.join(fiber, Deadline::never());
}

void ReplicaFetcher::fetch_loop(int32_t leader) {
  for (;;) {
    const std::vector<std::shared_ptr<Partition>> partitions = followed(leader);
    if (partitions.empty() || stopped_) break;
    Status s = fetch_once(leader, partitions);
    if (s.code() == Errc::cancelled) return;
    if (!s.ok() && rt_.sleep(kRetryBackoff).code() == Errc::cancelled) return;
  }
  fibers_.erase(leader);  // this fiber ends; refresh() starts another when needed
}

Status ReplicaFetcher::fetch_once(int32_t leader, const std::vector<std::shared_ptr<Partition>>& partitions) {
  FetchRequest req;
  req.replica_id = self_.value;  // up to v14
  req.replica_state = {.replica_id = self_.value, .replica_epoch = broker_epoch_};  // v15
  std::vector<std::pair<kafka::Uuid, std::string>> names;  // v13+ answers name topics by id
  req.max_wait_ms = kFetchMaxWaitMs;
  req.min_bytes = 1;
  req.max_bytes = kResponseBytesMax;
  req.session_epoch = -1;  // no fetch session: every partition every time
  std::map<model::TopicPartition, Asked> asked;
  for (const std::shared_ptr<Partition>& p : partitions) {
    Result<std::shared_ptr<PartitionLog>> log = p->log();
    if (!log.ok()) continue;  // offline here: nothing to copy into
    if (rt_.bug(Bug::replication_truncate_to_hw)) truncate_to_high_watermark(*p, **log);
    if (req.topics.empty() || req.topics.back().topic != p->tp().topic) {
      const kafka::Uuid id = p->topic_uuid();
      req.topics.push_back({.topic = p->tp().topic, .topic_id = id});
      names.emplace_back(id, p->tp().topic);
    }
    req.topics.back().partitions.push_back({.partition = p->tp().partition,
                                            .current_leader_epoch = p->leader_epoch().value,
                                            .fetch_offset = (*log)->log_end_offset(),
                                            // Before KIP-101 followers knew no epochs.
                                            .last_fetched_epoch = rt_.bug(Bug::replication_truncate_to_hw)
                                                                      ? -1
                                                                      : (*log)->epochs().latest_epoch().value_or(-1),
                                            .log_start_offset = (*log)->log_start_offset(),
                                            .partition_max_bytes = kPartitionBytesMax});
    asked[p->tp()] = Asked{p, p->leader_epoch().value, (*log)->log_end_offset()};
  }
  if (asked.empty()) return rt_.sleep(kRetryBackoff);
  Result<FetchResponse> resp =
      channel_.fetch(leader, req, kFetchVersion, rt_.after(kRequestTimeout + std::chrono::milliseconds(kFetchMaxWaitMs)));
  if (!resp.ok()) return resp.status();
  bool any_error = resp->error_code != 0;
  for (FetchResponse::Topic& t : resp->responses) {
    auto named = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == t.topic_id; });
    const std::string& topic = !t.topic.empty() || named == names.end() ? t.topic : named->second;
    for (FetchResponse::Partition& answer : t.partitions) {
      auto it = asked.find({topic, answer.partition_index});
      if (it == asked.end()) continue;
      any_error = any_error || answer.error_code != 0;
      // Kafka drops an answer to a fetch made in another leader epoch (this broker may lead the
      // partition by now) or from another log end (something else cut or filled the log).
      const Asked& a = it->second;
      Result<std::shared_ptr<PartitionLog>> log = a.partition->log();
      if (a.partition->role() != Role::follower || a.partition->leader_epoch().value != a.leader_epoch ||
          a.partition->state().leader.value != leader || !log.ok() || (*log)->log_end_offset() != a.fetch_offset) {
        continue;
      }
      apply(*a.partition, answer);
    }
  }
  // Errors (a leader change under way, an offline log): wait for the metadata to move on.
  return any_error ? rt_.sleep(kRetryBackoff) : Status{};
}

void ReplicaFetcher::apply(Partition& partition, FetchResponse::Partition& answer) {
  Result<std::shared_ptr<PartitionLog>> found = partition.log();
  if (!found.ok()) return;
  PartitionLog& log = **found;
  if (answer.error_code == code(Error::offset_out_of_range)) {
    if (log.log_end_offset() < answer.log_start_offset || log.log_start_offset() < answer.log_start_offset) {
      logf(rt_, LogLevel::info, "{}: behind the leader's log start {}; starting again there", partition.tp().to_string(),
           answer.log_start_offset);
      (void)log.truncate_fully_and_start_at(answer.log_start_offset);
      ++truncations_;
    }
    return;
  }
  if (answer.error_code != 0) return;
  if (answer.diverging_epoch.epoch >= 0 || answer.diverging_epoch.end_offset >= 0) {
    apply_divergence(partition, log, answer);
    return;
  }
  if (!answer.records.null && !answer.records.data().empty()) {
    // Written straight from the answer's frame: no copy of the records in user space.
    Result<AppendResult> r = log.append_replicated(answer.records.data());
    if (!r.ok()) {
      logf(rt_, LogLevel::warn, "{}: copying from the leader failed: {}", partition.tp().to_string(), errc_name(r.error()));
      return;
    }
    records_copied_ += static_cast<uint64_t>(r->records);
  }
  partition.follow_high_watermark(answer.high_watermark);
}

// Kafka before KIP-101: a follower starting a leader epoch cut its log to its high watermark
// (checkpointed, so possibly old) and fetched the rest again; a leader elected meanwhile
// could lack what was committed. Only behind the truncate-to-hw switch.
void ReplicaFetcher::truncate_to_high_watermark(Partition& partition, PartitionLog& log) {
  auto [it, fresh] = started_epochs_.try_emplace(partition.tp(), partition.leader_epoch().value);
  if (!fresh && it->second == partition.leader_epoch().value) return;
  it->second = partition.leader_epoch().value;
  const int64_t hw = std::max(partition.high_watermark(), log.log_start_offset());
  if (hw < log.log_end_offset() && log.truncate_to(hw).ok()) ++truncations_;
}

// KIP-279: the leader's log ends epoch E at O, and this log went on past it in E (or has no E):
// cut at the smaller of O and where this log's own E (or the largest epoch below it) ends, and
// fetch again, which checks the next epoch back if they still disagree.
void ReplicaFetcher::apply_divergence(Partition& partition, PartitionLog& log, const FetchResponse::Partition& answer) {
  int64_t to = std::min(answer.diverging_epoch.end_offset, log.log_end_offset());
  if (answer.diverging_epoch.epoch >= 0 && !rt_.bug(Bug::replication_naive_epoch_answer)) {
    // Where this log's own E ends (for an E older than every epoch here: where the first starts).
    const std::optional<std::pair<int32_t, int64_t>> own =
        log.epochs().end_offset_or_first_start(answer.diverging_epoch.epoch, log.log_end_offset());
    if (own) to = std::min(to, own->second);
  }
  to = std::max(to, log.log_start_offset());
  logf(rt_, LogLevel::info, "{}: diverged from the leader at epoch {} (ends at {}); truncating {} -> {}",
       partition.tp().to_string(), answer.diverging_epoch.epoch, answer.diverging_epoch.end_offset, log.log_end_offset(), to);
  if (log.truncate_to(to).ok()) ++truncations_;
}

}  // namespace samsa::replication
