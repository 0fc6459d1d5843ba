// LogManager on both backends: partition.metadata, a deleted namesake's directory replaced, stray
// directories removed, internal logs kept, and the replication PartitionTable's serving rule.
#include <gtest/gtest.h>

#include <set>

#include "backend_harness.h"
#include "log/log_manager.h"
#include "log/record_batch.h"
#include "replication/partition.h"

namespace samsa::test {
namespace {

class Logs : public ::testing::TestWithParam<Backend> {};

std::string text_of(Runtime& rt, const std::string& path) {
  auto data = read_file(rt, path, 4096);
  return data.ok() ? std::string(reinterpret_cast<const char*>(data->data()), data->size()) : std::string("<none>");
}

// Opens t-0 for topic id AAAA in a fresh log manager and appends one record to it.
void write_one_record(Runtime& rt, const std::string& data_dir) {
  LogManager logs(rt, data_dir);
  ASSERT_TRUE(logs.create_log_dir().ok());
  auto log = logs.open_log({"t", 0}, "AAAA", LogConfig{});
  ASSERT_TRUE(log.ok());
  BatchBuilder b(1000);
  b.add(1000, std::nullopt, as_bytes(std::string("old")));
  ASSERT_TRUE((*log)->append(b.build(), 0).ok());
  ASSERT_TRUE((*log)->flush().ok());
  EXPECT_EQ(*logs.topic_id({"t", 0}), "AAAA");
  logs.checkpoint_all();
}

TEST_P(Logs, PartitionMetadataNamesTheTopicIdAndANamesakeIsReplaced) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    write_one_record(rt, dir + "/data");
    EXPECT_EQ(text_of(rt, dir + "/data/t-0/partition.metadata"), "version: 0\ntopic_id: AAAA\n");
    LogManager logs(rt, dir + "/data");
    // The same id after a restart: the data is still there.
    auto same = logs.open_log({"t", 0}, "AAAA", LogConfig{});
    ASSERT_TRUE(same.ok());
    EXPECT_EQ((*same)->log_end_offset(), 1);
    // Held for another id now (the topic was deleted and created again): the old log goes.
    auto replaced = logs.open_log({"t", 0}, "DDDD", LogConfig{});
    ASSERT_TRUE(replaced.ok());
    EXPECT_EQ((*replaced)->log_end_offset(), 0);
    EXPECT_EQ(*logs.topic_id({"t", 0}), "DDDD");
    EXPECT_EQ(text_of(rt, dir + "/data/t-0/partition.metadata"), "version: 0\ntopic_id: DDDD\n");
  });
}

TEST_P(Logs, ADirectoryOfAnotherTopicIdOnDiskIsRemovedBeforeOpening) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    write_one_record(rt, dir + "/data");
    LogManager logs(rt, dir + "/data");
    auto log = logs.open_log({"t", 0}, "BBBB", LogConfig{});
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->log_end_offset(), 0) << "a deleted namesake's records were kept";
    EXPECT_EQ(text_of(rt, dir + "/data/t-0/partition.metadata"), "version: 0\ntopic_id: BBBB\n");
  });
}

// Found by the cluster scenario (seed 37): maintain()'s reopen took an entry whose first open
// was still under way for a failed one and opened the directory again; the second recovery cut
// the files under the first log's writes, and a leader served "corrupt" from then on.
TEST_P(Logs, MaintainDoesNotOpenAPartitionWhoseOpenIsUnderWay) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    write_one_record(rt, dir + "/data");
    LogManager logs(rt, dir + "/data");
    Result<std::shared_ptr<PartitionLog>> opened = Errc::unavailable;
    const FiberId opener = rt.spawn("opener", [&] { opened = logs.open_log({"t", 0}, "AAAA", LogConfig{}); });
    const FiberId maintainer = rt.spawn("maintainer", [&] {
      for (int i = 0; i < 50 && !opened.ok(); ++i) {
        logs.maintain(false);
        (void)rt.sleep(std::chrono::microseconds(1));
      }
    });
    ASSERT_TRUE(rt.join(opener, Deadline::never()).ok());
    ASSERT_TRUE(rt.join(maintainer, Deadline::never()).ok());
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(logs.opens(), 1u) << "the directory was opened twice at once";
    EXPECT_EQ(logs.find({"t", 0}), *opened);
    EXPECT_EQ((*opened)->log_end_offset(), 1);
  });
}

