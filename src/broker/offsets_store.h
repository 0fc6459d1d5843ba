// The replicated __consumer_offsets of a KRaft cluster, from the broker's side: the store the
// group coordinator writes through (append as the partition's leader, then wait for the ISR, as
// Kafka's coordinator appends with acks=all), and the rule that keeps the coordinator hosting
// exactly the partitions of the topic this broker leads.
//
// Threading: fibers of the broker's node. append() suspends; follow_offsets_leadership() does not.
#pragma once

#include <cstdint>

#include "controller/metadata_image.h"
#include "groups/group_coordinator.h"
#include "replication/partition.h"
#include "runtime/runtime.h"

namespace samsa::broker {

class ReplicatedOffsetsStore final : public groups::OffsetsStore {
 public:
  // `commit_timeout`: offsets.commit.timeout.ms, the longest a durable append waits for the ISR.
  ReplicatedOffsetsStore(Runtime& rt, const replication::PartitionTable& partitions, Duration commit_timeout)
      : rt_(rt), partitions_(partitions), commit_timeout_(commit_timeout) {}

  kafka::Error append(int32_t partition, int32_t leader_epoch, ConstBytes batch, bool durable) override;

 private:
  Runtime& rt_;
  const replication::PartitionTable& partitions_;
  Duration commit_timeout_;
};

// The partition of __consumer_offsets that holds `group_id` as `image` has it (Kafka's placement,
// groups::partition_for), and its index in `*index`; nullptr while the topic does not exist.
// The partition's leader is the group's coordinator.
const controller::PartitionState* offsets_partition_of(const controller::MetadataImage& image, const std::string& group_id,
                                                       int32_t* index);

// Elects the coordinator for each partition of __consumer_offsets (of `partition_count`) this
// broker leads with its log online, and resigns it from every other one. Call after each change
// of the partition table.
void follow_offsets_leadership(const replication::PartitionTable& partitions, int32_t partition_count,
                               groups::GroupCoordinator& groups);

}  // namespace samsa::broker
