#include "server/metadata_publisher.h"

#include <fmt/format.h>

namespace samsa::server {

MetadataPublisher::MetadataPublisher(Runtime& rt, int32_t node_id, uint64_t snapshot_bytes_min, controller::ControllerBugs bugs)
    : rt_(rt), node_id_(node_id), snapshot_bytes_min_(snapshot_bytes_min), bugs_(bugs), image_({}, bugs), changed_(rt) {}

void MetadataPublisher::handle_commit(const raft::CommittedBatch& batch) {
  SAMSA_ASSERT(batch.last_offset + 1 > applied_end_);
  SAMSA_ASSERT(batch.epoch >= applied_epoch_);
  for (const std::vector<std::byte>& value : batch.records) {
    bytes_since_snapshot_ += value.size();
    Result<controller::MetadataRecord> r = controller::decode_record(value);
    Status s = r.ok() ? image_.apply(*r) : r.status();
    if (!s.ok()) {
      ++refused_records_;
      rt_.log(LogLevel::error, fmt::format("metadata log: a record in batch {}..{} does not apply: {}", batch.base_offset,
                                           batch.last_offset, errc_name(s.code())));
      continue;
    }
    ++applied_records_;
  }
  applied_end_ = batch.last_offset + 1;
  applied_epoch_ = batch.epoch;
  changed_.notify_all();
  maybe_snapshot();
}

// Between two batches the image is exactly the log before applied_end_, so a snapshot taken here
// is one Raft may cut the log at. The write suspends on disk I/O; later commits wait for it.
void MetadataPublisher::maybe_snapshot() {
  if (raft_ == nullptr || bytes_since_snapshot_ < snapshot_bytes_min_) return;
  bytes_since_snapshot_ = 0;
  Status s = raft_->snapshot(applied_end_, applied_epoch_, controller::encode_image(image_));
  if (!s.ok()) {
    rt_.log(LogLevel::warn, fmt::format("metadata snapshot at {} not written: {}", applied_end_, errc_name(s.code())));
    return;
  }
  ++snapshots_written_;
  rt_.log(LogLevel::info, fmt::format("metadata snapshot at offset {} ({} topics, {} brokers)", applied_end_,
                                      image_.topics().size(), image_.brokers().size()));
}

void MetadataPublisher::handle_load_snapshot(const raft::SnapshotImage& snapshot) {
  Result<controller::MetadataImage> image = controller::decode_image(snapshot.image, {}, bugs_);
  // Raft checked the snapshot's checksum; a snapshot that does not decode is a bug, not a fault.
  SAMSA_ASSERT(image.ok());
  image_ = std::move(*image);
  applied_end_ = snapshot.id.end_offset;
  applied_epoch_ = snapshot.id.epoch;
  bytes_since_snapshot_ = 0;
  ++snapshots_loaded_;
  changed_.notify_all();
}

void MetadataPublisher::handle_leader_change(const raft::LeaderAndEpoch& leader) {
  leader_ = leader;
  if (leader.leader_id) {
    rt_.log(LogLevel::info, fmt::format("metadata quorum: node {} leads epoch {}{}", *leader.leader_id, leader.epoch,
                                        *leader.leader_id == node_id_ ? " (this node: the active controller)" : ""));
  } else {
    rt_.log(LogLevel::info, fmt::format("metadata quorum: no leader in epoch {}", leader.epoch));
  }
  if (leader_hook_) leader_hook_(leader);
  changed_.notify_all();
}

}  // namespace samsa::server
