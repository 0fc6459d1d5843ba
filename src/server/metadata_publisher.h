// MetadataPublisher: a node's view of the metadata log. It is the RaftListener of the node's
// quorum member (voter or observer): it applies every committed metadata record to a
// MetadataImage, replaces the image with a snapshot the quorum hands it, follows leader changes
// (the active controller is the quorum's leader), and writes a snapshot of its own image every
// `snapshot_bytes_min` of applied records, so the metadata log is truncated and does not grow
// forever.
//
// Contract:
// - image() is the log applied up to applied_end() (exclusive), in log order; a record the image
//   refuses is logged and skipped (the controller writes only records that apply, so a refusal
//   is a corrupt log or a bug: counted in refused_records()).
// - Waiters on changed() are woken after every applied batch, snapshot load and leader change.
// - The leader-change hook runs synchronously on the applier fiber after every entry before the
//   new leader's epoch is applied (RaftClient's promise); it must not suspend.
//
// Threading: callbacks on the RaftClient's applier fiber; readers on any fiber of the node (a
// reference from image() is valid until the reader suspends).
#pragma once

#include <functional>
#include <optional>

#include "controller/metadata_image.h"
#include "raft/raft_client.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::server {

class MetadataPublisher final : public raft::RaftListener {
 public:
  // Kafka's metadata.log.max.record.bytes.between.snapshots is 20 MiB; the node sets it.
  MetadataPublisher(Runtime& rt, int32_t node_id, uint64_t snapshot_bytes_min, controller::ControllerBugs bugs = {});

  // Before the RaftClient starts: the client to snapshot through, and who hears of leaders.
  void attach(raft::RaftClient* raft) { raft_ = raft; }
  void set_leader_hook(std::function<void(const raft::LeaderAndEpoch&)> hook) { leader_hook_ = std::move(hook); }

  void handle_commit(const raft::CommittedBatch& batch) override;
  void handle_load_snapshot(const raft::SnapshotImage& snapshot) override;
  void handle_leader_change(const raft::LeaderAndEpoch& leader) override;

  const controller::MetadataImage& image() const { return image_; }
  int64_t applied_end() const { return applied_end_; }
  const raft::LeaderAndEpoch& leader() const { return leader_; }
  WaitQueue& changed() { return changed_; }
  uint64_t applied_records() const { return applied_records_; }
  uint64_t refused_records() const { return refused_records_; }
  uint64_t snapshots_written() const { return snapshots_written_; }
  uint64_t snapshots_loaded() const { return snapshots_loaded_; }

 private:
  void maybe_snapshot();

  Runtime& rt_;
  int32_t node_id_;
  uint64_t snapshot_bytes_min_;
  controller::ControllerBugs bugs_;
  raft::RaftClient* raft_ = nullptr;
  std::function<void(const raft::LeaderAndEpoch&)> leader_hook_;
  controller::MetadataImage image_;
  int64_t applied_end_ = 0;
  int32_t applied_epoch_ = 0;  // of the last applied entry
  raft::LeaderAndEpoch leader_;
  WaitQueue changed_;
  uint64_t applied_records_ = 0;
  uint64_t refused_records_ = 0;
  uint64_t bytes_since_snapshot_ = 0;
  uint64_t snapshots_written_ = 0;
  uint64_t snapshots_loaded_ = 0;
};

}  // namespace samsa::server
