#include "broker/offsets_store.h"

#include <set>

namespace samsa::broker {

using kafka::Error;

Error ReplicatedOffsetsStore::append(int32_t partition, int32_t leader_epoch, ConstBytes batch, bool durable) {
  std::shared_ptr<replication::Partition> p;
  std::shared_ptr<PartitionLog> log;
  const Error e = partitions_.leader({groups::GroupCoordinator::kOffsetsTopic, partition}, &p, &log, leader_epoch);
  if (e == Error::kafka_storage_error) return Error::coordinator_not_available;
  if (e != Error::none) return Error::not_coordinator;  // led elsewhere now, or in another epoch
  // Kafka's coordinator maps NOT_ENOUGH_REPLICAS (and a timeout) to COORDINATOR_NOT_AVAILABLE.
  if (!p->enough_in_sync()) return Error::coordinator_not_available;
  Result<AppendResult> r = log->append(batch, leader_epoch);
  if (!r.ok()) return Error::coordinator_not_available;
  // The append suspended: if leadership moved meanwhile (even back to this broker, whose new
  // load may have read the log before this batch landed), the batch's fate is another
  // coordinator's. The answer is uncertain, which NOT_COORDINATOR tells the client.
  if (p->role() != replication::Role::leader || p->leader_epoch().value != leader_epoch) return Error::not_coordinator;
  (void)p->advance_high_watermark();  // a lone replica's moves at once
  p->appended();
  if (!durable) return Error::none;
  const Status s = p->wait_for_high_watermark(r->last_offset, model::LeaderEpoch{leader_epoch}, rt_.after(commit_timeout_));
  if (s.ok()) return Error::none;
  return s.code() == Errc::unavailable ? Error::not_coordinator : Error::coordinator_not_available;
}

const controller::PartitionState* offsets_partition_of(const controller::MetadataImage& image, const std::string& group_id,
                                                       int32_t* index) {
  const controller::TopicImage* t = image.topic(groups::GroupCoordinator::kOffsetsTopic);
  if (t == nullptr || t->partitions.empty()) return nullptr;
  *index = groups::partition_for(group_id, static_cast<int32_t>(t->partitions.size()));
  return &t->partitions[static_cast<size_t>(*index)];
}

void follow_offsets_leadership(const replication::PartitionTable& partitions, int32_t partition_count,
                               groups::GroupCoordinator& groups) {
  std::set<int32_t> led;
  if (partition_count > 0) {
    for (const auto& [tp, p] : partitions.all()) {
      if (tp.topic != groups::GroupCoordinator::kOffsetsTopic || p->role() != replication::Role::leader) continue;
      if (tp.partition < 0 || tp.partition >= partition_count) continue;
      Result<std::shared_ptr<PartitionLog>> log = p->log();
      if (!log.ok()) continue;  // offline: not served until the log manager reopens it
      led.insert(tp.partition);
      groups.elect(tp.partition, partition_count, p->leader_epoch().value, *log);
    }
  }
  for (const auto& [partition, epoch] : groups.hosted()) {
    if (led.count(partition) == 0) groups.resign(partition);
  }
}

}  // namespace samsa::broker
