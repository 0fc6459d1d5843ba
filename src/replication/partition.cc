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

Partition::Partition(model::TopicPartition tp, model::BrokerId self, const LogManager& logs, PartitionState state)
    : tp_(std::move(tp)), self_(self), logs_(logs), state_(std::move(state)) {}

Result<std::shared_ptr<PartitionLog>> Partition::log() const { return logs_.get(tp_); }

void Partition::update(PartitionState next) {
  if (next.topic_id == state_.topic_id) {
    // The metadata is applied in log order: a view older than the one held is a bug upstream.
    SAMSA_ASSERT(next.leader_epoch >= state_.leader_epoch);
    SAMSA_ASSERT(next.partition_epoch >= state_.partition_epoch);
  }
  state_ = std::move(next);
}

void PartitionTable::put(const model::TopicPartition& tp, PartitionState state) {
  auto it = partitions_.find(tp);
  if (it != partitions_.end() && it->second->state().topic_id == state.topic_id) {
    if (!(it->second->state() == state)) it->second->update(std::move(state));
    return;
  }
  partitions_[tp] = std::make_shared<Partition>(tp, self_, logs_, std::move(state));
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
