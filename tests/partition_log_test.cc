// PartitionLog on both backends: offsets, segments and indexes, reopen and recovery, retention,
// truncation, timestamp lookup, and rejection of bad input.
#include <gtest/gtest.h>

#include "backend_harness.h"
#include "log/partition_log.h"
#include "log/record_batch.h"
#include "util/endian.h"

namespace samsa::test {
namespace {

class Log : public ::testing::TestWithParam<Backend> {};

std::vector<std::byte> batch_of(int records, int64_t ts, const std::string& tag = "v") {
  BatchBuilder b(ts);
  for (int i = 0; i < records; ++i) b.add(ts + i, std::nullopt, as_bytes(tag + std::to_string(i)));
  return b.build();
}

LogConfig small_config() {
  LogConfig c;
  c.segment_bytes = 4096;
  c.index_interval_bytes = 256;
  c.retention_ms = -1;
  return c;
}

// Reads every batch from `offset` to the end through read(), checking each is valid and dense.
int64_t read_all_batches(PartitionLog& log, int64_t offset, int32_t* epoch_seen = nullptr) {
  int64_t next = offset;
  while (next < log.log_end_offset()) {
    auto slice = log.read_slice(next, 1000);
    EXPECT_TRUE(slice.ok()) << errc_name(slice.error());
    if (!slice.ok() || slice->length == 0) return next;
    std::vector<std::byte> data(slice->length);
    EXPECT_EQ(*slice->file->pread(slice->position, data), data.size());
    auto batches = split_batches(data, 1 << 20);
    EXPECT_TRUE(batches.ok());
    for (ConstBytes b : *batches) {
      EXPECT_TRUE(validate_batch(b).ok());
      auto h = parse_batch_header(b);
      EXPECT_LE(h->base_offset, next);
      EXPECT_GE(h->last_offset(), next);
      if (epoch_seen != nullptr) *epoch_seen = h->leader_epoch;
      next = h->next_offset();
    }
  }
  return next;
}

TEST_P(Log, AppendAssignsDenseOffsetsAndStampsTheLeaderEpoch) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    auto log = PartitionLog::open(rt, dir + "/topic-0", LogConfig{});
    ASSERT_TRUE(log.ok()) << errc_name(log.error());
    std::vector<std::byte> set = batch_of(5, 1000);
    std::vector<std::byte> second = batch_of(2, 1001);
    set.insert(set.end(), second.begin(), second.end());  // two batches in one record set
    auto r1 = (*log)->append(batch_of(1, 999), 3);
    auto r2 = (*log)->append(set, 3);
    ASSERT_TRUE(r1.ok() && r2.ok());
    EXPECT_EQ(r1->base_offset, 0);
    EXPECT_EQ(r2->base_offset, 1);
    EXPECT_EQ(r2->last_offset, 7);
    EXPECT_EQ(r2->batches, 2u);
    EXPECT_EQ((*log)->log_end_offset(), 8);
    int32_t epoch = -1;
    EXPECT_EQ(read_all_batches(**log, 0, &epoch), 8);
    EXPECT_EQ(epoch, 3);
    ASSERT_EQ((*log)->epochs().entries().size(), 1u);
    EXPECT_EQ((*log)->epochs().entries()[0].start_offset, 0);
    // A read in the middle of a batch starts at the batch that holds the offset.
    auto mid = (*log)->read_slice(3, 1 << 20);
    ASSERT_TRUE(mid.ok());
    EXPECT_EQ(mid->first_offset, 1);
    EXPECT_EQ((*log)->read_slice(8, 100)->length, 0u);
    EXPECT_EQ((*log)->read_slice(9, 100).error(), Errc::out_of_range);
  });
}

