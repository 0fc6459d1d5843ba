// The partition log under injected disk faults in the simulator: EIO takes it offline and
// nothing more is acknowledged; ENOSPC fails one append and corrupts nothing.
#include <gtest/gtest.h>

#include <functional>

#include "log/checkpoint_file.h"
#include "log/partition_log.h"
#include "sim/world/sim_disk.h"
#include "sim/world/simulator.h"

namespace samsa::sim {
namespace {

std::vector<std::byte> one_batch(int64_t ts) {
  BatchBuilder b(ts);
  b.add(ts, std::nullopt, as_bytes("value-" + std::to_string(ts)));
  return b.build();
}

// Runs body on a simulated node and returns once it finished.
void on_node(uint64_t seed, const std::function<void(Simulator&, Runtime&, SimDisk&)>& body) {
  Simulator sim(SimOptions{seed, LogLevel::error, false, {}});
  bool done = false;
  NodeId n = sim.add_node("n1", [&](Runtime& rt) {
    body(sim, rt, *sim.node(rt.node_id()).disk);
    done = true;
  });
  sim.start(n);
  while (!done && sim.step()) {
  }
  ASSERT_TRUE(done);
}

// Runs `before` on a node's log, cuts the node's power, reopens the log and returns its end.
int64_t log_end_after_power_loss(uint64_t seed, const LogConfig& config,
                                 const std::function<void(Runtime&, SimDisk&, PartitionLog&)>& before) {
  Simulator sim(SimOptions{seed, LogLevel::error, false, {}});
  bool reopened = false, done = false;
  int64_t end = -1;
  NodeId n = sim.add_node("n1", [&](Runtime& rt) {
    auto log = PartitionLog::open(rt, "d/t-0", config);
    EXPECT_TRUE(log.ok());
    if (log.ok() && !reopened) before(rt, *sim.node(rt.node_id()).disk, **log);
    if (log.ok() && reopened) end = (*log)->log_end_offset();
    done = true;
  });
  for (int run = 0; run < 2; ++run) {
    done = false;
    sim.start(n);
    while (!done && sim.step()) {
    }
    EXPECT_TRUE(done);
    sim.crash(n);
    reopened = true;
  }
  return end;
}

TEST(LogFaults, EioOnWriteTakesTheLogOffline) {
  on_node(1, [](Simulator&, Runtime& rt, SimDisk& disk) {
    auto log = PartitionLog::open(rt, "d/t-0", LogConfig{});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->append(one_batch(1), 0).ok());
    disk.fail_next(DiskOp::write, "d/t-0/0");
    EXPECT_EQ((*log)->append(one_batch(2), 0).error(), Errc::io_error);
    EXPECT_TRUE((*log)->offline());
    EXPECT_EQ((*log)->append(one_batch(3), 0).error(), Errc::unavailable) << "no append after a disk error";
    EXPECT_EQ((*log)->read_slice(0, 100).error(), Errc::unavailable);
    EXPECT_EQ((*log)->flush().code(), Errc::unavailable);
  });
}

TEST(LogFaults, EioOnSyncTakesTheLogOfflineAndRecoveryKeepsWhatWasFlushed) {
  bool offline_seen = false;
  LogConfig c;
  c.flush_messages = 1;
  const int64_t end_after_restart = log_end_after_power_loss(2, c, [&](Runtime&, SimDisk& disk, PartitionLog& log) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log.append(one_batch(i), 0).ok());
    disk.fail_next(DiskOp::sync, "d/t-0/0");
    EXPECT_EQ(log.append(one_batch(5), 0).error(), Errc::io_error);
    offline_seen = log.offline();
    EXPECT_EQ(log.append(one_batch(6), 0).error(), Errc::unavailable);
  });
  EXPECT_TRUE(offline_seen);
  EXPECT_GE(end_after_restart, 5) << "records flushed before the EIO were lost";
  EXPECT_LE(end_after_restart, 6);
}

TEST(LogFaults, EnospcFailsTheAppendAndCorruptsNothing) {
  on_node(3, [](Simulator&, Runtime& rt, SimDisk& disk) {
    auto log = PartitionLog::open(rt, "d/t-0", LogConfig{});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->append(one_batch(1), 0).ok());
    const uint64_t size_before = (*log)->size_bytes();
    disk.config().capacity_bytes = disk.used_bytes() + 10;
    EXPECT_EQ((*log)->append(one_batch(2), 0).error(), Errc::no_space);
    EXPECT_FALSE((*log)->offline()) << "a full disk is not a broken disk";
    EXPECT_EQ((*log)->size_bytes(), size_before);
    EXPECT_EQ((*log)->log_end_offset(), 1);
    disk.config().capacity_bytes = 1ULL << 32;
    auto r = (*log)->append(one_batch(3), 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->base_offset, 1);
    ASSERT_TRUE((*log)->flush().ok());
    auto slice = (*log)->read_slice(0, 1 << 20);
    ASSERT_TRUE(slice.ok());
    std::vector<std::byte> data(slice->length);
    ASSERT_TRUE(slice->file->pread(slice->position, data).ok());
    auto batches = split_batches(data, 1 << 20);
    ASSERT_TRUE(batches.ok());
    ASSERT_EQ(batches->size(), 2u);
    for (ConstBytes b : *batches) EXPECT_TRUE(validate_batch(b).ok());
  });
}

