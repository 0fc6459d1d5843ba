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
    : rt_(rt),
      tp_(std::move(tp)),
      self_(self),
      logs_(logs),
      state_(std::move(state)),
      topic_uuid_(kafka::Uuid::parse(state_.topic_id).value_or(kafka::Uuid{})),
      high_watermark_changed_(rt) {
  // A restarted replica starts from the high watermark it checkpointed (Kafka's rule).
  Result<std::shared_ptr<PartitionLog>> log = logs_.get(tp_);
  if (log.ok()) high_watermark_ = (*log)->checkpointed_high_watermark();
  become(true);
}

void Partition::become(bool new_epoch) {
  if (!new_epoch) return;
  followers_.clear();
  leader_since_ = rt_.now();
  Result<std::shared_ptr<PartitionLog>> log = logs_.get(tp_);
  epoch_start_offset_ = log.ok() ? (*log)->log_end_offset() : 0;
  (void)advance_high_watermark();  // a single replica's is its own log end at once
}

PartitionLog* Partition::held_log() const {
  if (held_log_.version != logs_.version()) {
    held_log_.version = logs_.version();
    held_log_.held = logs_.topic_id(tp_) != nullptr;
    std::shared_ptr<PartitionLog> found = logs_.find(tp_);
    held_log_.log = found.get();
    held_log_.shared = found;
  }
  return held_log_.log;
}

PartitionLog* Partition::online_log() const {
  PartitionLog* log = held_log();
  return log != nullptr && !log->offline() ? log : nullptr;
}

Result<std::shared_ptr<PartitionLog>> Partition::log() const {
  PartitionLog* online = online_log();
  if (!held_log_.held) return Errc::not_found;
  if (online == nullptr) return Errc::unavailable;
  std::shared_ptr<PartitionLog> log = held_log_.shared.lock();
  SAMSA_ASSERT(log.get() == online);  // logs_ holds it while its version stays
  return log;
}

void Partition::update(PartitionState next) {
  if (next.topic_id == state_.topic_id) {
    // The metadata is applied in log order: a view older than the one held is a bug upstream.
    SAMSA_ASSERT(next.leader_epoch >= state_.leader_epoch);
    SAMSA_ASSERT(next.partition_epoch >= state_.partition_epoch);
  }
  const bool new_epoch = next.leader_epoch != state_.leader_epoch || next.leader != state_.leader;
  if (next.partition_epoch != state_.partition_epoch || next.topic_id != state_.topic_id) requested_isr_.clear();
  if (next.isr != state_.isr) isr_changed_at_ = rt_.now();
  if (next.topic_id != state_.topic_id) topic_uuid_ = kafka::Uuid::parse(next.topic_id).value_or(kafka::Uuid{});
  state_ = std::move(next);
  become(new_epoch);
  (void)advance_high_watermark();  // a smaller ISR may let it advance
  high_watermark_changed_.notify_all();  // acks=all waiters look again (leadership may be gone)
}

std::optional<int64_t> Partition::own_log_end() const {
  const PartitionLog* log = online_log();
  if (log == nullptr) return std::nullopt;
  return log->high_watermark();
}

