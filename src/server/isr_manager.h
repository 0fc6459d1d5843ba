// IsrManager: a partition leader's side of ISR changes (Kafka's ISR shrink/expand and its
// AlterPartitionManager). Every kCheckInterval it asks each partition this broker leads which
// ISR Kafka's rules want (replication::Partition::wanted_isr: out after replica.lag.time.max.ms
// without catching up, in once caught up with the high watermark and this epoch's start) and
// sends the changes to the active controller in one AlterPartition, with the partition epoch it
// knows. The controller is the only writer of the ISR: the change takes effect when the metadata
// log brings it back (the broker's reconciliation updates the partition), and a partition keeps
// at most one change in flight until then; a refused change (a stale partition epoch, say) is
// decided again from the newer state.
//
// Threading: fibers of the node. start()/stop() from the node's main fiber; stop() before
// destruction unless the node crashed.
#pragma once

#include <chrono>
#include <map>

#include "broker/cluster_view.h"
#include "replication/partition.h"
#include "runtime/runtime.h"
#include "server/metadata_publisher.h"

namespace samsa::server {

class IsrManager {
 public:
  static constexpr Duration kCheckInterval = std::chrono::milliseconds(500);
  static constexpr size_t kPartitionsPerRequestMax = 1000;

  IsrManager(Runtime& rt, broker::ClusterView& cluster, const MetadataPublisher& metadata,
             replication::PartitionTable& partitions, Duration lag_max)
      : rt_(rt), cluster_(cluster), metadata_(metadata), partitions_(partitions), lag_max_(lag_max) {}

  void start();
  void stop();
  uint64_t changes_sent() const { return changes_sent_; }

 private:
  void loop();
  // One AlterPartition with every wanted change not already in flight; false if none.
  bool send_changes();

  Runtime& rt_;
  broker::ClusterView& cluster_;
  const MetadataPublisher& metadata_;
  replication::PartitionTable& partitions_;
  Duration lag_max_;
  // Changes sent and accepted, by the partition epoch they were based on: not sent again until
  // the metadata moves the partition past it. At most the partitions this broker leads.
  std::map<model::TopicPartition, int32_t> in_flight_;
  FiberId fiber_ = kNoFiber;
  uint64_t changes_sent_ = 0;
};

}  // namespace samsa::server