// A single broker reopens a log a disk error took offline (recovery runs); a KRaft broker's log
// manager (FailurePolicy::halt) leaves it offline and names it, so the broker halts as Kafka's does.
TEST_P(Logs, AnOfflineLogIsReopenedOrNamedForTheHaltByPolicy) {
  for (LogManager::FailurePolicy policy : {LogManager::FailurePolicy::reopen, LogManager::FailurePolicy::halt}) {
    run_on(GetParam(), [policy](Runtime& rt, const std::string& dir) {
      write_one_record(rt, dir + "/data");
      LogManager logs(rt, dir + "/data");
      logs.set_failure_policy(policy);
      ASSERT_TRUE(logs.open_log({"t", 0}, "AAAA", LogConfig{}).ok());
      ASSERT_TRUE(logs.open_log({"u", 0}, "CCCC", LogConfig{}).ok());
      logs.report_read_error(dir + "/data/t-0/00000000000000000000.log", Status{Errc::io_error});
      EXPECT_EQ(logs.get({"t", 0}).error(), Errc::unavailable);
      EXPECT_TRUE(logs.get({"u", 0}).ok());
      for (int i = 0; i < 8 && !logs.get({"t", 0}).ok(); ++i) {
        logs.maintain(false);
        (void)rt.sleep(std::chrono::milliseconds(250));
      }
      if (policy == LogManager::FailurePolicy::reopen) {
        ASSERT_TRUE(logs.get({"t", 0}).ok()) << "not reopened";
        EXPECT_EQ((*logs.get({"t", 0}))->log_end_offset(), 1);
        EXPECT_FALSE(logs.failed_partition());
      } else {
        EXPECT_EQ(logs.get({"t", 0}).error(), Errc::unavailable) << "reopened under FailurePolicy::halt";
        ASSERT_TRUE(logs.failed_partition());
        EXPECT_EQ(*logs.failed_partition(), (model::TopicPartition{"t", 0}));
        EXPECT_EQ(logs.opens(), 2u);
      }
    });
  }
}

TEST_P(Logs, StraysAreRemovedButHeldWantedAndMetadataDirectoriesStay) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    LogManager logs(rt, dir + "/data");
    ASSERT_TRUE(logs.create_log_dir().ok());
    for (const char* d : {"/data/gone-0", "/data/wanted-1", "/data/__cluster_metadata-0", "/data/notapartition"}) {
      ASSERT_TRUE(create_dirs(rt, dir + d).ok());
    }
    ASSERT_TRUE(logs.open_log({"__consumer_offsets", 0}, "", LogConfig{}, false).ok());
    ASSERT_TRUE(logs.remove_strays([](const model::TopicPartition& tp) { return tp.topic == "wanted"; }).ok());
    auto listed = rt.list_dir(dir + "/data");
    ASSERT_TRUE(listed.ok());
    std::set<std::string> names(listed->begin(), listed->end());
    EXPECT_EQ(names.count("gone-0"), 0u);
    for (const char* kept : {"wanted-1", "__cluster_metadata-0", "notapartition", "__consumer_offsets-0"}) {
      EXPECT_EQ(names.count(kept), 1u) << kept;
    }
  });
}

TEST_P(Logs, ThePartitionTableServesOnlyWhereThisBrokerLeads) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    LogManager logs(rt, dir + "/data");
    ASSERT_TRUE(logs.create_log_dir().ok());
    replication::PartitionTable table(rt, model::BrokerId{1}, logs);
    std::shared_ptr<replication::Partition> p;
    std::shared_ptr<PartitionLog> log;
    EXPECT_EQ(table.leader({"t", 0}, &p, &log), kafka::Error::unknown_topic_or_partition);
    replication::PartitionState s{.topic_id = "AAAA", .leader = model::BrokerId{2}, .leader_epoch = model::LeaderEpoch{3},
                                  .replicas = {1, 2}, .isr = {1, 2}, .min_insync_replicas = 2};
    table.put({"t", 0}, s);
    EXPECT_EQ(table.leader({"t", 0}, &p, &log), kafka::Error::not_leader_or_follower);
    s.leader = model::BrokerId{-1};
    s.leader_epoch = model::LeaderEpoch{4};
    table.put({"t", 0}, s);
    EXPECT_EQ(table.leader({"t", 0}, &p, &log), kafka::Error::leader_not_available);
    s.leader = model::BrokerId{1};
    s.leader_epoch = model::LeaderEpoch{5};
    table.put({"t", 0}, s);
    EXPECT_EQ(table.leader({"t", 0}, &p, &log), kafka::Error::leader_not_available) << "its log is not open yet";
    ASSERT_TRUE(logs.open_log({"t", 0}, "AAAA", LogConfig{}).ok());
    ASSERT_EQ(table.leader({"t", 0}, &p, &log), kafka::Error::none);
    EXPECT_EQ(p->leader_epoch(), model::LeaderEpoch{5});
    // KIP-320: a client that names an older leader epoch is fenced, a newer one is unknown here.
    EXPECT_EQ(table.leader({"t", 0}, &p, &log, 4), kafka::Error::fenced_leader_epoch);
    EXPECT_EQ(table.leader({"t", 0}, &p, &log, 6), kafka::Error::unknown_leader_epoch);
    EXPECT_EQ(table.leader({"t", 0}, &p, &log, 5), kafka::Error::none);
    EXPECT_TRUE(p->enough_in_sync());
    s.isr = {1};
    s.leader_epoch = model::LeaderEpoch{5};
    table.put({"t", 0}, s);
    EXPECT_FALSE(p->enough_in_sync()) << "the ISR fell below min.insync.replicas";
    log->take_offline(Status(Errc::io_error));
    EXPECT_EQ(table.leader({"t", 0}, &p, &log), kafka::Error::kafka_storage_error);
  });
}