TEST_P(Log, RollsSegmentsWithKafkaNamesAndIndexesEveryOffset) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    const std::string d = dir + "/topic-1";
    {
      auto log = PartitionLog::open(rt, d, small_config());
      ASSERT_TRUE(log.ok());
      const int64_t now = rt.wall_clock_ms();
      for (int i = 0; i < 120; ++i) ASSERT_TRUE((*log)->append(batch_of(1 + i % 3, now + i), 1).ok());
      EXPECT_GE((*log)->segment_count(), 3u);
      for (int64_t o = 0; o < (*log)->log_end_offset(); ++o) {
        auto slice = (*log)->read_slice(o, 1);
        ASSERT_TRUE(slice.ok()) << o;
        std::vector<std::byte> head(kBatchHeaderBytes);
        ASSERT_EQ(*slice->file->pread(slice->position, head), head.size());
        auto h = parse_batch_header(head);
        ASSERT_TRUE(h->base_offset <= o && o <= h->last_offset()) << "offset " << o;
      }
      ASSERT_TRUE((*log)->checkpoint().ok());
    }
    auto names = rt.list_dir(d);
    ASSERT_TRUE(names.ok());
    EXPECT_NE(std::find(names->begin(), names->end(), "00000000000000000000.log"), names->end());
    EXPECT_NE(std::find(names->begin(), names->end(), "00000000000000000000.index"), names->end());
    EXPECT_NE(std::find(names->begin(), names->end(), "00000000000000000000.timeindex"), names->end());
    EXPECT_NE(std::find(names->begin(), names->end(), "leader-epoch-checkpoint"), names->end());
    // Reopen: same offsets; old segments' indexes are loaded, only the active one is rescanned.
    auto again = PartitionLog::open(rt, d, small_config());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ((*again)->log_end_offset(), 240);
    EXPECT_EQ((*again)->recovery_stats().indexes_rebuilt, 1u);
    EXPECT_GE((*again)->recovery_stats().segments, 3u);
    EXPECT_EQ(read_all_batches(**again, 0), 240);
  });
}

TEST_P(Log, RetentionDeletesOldSegmentsButNeverTheActiveOne) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    LogConfig c = small_config();
    c.retention_bytes = 8192;
    auto log = PartitionLog::open(rt, dir + "/topic-2", c);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 300; ++i) ASSERT_TRUE((*log)->append(batch_of(2, 1000 + i), 0).ok());
    const size_t before = (*log)->segment_count();
    auto deleted = (*log)->apply_retention();
    ASSERT_TRUE(deleted.ok());
    EXPECT_GT(*deleted, 0u);
    EXPECT_EQ((*log)->segment_count(), before - *deleted);
    EXPECT_LT((*log)->size_bytes(), 8192u + 4096u);
    EXPECT_GT((*log)->log_start_offset(), 0);
    EXPECT_EQ((*log)->read_slice(0, 100).error(), Errc::out_of_range);
    EXPECT_EQ(read_all_batches(**log, (*log)->log_start_offset()), 600);
    // Time-based: everything is ancient, yet the active segment stays.
    LogConfig t = small_config();
    t.retention_ms = 1000;
    auto old = PartitionLog::open(rt, dir + "/topic-3", t);
    ASSERT_TRUE(old.ok());
    const int64_t ancient = rt.wall_clock_ms() - 10'000'000;
    for (int i = 0; i < 100; ++i) ASSERT_TRUE((*old)->append(batch_of(3, ancient + i), 0).ok());
    ASSERT_TRUE((*old)->apply_retention().ok());
    EXPECT_EQ((*old)->segment_count(), 1u);
    EXPECT_EQ((*old)->log_end_offset(), 300);
    EXPECT_EQ((*old)->log_start_offset(), (*old)->active().base_offset());
  });
}

TEST_P(Log, RollsByTimeAndFindsOffsetsByTimestamp) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    LogConfig c;
    c.segment_ms = 60'000;
    auto log = PartitionLog::open(rt, dir + "/topic-4", c);
    ASSERT_TRUE(log.ok());
    const int64_t now = rt.wall_clock_ms();
    ASSERT_TRUE((*log)->append(batch_of(4, now - 3'600'000), 0).ok());  // an hour old: next append rolls
    ASSERT_TRUE((*log)->append(batch_of(4, now), 0).ok());
    EXPECT_EQ((*log)->segment_count(), 2u);
    EXPECT_EQ(*(*log)->offset_for_timestamp(now - 3'600'000 + 2), 2);  // record-exact within a batch
    EXPECT_EQ(*(*log)->offset_for_timestamp(now - 100), 4);
    EXPECT_EQ(*(*log)->offset_for_timestamp(now + 3), 7);
    EXPECT_EQ(*(*log)->offset_for_timestamp(now + 1'000'000), 8);  // none: the log end
  });
}