std::optional<int64_t> Partition::isr_log_end() const {
  std::optional<int64_t> end = own_log_end();
  if (!end) return std::nullopt;
  for (const std::vector<int32_t>* members : {&state_.isr, &requested_isr_}) {
    for (int32_t id : *members) {
      if (id == self_.value) continue;
      auto it = followers_.find(id);
      if (it == followers_.end() || it->second.log_end < 0) return std::nullopt;
      end = std::min(*end, it->second.log_end);
    }
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
  note_high_watermark();
  high_watermark_changed_.notify_all();
  return true;
}

bool Partition::record_follower_fetch(model::BrokerId replica, int64_t fetch_offset, int64_t broker_epoch) {
  SAMSA_ASSERT(replica != self_);
  Follower& f = followers_[replica.value];
  f.log_end = fetch_offset;
  f.broker_epoch = broker_epoch;  // a follower that truncated fetches from lower: it is what it holds now
  const PartitionLog* log = online_log();
  const int64_t leader_end = log != nullptr ? log->log_end_offset() : -1;
  const Instant now = rt_.now();
  // Kafka's rule: caught up now if it reached the log end; else as of its previous fetch if it
  // reached what the log end was then.
  if (fetch_offset >= leader_end) {
    f.caught_up_at = now;
  } else if (f.leader_end_at_last_fetch >= 0 && fetch_offset >= f.leader_end_at_last_fetch) {
    f.caught_up_at = f.last_fetch;
  }
  f.last_fetch = now;
  f.leader_end_at_last_fetch = leader_end;
  return advance_high_watermark();
}

int64_t Partition::follower_log_end(model::BrokerId replica) const {
  auto it = followers_.find(replica.value);
  return it == followers_.end() ? -1 : it->second.log_end;
}

int64_t Partition::follower_broker_epoch(model::BrokerId replica) const {
  auto it = followers_.find(replica.value);
  return it == followers_.end() ? -1 : it->second.broker_epoch;
}

std::optional<std::vector<int32_t>> Partition::wanted_isr(Duration lag_max) const {
  if (role() != Role::leader) return std::nullopt;
  const Instant now = rt_.now();
  const int64_t hw = high_watermark();
  std::vector<int32_t> wanted;
  for (int32_t id : state_.replicas) {
    if (id == self_.value) {
      wanted.push_back(id);
      continue;
    }
    auto it = followers_.find(id);
    const bool member = std::find(state_.isr.begin(), state_.isr.end(), id) != state_.isr.end();
    if (member) {
      const Instant caught_up = it != followers_.end() ? std::max(it->second.caught_up_at, leader_since_) : leader_since_;
      if (now - caught_up <= lag_max) wanted.push_back(id);
    } else if (it != followers_.end() && it->second.last_fetch > isr_changed_at_ && it->second.log_end >= hw &&
               it->second.log_end >= epoch_start_offset_) {
      wanted.push_back(id);
    }
  }
  std::vector<int32_t> current = state_.isr;
  std::vector<int32_t> sorted_wanted = wanted;
  std::sort(current.begin(), current.end());
  std::sort(sorted_wanted.begin(), sorted_wanted.end());
  if (current == sorted_wanted) return std::nullopt;
  return wanted;
}

void Partition::follow_high_watermark(int64_t leader_high_watermark) {
  const std::optional<int64_t> own = own_log_end();
  high_watermark_ = own ? std::min(leader_high_watermark, *own) : leader_high_watermark;
  note_high_watermark();
}

void Partition::note_high_watermark() {
  if (PartitionLog* log = online_log()) log->note_high_watermark(high_watermark_);
}

Status Partition::wait_for_high_watermark(int64_t offset, model::LeaderEpoch epoch, Deadline deadline) {
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
  ++version_;
}

std::shared_ptr<Partition> PartitionTable::find(const model::TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : it->second;
}

kafka::Error PartitionTable::leader(const model::TopicPartition& tp, std::shared_ptr<Partition>* partition,
                                    std::shared_ptr<PartitionLog>* log, int32_t current_leader_epoch) const {
  std::shared_ptr<Partition> p = find(tp);
  if (p == nullptr) return kafka::Error::unknown_topic_or_partition;
  // KIP-320's fencing: a requester that knows an older epoch is fenced, a newer one waits for
  // this broker to learn it. Off behind the no-epoch-fencing switch (Kafka before KIP-320).
  const bool fencing = !rt_.bug(Bug::replication_no_epoch_fencing);
  if (fencing && current_leader_epoch >= 0 && current_leader_epoch < p->leader_epoch().value) {
    return kafka::Error::fenced_leader_epoch;
  }
  if (fencing && current_leader_epoch > p->leader_epoch().value) return kafka::Error::unknown_leader_epoch;
  if (p->state().leader.value < 0) return kafka::Error::leader_not_available;
  if (p->role() != Role::leader) return kafka::Error::not_leader_or_follower;
  Result<std::shared_ptr<PartitionLog>> l = p->log();
  if (!l.ok()) return l.error() == Errc::not_found ? kafka::Error::leader_not_available : kafka::Error::kafka_storage_error;
  *partition = std::move(p);
  *log = std::move(*l);
  return kafka::Error::none;
}

}  // namespace samsa::replication