// A follower's catch-up append records the batches' new epochs before it writes them; when the
// write then finds the disk full, those entries must go too, or the log's latest epoch is one its
// data lacks and it refuses the same batches (older than that epoch) ever after. Found by the
// speed runs: samsa-sim --scenario cluster --cluster-brokers 3 --send-rate 50 --seed 3.
TEST(LogFaults, AFollowerAppendOnAFullDiskKeepsNoEpochItsDataLacks) {
  on_node(4, [](Simulator&, Runtime& rt, SimDisk& disk) {
    auto log = PartitionLog::open(rt, "d/t-0", LogConfig{});
    ASSERT_TRUE(log.ok());
    // What a leader sends: offset 0 written in epoch 0, offset 1 in epoch 2.
    std::vector<std::byte> both = one_batch(1), second = one_batch(2);
    stamp_batch(both, 0, 0);
    stamp_batch(second, 1, 2);
    both.insert(both.end(), second.begin(), second.end());
    // Room for the epoch checkpoint, not for the batches.
    disk.config().capacity_bytes = disk.used_bytes() + 48;
    EXPECT_EQ((*log)->append_replicated(both).error(), Errc::no_space);
    EXPECT_FALSE((*log)->offline());
    EXPECT_EQ((*log)->log_end_offset(), 0);
    EXPECT_FALSE((*log)->epochs().latest_epoch().has_value()) << "an epoch without its data";
    disk.config().capacity_bytes = 1ULL << 32;
    auto r = (*log)->append_replicated(both);
    ASSERT_TRUE(r.ok()) << "the same batches, once the disk has room: " << errc_name(r.error());
    EXPECT_EQ(r->last_offset, 1);
    EXPECT_EQ((*log)->epochs().latest_epoch(), std::optional<int32_t>(2));
  });
}

// A roll syncs nothing on the append path (an fsync there held every append of the partition:
// a second on ext4 after a 1 GiB segment); the next maintenance pass syncs the directory and
// the rolled index files, outside the partition's lock.
TEST(LogFaults, ARollSyncsNothingOnTheAppendPathTheMaintenancePassDoes) {
  on_node(5, [](Simulator&, Runtime& rt, SimDisk& disk) {
    LogConfig c;
    c.segment_bytes = 1;  // every append after the first rolls
    auto log = PartitionLog::open(rt, "d/t-0", c);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->append(one_batch(1), 0).ok());
    disk.fail_next(DiskOp::sync, "d/t-0");  // any sync under the log's directory, its own included
    for (int i = 2; i <= 4; ++i) ASSERT_TRUE((*log)->append(one_batch(i), 0).ok()) << "append " << i << " synced";
    EXPECT_EQ((*log)->segment_count(), 4u);
    EXPECT_EQ((*log)->maybe_flush().code(), Errc::io_error) << "the maintenance pass syncs what the rolls left";
    EXPECT_TRUE((*log)->offline());
  });
}

// What a flush books durable survives a power loss, the names of the segments rolled since the
// last directory sync included (a power loss keeps a random prefix of unsynced name changes).
TEST(LogFaults, AFlushAfterRollsKeepsEverySegmentThroughAPowerLoss) {
  LogConfig c;
  c.segment_bytes = 1;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const int64_t end = log_end_after_power_loss(seed, c, [](Runtime&, SimDisk&, PartitionLog& log) {
      for (int i = 0; i < 6; ++i) ASSERT_TRUE(log.append(one_batch(i), 0).ok());
      ASSERT_TRUE(log.flush().ok());
    });
    EXPECT_EQ(end, 6) << "seed " << seed << ": flushed records lost with their segments' names";
  }
}

// After a recovery rebuilt the indexes of many small segments, a checkpoint writes and syncs at
// most kIndexFlushesPerCheckpointMax of them under the log's lock, and books only the point below
// the ones left; the following flushes go on until the checkpoint reaches the recovery point.
// (Before, one checkpoint rewrote them all while every append waited.)
TEST(LogFaults, ACheckpointRewritesABoundedNumberOfRebuiltIndexesPerFlush) {
  constexpr int kSegments = 40;
  constexpr int64_t kPerCheckpoint = PartitionLog::kIndexFlushesPerCheckpointMax;
  static_assert(kSegments > 2 * kPerCheckpoint);
  Simulator sim(SimOptions{3, LogLevel::error, false, {}});
  bool done = false;
  int run = 0;
  std::vector<int64_t> points;
  NodeId n = sim.add_node("n1", [&](Runtime& rt) {
    LogConfig c;
    c.segment_bytes = 1;  // every append after the first rolls
    const bool first = run == 0;
    // First run: the data flushed, no checkpoint yet. Then every flush checkpoints.
    c.recovery_checkpoint_interval = first ? std::chrono::hours(1) : Duration::zero();
    auto log = PartitionLog::open(rt, "d/t-0", c);
    ASSERT_TRUE(log.ok());
    if (first) {
      for (int i = 0; i < kSegments; ++i) ASSERT_TRUE((*log)->append(one_batch(i), 0).ok());
      ASSERT_TRUE((*log)->flush().ok());
      done = true;
      return;
    }
    ASSERT_EQ((*log)->log_end_offset(), kSegments);
    // Reopened after a crash: every segment was scanned and its index rebuilt, not yet written.
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE((*log)->append(one_batch(kSegments + i), 0).ok());
      ASSERT_TRUE((*log)->flush().ok());
      auto point = read_checkpoint(rt, "d/t-0", PartitionLog::kRecoveryPointFile);
      ASSERT_TRUE(point.ok() && point->size() == 1);
      points.push_back(std::stoll(point->front()));
    }
    done = true;
  });
  for (; run < 2; ++run) {
    done = false;
    sim.start(n);
    while (!done && sim.step()) {
    }
    ASSERT_TRUE(done);
    if (run == 0) sim.crash(n);
  }
  // Each flush books the point below the first segment it could not reach, then the whole log.
  EXPECT_EQ(points, (std::vector<int64_t>{kPerCheckpoint, 2 * kPerCheckpoint, kSegments + 3, kSegments + 4}));
}

}  // namespace
}  // namespace samsa::sim
