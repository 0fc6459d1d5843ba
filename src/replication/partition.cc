#include "replication/partition.h"

#include "runtime/assert.h"

namespace samsa::replication {

AppendWatch::~AppendWatch() {
  for (const std::shared_ptr<Partition>& p : watched_) p->remove_watch(this);
}

void AppendWatch::watch(std::shared_ptr<Partition> partition) {
  partition->add_watch(this);
  watched_.push_back(std::move(partition));
}

void Partition::appended() {
  for (AppendWatch* w : watches_) w->fire();
}

Partition::Partition(Runtime& rt, model::TopicPartition tp, model::BrokerId self, const LogManager& logs,
                     PartitionState state)
    : rt_(rt), tp_(std::move(tp)), self_(self), logs_(logs), state_(std::move(state)), high_watermark_changed_(rt) {
  (void)advance_high_watermark();  // a single replica's is its own log end at once
}

Result<std::shared_ptr<PartitionLog>> Partition::log() const { return logs_.get(tp_); }

void Partition::update(PartitionState next) {
  if (next.topic_id == state_.topic_id) {
    // The metadata is applied in log order: a view older than the one held is a bug upstream.
    SAMSA_ASSERT(next.leader_epoch >= state_.leader_epoch);
    SAMSA_ASSERT(next.partition_epoch >= state_.partition_epoch);
  }
  if (next.leader_epoch != state_.leader_epoch || next.leader != state_.leader) follower_log_ends_.clear();
  state_ = std::move(next);
  (void)advance_high_watermark();  // a smaller ISR may let it advance
  high_watermark_changed_.notify_all();  // acks=all waiters look again (leadership may be gone)
}

std::optional<int64_t> Partition::own_log_end() const {
  Result<std::shared_ptr<PartitionLog>> log = logs_.get(tp_);
  if (!log.ok()) return std::nullopt;
  return (*log)->high_watermark();
}

std::optional<int64_t> Partition::isr_log_end() const {
  std::optional<int64_t> end = own_log_end();
  if (!end) return std::nullopt;
  for (int32_t id : state_.isr) {
    if (id == self_.value) continue;
    auto it = follower_log_ends_.find(id);
    if (it == follower_log_ends_.end()) return std::nullopt;
    end = std::min(*end, it->second);
  }
  return end;
}

int64_t Partition::high_watermark() const {
  const std::optional<int64_t> own = own_log_end();
  return own ? std::min(high_watermark_, *own) : high_watermark_;
}

bool Partition::advance_high_watermark() {
  if (role() != Role::leader) return false;
  const size_t needed = std::min<size_t>(static_cast<size_t>(std::max(state_.min_insync_replicas, 1)), state_.replicas.size());
  if (state_.isr.size() < needed) return false;
  const std::optional<int64_t> end = isr_log_end();
  if (!end || *end <= high_watermark_) return false;
  high_watermark_ = *end;
  high_watermark_changed_.notify_all();
  return true;
}

bool Partition::record_follower_fetch(model::BrokerId replica, int64_t fetch_offset) {
  SAMSA_ASSERT(replica != self_);
  int64_t& known = follower_log_ends_[replica.value];
  known = fetch_offset;  // a follower that truncated fetches from lower: it is what it holds now
  return advance_high_watermark();
}

int64_t Partition::follower_log_end(model::BrokerId replica) const {
  auto it = follower_log_ends_.find(replica.value);
  return it == follower_log_ends_.end() ? -1 : it->second;
}

void Partition::follow_high_watermark(int64_t leader_high_watermark) {
  const std::optional<int64_t> own = own_log_end();
  high_watermark_ = own ? std::min(leader_high_watermark, *own) : leader_high_watermark;
}

Status Partition::wait_for_high_watermark(int64_t offset, Deadline deadline) {
  const model::LeaderEpoch epoch = state_.leader_epoch;
  while (high_watermark() <= offset) {
    if (role() != Role::leader || state_.leader_epoch != epoch) return Errc::unavailable;
    SAMSA_TRY(high_watermark_changed_.wait(deadline));
  }
  return Status{};
}

void PartitionTable::put(const model::TopicPartition& tp, PartitionState state) {
  auto it = partitions_.find(tp);
  if (it != partitions_.end() && it->second->state().topic_id == state.topic_id) {
    if (!(it->second->state() == state)) it->second->update(std::move(state));
    return;
  }
  partitions_[tp] = std::make_shared<Partition>(rt_, tp, self_, logs_, std::move(state));
}

std::shared_ptr<Partition> PartitionTable::find(const model::TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : it->second;
}

kafka::Error PartitionTable::leader(const model::TopicPartition& tp, std::shared_ptr<Partition>* partition,
                                    std::shared_ptr<PartitionLog>* log, int32_t current_leader_epoch) const {
  std::shared_ptr<Partition> p = find(tp);
  if (p == nullptr) return kafka::Error::unknown_topic_or_partition;
  if (current_leader_epoch >= 0 && current_leader_epoch < p->leader_epoch().value) return kafka::Error::fenced_leader_epoch;
  if (current_leader_epoch > p->leader_epoch().value) return kafka::Error::unknown_leader_epoch;
  if (p->state().leader.value < 0) return kafka::Error::leader_not_available;
  if (p->role() != Role::leader) return kafka::Error::not_leader_or_follower;
  Result<std::shared_ptr<PartitionLog>> l = p->log();
  if (!l.ok()) return l.error() == Errc::not_found ? kafka::Error::leader_not_available : kafka::Error::kafka_storage_error;
  *partition = std::move(p);
  *log = std::move(*l);
  return kafka::Error::none;
}

}  // namespace samsa::replication