TEST_P(Log, TruncateToRemovesWholeBatchesAndEpochs) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    auto log = PartitionLog::open(rt, dir + "/topic-5", small_config());
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*log)->append(batch_of(3, 1000 + i), i < 25 ? 1 : 2).ok());
    ASSERT_EQ((*log)->epochs().entries().size(), 2u);
    ASSERT_TRUE((*log)->truncate_to(61).ok());  // inside the batch 60..62
    EXPECT_EQ((*log)->log_end_offset(), 60);
    EXPECT_EQ((*log)->epochs().entries().size(), 1u);
    ASSERT_TRUE((*log)->truncate_to(6).ok());  // across segments
    EXPECT_EQ((*log)->log_end_offset(), 6);
    auto r = (*log)->append(batch_of(2, 5000), 7);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->base_offset, 6);
    EXPECT_EQ(read_all_batches(**log, 0), 8);
    ASSERT_TRUE((*log)->checkpoint().ok());
    auto again = PartitionLog::open(rt, dir + "/topic-5", small_config());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ((*again)->log_end_offset(), 8);
    ASSERT_EQ((*again)->epochs().entries().size(), 2u);
    EXPECT_EQ((*again)->epochs().entries()[1], (LeaderEpochCache::Entry{7, 6}));
  });
}

TEST_P(Log, RecoveryCutsATornTailAndACorruptBatch) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    const std::string d = dir + "/topic-6";
    uint64_t third_batch_pos = 0;
    {
      auto log = PartitionLog::open(rt, d, LogConfig{});
      ASSERT_TRUE(log.ok());
      for (int i = 0; i < 5; ++i) {
        auto r = (*log)->append(batch_of(2, 1000 + i), 0);
        ASSERT_TRUE(r.ok());
        if (i == 2) third_batch_pos = (*log)->read_slice(r->base_offset, 1)->position;
      }
      ASSERT_TRUE((*log)->flush().ok());
    }
    const std::string seg = d + "/00000000000000000000.log";
    {
      auto f = rt.open_file(seg, OpenMode::read_write);
      ASSERT_TRUE(f.ok());
      std::vector<std::byte> torn(30, std::byte{0x5A});  // half a header
      ASSERT_TRUE((*f)->append(torn).ok());
    }
    {
      auto log = PartitionLog::open(rt, d, LogConfig{});
      ASSERT_TRUE(log.ok());
      EXPECT_EQ((*log)->log_end_offset(), 10);
      EXPECT_EQ((*log)->recovery_stats().bytes_truncated, 30u);
    }
    {
      auto f = rt.open_file(seg, OpenMode::read_write);
      std::byte one[1];
      ASSERT_TRUE((*f)->pread(third_batch_pos + 70, one).ok());
      one[0] ^= std::byte{0xFF};
      ASSERT_TRUE((*f)->pwrite(third_batch_pos + 70, one).ok());  // inside the third batch's records
    }
    // The recovery point says everything was flushed; a corrupt batch there is still only
    // found by a full scan, so remove the checkpoint as an unclean shutdown would leave it stale.
    const Status removed = rt.remove_file(d + "/" + PartitionLog::kRecoveryPointFile);
    ASSERT_TRUE(removed.ok() || removed.code() == Errc::not_found);
    auto log = PartitionLog::open(rt, d, LogConfig{});
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->log_end_offset(), 4) << "recovery must stop at the corrupt third batch";
    EXPECT_EQ(read_all_batches(**log, 0), 4);
    auto r = (*log)->append(batch_of(1, 9), 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->base_offset, 4);
  });
}

TEST_P(Log, RejectsMalformedAndOversizeRecordSets) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    LogConfig c;
    c.max_batch_bytes = 200;
    auto log = PartitionLog::open(rt, dir + "/topic-7", c);
    ASSERT_TRUE(log.ok());
    std::vector<std::byte> b = batch_of(1, 5);
    b[b.size() - 1] ^= std::byte{1};
    EXPECT_EQ((*log)->append(b, 0).error(), Errc::corrupt);
    EXPECT_EQ((*log)->append(batch_of(50, 5), 0).error(), Errc::too_large);
    std::vector<std::byte> cut = batch_of(1, 5);
    cut.pop_back();
    EXPECT_EQ((*log)->append(cut, 0).error(), Errc::corrupt);
    EXPECT_EQ((*log)->append({}, 0).error(), Errc::invalid_argument);
    EXPECT_EQ((*log)->log_end_offset(), 0);
    EXPECT_TRUE((*log)->append(batch_of(1, 5), 0).ok());
  });
}