// The leader side of the high watermark: a new leader holds it until every ISR member has shown
// its log end, then it is the smallest; the epoch's start is where a new leader's ListOffsets
// waits (OFFSET_NOT_AVAILABLE below it).
TEST_P(Logs, TheHighWatermarkIsTheIsrsSmallestLogEnd) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    LogManager logs(rt, dir + "/data");
    ASSERT_TRUE(logs.create_log_dir().ok());
    auto log = logs.open_log({"t", 0}, "AAAA", LogConfig{});
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 3; ++i) {
      BatchBuilder b(1000);
      b.add(1000, std::nullopt, as_bytes(std::string("r")));
      ASSERT_TRUE((*log)->append(b.build(), 1).ok());
    }
    replication::PartitionTable table(rt, model::BrokerId{1}, logs);
    table.put({"t", 0}, {.topic_id = "AAAA", .leader = model::BrokerId{1}, .leader_epoch = model::LeaderEpoch{1},
                         .replicas = {1, 2, 3}, .isr = {1, 2, 3}, .min_insync_replicas = 2});
    std::shared_ptr<replication::Partition> p = table.find({"t", 0});
    EXPECT_EQ(p->epoch_start_offset(), 3);
    EXPECT_EQ(p->high_watermark(), 0) << "followers have not shown their log ends yet";
    EXPECT_FALSE(p->record_follower_fetch(model::BrokerId{2}, 3));
    EXPECT_TRUE(p->record_follower_fetch(model::BrokerId{3}, 2));
    EXPECT_EQ(p->high_watermark(), 2);
    EXPECT_TRUE(p->record_follower_fetch(model::BrokerId{3}, 3));
    EXPECT_EQ(p->high_watermark(), 3);
    // A follower that truncated shows a lower log end; the high watermark does not go back.
    EXPECT_FALSE(p->record_follower_fetch(model::BrokerId{3}, 1));
    EXPECT_EQ(p->high_watermark(), 3);
  });
}

// Kafka's maximal ISR: a member asked for counts for the high watermark at once, and a later
// request (sent while the first one's outcome is unknown) adds to what was asked, never drops
// it: the controller may have applied the first. Only a refusal clears it. Without the union,
// the high watermark passed replica 3's log end here (samsa-sim --scenario groups --brokers 3
// --seed 182 at eddd31e lost an acknowledged record that way).
TEST_P(Logs, AnIsrAskedForKeepsCountingUntilRefused) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    LogManager logs(rt, dir + "/data");
    ASSERT_TRUE(logs.create_log_dir().ok());
    auto log = logs.open_log({"t", 0}, "AAAA", LogConfig{});
    ASSERT_TRUE(log.ok());
    auto append = [&] {
      BatchBuilder b(1000);
      b.add(1000, std::nullopt, as_bytes(std::string("r")));
      ASSERT_TRUE((*log)->append(b.build(), 1).ok());
    };
    for (int i = 0; i < 3; ++i) append();
    replication::PartitionTable table(rt, model::BrokerId{1}, logs);
    table.put({"t", 0}, {.topic_id = "AAAA", .leader = model::BrokerId{1}, .leader_epoch = model::LeaderEpoch{1},
                         .replicas = {1, 2, 3}, .isr = {1, 2}, .min_insync_replicas = 2});
    std::shared_ptr<replication::Partition> p = table.find({"t", 0});
    EXPECT_TRUE(p->record_follower_fetch(model::BrokerId{2}, 3));
    EXPECT_EQ(p->high_watermark(), 3);
    (void)p->record_follower_fetch(model::BrokerId{3}, 3);  // caught up: the leader asks to add it
    p->set_requested_isr({1, 2, 3});
    for (int i = 0; i < 3; ++i) append();
    p->set_requested_isr({1, 2});  // asked again before the first answer: 3 still counts
    (void)p->record_follower_fetch(model::BrokerId{2}, 6);
    EXPECT_EQ(p->high_watermark(), 3) << "passed the log end of a member asked for";
    (void)p->record_follower_fetch(model::BrokerId{3}, 5);
    EXPECT_EQ(p->high_watermark(), 5);
    p->clear_requested_isr();  // refused: back to the metadata's ISR {1, 2}
    (void)p->advance_high_watermark();
    EXPECT_EQ(p->high_watermark(), 6);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, Logs, ::testing::Values(Backend::real, Backend::sim),
                         [](const auto& p) { return std::string(backend_name(p.param)); });

}  // namespace
}  // namespace samsa::test