// A follower's append keeps its leader's offsets and epochs and learns each epoch's start.
TEST_P(Log, ReplicatedAppendKeepsOffsetsAndEpochs) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    auto leader = PartitionLog::open(rt, dir + "/leader-0", small_config());
    auto follower = PartitionLog::open(rt, dir + "/follower-0", small_config());
    ASSERT_TRUE(leader.ok() && follower.ok());
    ASSERT_TRUE((*leader)->append(batch_of(3, 1000), 1).ok());
    ASSERT_TRUE((*leader)->append(batch_of(2, 1000), 4).ok());
    auto slice = (*leader)->read_slice(0, 1 << 20);
    ASSERT_TRUE(slice.ok());
    std::vector<std::byte> data(slice->length);
    ASSERT_EQ(*slice->file->pread(slice->position, data), data.size());
    auto r = (*follower)->append_replicated(data);
    ASSERT_TRUE(r.ok()) << errc_name(r.error());
    EXPECT_EQ(r->base_offset, 0);
    EXPECT_EQ(r->last_offset, 4);
    EXPECT_EQ((*follower)->log_end_offset(), 5);
    std::vector<LeaderEpochCache::Entry> want{{1, 0}, {4, 3}};
    EXPECT_EQ((*follower)->epochs().entries(), want);
    // Not contiguous with the log end: refused, nothing written.
    EXPECT_EQ((*follower)->append_replicated(data).error(), Errc::out_of_range);
    EXPECT_EQ((*follower)->log_end_offset(), 5);
    // An epoch below the log's latest: refused.
    std::vector<std::byte> stale = batch_of(1, 1000);
    stamp_batch(stale, 5, 2);
    EXPECT_EQ((*follower)->append_replicated(stale).error(), Errc::out_of_range);
    stamp_batch(stale, 5, 4);
    EXPECT_TRUE((*follower)->append_replicated(stale).ok());
    EXPECT_EQ((*follower)->log_end_offset(), 6);
  });
}

// DeleteRecords and snapshots move the log start; it survives reopening, and reads below it fail.
TEST_P(Log, AdvanceLogStartSurvivesReopenAndDropsWholeSegments) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    const std::string path = dir + "/t-0";
    {
      auto log = PartitionLog::open(rt, path, small_config());
      ASSERT_TRUE(log.ok());
      for (int i = 0; i < 40; ++i) ASSERT_TRUE((*log)->append(batch_of(4, 1000 + i, std::string(100, 'x')), 0).ok());
      ASSERT_GT((*log)->segment_count(), 3u);
      const size_t before = (*log)->segment_count();
      const int64_t cut = (*log)->segment_bases()[2] + 1;  // inside the third segment
      ASSERT_TRUE((*log)->advance_log_start(cut).ok());
      EXPECT_EQ((*log)->log_start_offset(), cut);
      EXPECT_EQ((*log)->segment_count(), before - 2);
      EXPECT_EQ((*log)->read_slice(cut - 1, 100).error(), Errc::out_of_range);
      EXPECT_TRUE((*log)->read_slice(cut, 100).ok());
      EXPECT_EQ((*log)->advance_log_start((*log)->log_end_offset() + 1).code(), Errc::out_of_range);
      ASSERT_TRUE((*log)->checkpoint().ok());
    }
    auto log = PartitionLog::open(rt, path, small_config());
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->log_start_offset() % 4, 1);  // the cut, not a segment base
    EXPECT_EQ((*log)->log_end_offset(), 160);
  });
}

// A follower far behind restarts its log empty at the leader's start; reopening keeps that.
TEST_P(Log, TruncateFullyAndStartAt) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    const std::string path = dir + "/t-0";
    {
      auto log = PartitionLog::open(rt, path, small_config());
      ASSERT_TRUE(log.ok());
      for (int i = 0; i < 10; ++i) ASSERT_TRUE((*log)->append(batch_of(4, 1000), 2).ok());
      ASSERT_TRUE((*log)->truncate_fully_and_start_at(500).ok());
      EXPECT_EQ((*log)->log_start_offset(), 500);
      EXPECT_EQ((*log)->log_end_offset(), 500);
      EXPECT_EQ((*log)->segment_count(), 1u);
      EXPECT_TRUE((*log)->epochs().entries().empty());
      ASSERT_TRUE((*log)->append(batch_of(2, 1000), 3).ok());
      EXPECT_EQ((*log)->log_end_offset(), 502);
      ASSERT_TRUE((*log)->checkpoint().ok());
    }
    auto log = PartitionLog::open(rt, path, small_config());
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->log_start_offset(), 500);
    EXPECT_EQ((*log)->log_end_offset(), 502);
    std::vector<LeaderEpochCache::Entry> want{{3, 500}};
    EXPECT_EQ((*log)->epochs().entries(), want);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, Log, ::testing::Values(Backend::real, Backend::sim),
                         [](const auto& p) { return std::string(backend_name(p.param)); });

}  // namespace
}  // namespace samsa::test
