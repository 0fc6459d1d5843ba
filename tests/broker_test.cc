// The broker inside the simulator, driven by samsa's client library and raw protocol requests:
// data path, long polling, every error code the broker promises, and restarts.
#include <gtest/gtest.h>

#include "broker/broker.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "net/framing.h"
#include "protocol/api_versions.h"
#include "sim/world/sim_disk.h"
#include "sim/world/simulator.h"
#include "broker_sim.h"

namespace samsa::test {
namespace {

using namespace samsa::kafka;
using client::TopicPartition;

std::string text(const std::optional<std::vector<std::byte>>& b) {
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : "null";
}

TEST(Broker, ProduceThenFetchEveryRecordInOrderAndListOffsets) {
  BrokerSim b;
  b.run([](Runtime& rt, client::Cluster& cluster) {
    client::Admin admin(cluster);
    auto created = admin.create_topic("t", 2, 1, {});
    ASSERT_TRUE(created.ok());
    ASSERT_EQ(created->error, Error::none) << created->message;
    client::Producer producer(cluster, client::ProducerConfig{});
    for (int i = 0; i < 200; ++i) {
      const std::string v = "v" + std::to_string(i);
      ASSERT_TRUE(producer.send("t", i % 2, std::nullopt, as_bytes(v), 1'767'225'600'000 + i).ok());
    }
    auto reports = producer.flush();
    ASSERT_TRUE(reports.ok());
    ASSERT_EQ(reports->size(), 200u);
    for (const auto& r : *reports) ASSERT_EQ(r.error, Error::none);
    client::Consumer consumer(cluster, client::ConsumerConfig{});
    consumer.assign({{"t", 0}, {"t", 1}});
    ASSERT_TRUE(consumer.seek_to({"t", 0}, client::Consumer::kEarliest).ok());
    ASSERT_TRUE(consumer.seek_to({"t", 1}, client::Consumer::kEarliest).ok());
    std::map<int32_t, std::vector<std::string>> got;
    for (int round = 0; round < 50 && got[0].size() + got[1].size() < 200; ++round) {
      auto batch = consumer.poll(std::chrono::seconds(1));
      ASSERT_TRUE(batch.ok());
      for (const auto& r : *batch) {
        ASSERT_EQ(r.offset, static_cast<int64_t>(got[r.partition].size())) << "offsets must be dense and in order";
        got[r.partition].push_back(text(r.value));
      }
    }
    ASSERT_EQ(got[0].size(), 100u);
    EXPECT_EQ(got[0][3], "v6");
    EXPECT_EQ(got[1][3], "v7");
    EXPECT_EQ(*consumer.list_offset({"t", 0}, client::Consumer::kEarliest), 0);
    EXPECT_EQ(*consumer.list_offset({"t", 0}, client::Consumer::kLatest), 100);
    EXPECT_EQ(*consumer.list_offset({"t", 1}, 1'767'225'600'000 + 51), 25);  // the first record at or after
    EXPECT_EQ(*consumer.list_offset({"t", 1}, 1'767'225'600'000 + 100'000), -1);  // none that late
    (void)rt;
  });
}

TEST(Broker, FetchLongPollsUntilDataArrives) {
  BrokerSim b;
  b.run([](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("lp", 1, 1, {})->error, Error::none);
    client::ConsumerConfig cc;
    cc.fetch_max_wait_ms = 5000;
    client::Consumer consumer(cluster, cc);
    consumer.assign({{"lp", 0}});
    consumer.seek({"lp", 0}, 0);
    FiberId later = rt.spawn("producer", [&] {
      (void)rt.sleep(std::chrono::seconds(1));
      client::Cluster other(rt, client::ClientConfig{{Address{"broker", 9092}}, "p"});
      client::Producer p(other, client::ProducerConfig{});
      ASSERT_TRUE(p.send("lp", 0, std::nullopt, as_bytes("late")).ok());
      ASSERT_TRUE(p.flush().ok());
    });
    const Instant t0 = rt.now();
    auto got = consumer.poll(std::chrono::seconds(10));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_GE(rt.now() - t0, std::chrono::seconds(1));
    EXPECT_LT(rt.now() - t0, std::chrono::seconds(5)) << "the fetch should return when data arrives, not at max_wait";
    (void)rt.join(later, Deadline::never());
  });
}

// An append wakes only the long-polling fetches that read its partition.
TEST(Broker, AnAppendWakesOnlyTheFetchesOfItsPartition) {
  BrokerSim b;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("two", 2, 1, {})->error, Error::none);
    client::ConsumerConfig cc;
    cc.fetch_max_wait_ms = 5000;
    client::Consumer consumer(cluster, cc);
    consumer.assign({{"two", 0}});
    consumer.seek({"two", 0}, 0);
    uint64_t wakeups_before_own = 0;
    FiberId later = rt.spawn("producer", [&] {
      client::Cluster other(rt, client::ClientConfig{{Address{"broker", 9092}}, "p"});
      client::Producer p(other, client::ProducerConfig{});
      for (int i = 0; i < 5; ++i) {  // to the other partition: the fetch sleeps on
        (void)rt.sleep(std::chrono::milliseconds(300));
        ASSERT_TRUE(p.send("two", 1, std::nullopt, as_bytes("elsewhere")).ok());
        ASSERT_TRUE(p.flush().ok());
      }
      wakeups_before_own = b.live->handler().stats().fetch_wakeups;
      ASSERT_TRUE(p.send("two", 0, std::nullopt, as_bytes("mine")).ok());
      ASSERT_TRUE(p.flush().ok());
    });
    auto got = consumer.poll(std::chrono::seconds(10));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    (void)rt.join(later, Deadline::never());
    EXPECT_EQ(wakeups_before_own, 0u) << "appends to partition 1 woke a fetch of partition 0";
    EXPECT_GE(b.live->handler().stats().fetch_wakeups, 1u) << "the append to partition 0 did not wake its fetch";
  });
}

TEST(Broker, ErrorCodes) {
  BrokerSim b;
  b.config.auto_create_topics = false;
  b.run([](Runtime& rt, client::Cluster& cluster) {
    client::Admin admin(cluster);
    ASSERT_EQ(admin.create_topic("e", 1, 1, {{"max.message.bytes", "200"}})->error, Error::none);
    ASSERT_EQ(admin.create_topic("mir", 1, 1, {{"min.insync.replicas", "2"}})->error, Error::none);
    EXPECT_EQ(admin.create_topic("e", 1, 1, {})->error, Error::topic_already_exists);
    EXPECT_EQ(admin.create_topic("bad name!", 1, 1, {})->error, Error::invalid_topic_exception);
    // The internal topics own directories in the log dir: creating them is refused.
    EXPECT_EQ(admin.create_topic("__consumer_offsets", 1, 1, {})->error, Error::invalid_request);
    EXPECT_EQ(admin.create_topic("__cluster_metadata", 1, 1, {})->error, Error::invalid_request);
    EXPECT_EQ(admin.create_topic("x", 1, 3, {})->error, Error::invalid_replication_factor);
    EXPECT_EQ(admin.create_topic("y", 1, 1, {{"no.such.config", "1"}})->error, Error::invalid_config);
    auto c = client::Connection::open(rt, Address{"broker", 9092}, "raw", rt.after(5s));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(raw_produce(**c, "nope", one_batch("x")), code(Error::unknown_topic_or_partition));
    EXPECT_EQ(raw_produce(**c, "e", one_batch(std::string(500, 'x'))), code(Error::message_too_large));
    std::vector<std::byte> corrupt = one_batch("y");
    corrupt.back() ^= std::byte{1};
    EXPECT_EQ(raw_produce(**c, "e", corrupt), code(Error::corrupt_message));
    EXPECT_EQ(raw_produce(**c, "e", one_batch("z"), 2), code(Error::invalid_required_acks));
    EXPECT_EQ(raw_produce(**c, "mir", one_batch("z"), -1), code(Error::not_enough_replicas));
    EXPECT_EQ(raw_produce(**c, "mir", one_batch("z"), 1), 0) << "acks=1 does not need the ISR";
    FetchRequest f;
    f.max_wait_ms = 0;
    f.topics.push_back({.topic = "e", .partitions = {{.partition = 0, .fetch_offset = 1000, .partition_max_bytes = 1 << 20}}});
    auto fr = (*c)->call<FetchRequest, FetchResponse>(ApiKey::fetch, 11, f, rt.after(5s));
    ASSERT_TRUE(fr.ok());
    EXPECT_EQ(fr->responses.at(0).partitions.at(0).error_code, code(Error::offset_out_of_range));
  });
}

TEST(Broker, ApiVersionsFallbackUnknownApisAndAcksZero) {
  BrokerSim b;
  b.run([](Runtime& rt, client::Cluster&) {
    auto s = rt.connect(Address{"broker", 9092}, rt.after(5s));
    ASSERT_TRUE(s.ok());
    // ApiVersions v9 (unknown to samsa): UNSUPPORTED_VERSION in a v0 body listing the APIs.
    std::vector<std::byte> req = {std::byte{0}, std::byte{18}, std::byte{0}, std::byte{9}, std::byte{0}, std::byte{0},
                                  std::byte{0}, std::byte{7}, std::byte{0}, std::byte{0}, std::byte{0}};
    ASSERT_TRUE(write_frame(**s, req, rt.after(5s)).ok());
    auto resp = read_frame(**s, 1 << 20, rt.after(5s));
    ASSERT_TRUE(resp.ok());
    ASSERT_EQ(get_i32_be(resp->data()), 7);
    auto body = decode<ApiVersionsResponse>(ConstBytes(*resp).subspan(4), 0);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->error_code, code(Error::unsupported_version));
    EXPECT_EQ(body->api_keys.size(), std::size(kSupportedApis));
    for (const auto& k : body->api_keys) EXPECT_EQ(k.min_version, 0);
    // An unknown API key closes the connection.
    std::vector<std::byte> unknown = {std::byte{0x7f}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                      std::byte{0}, std::byte{0}, std::byte{1}, std::byte{0xff}, std::byte{0xff}};
    ASSERT_TRUE(write_frame(**s, unknown, rt.after(5s)).ok());
    EXPECT_FALSE(read_frame(**s, 1 << 20, rt.after(5s)).ok());
    // acks=0: no response; the next request's answer is the next thing on the wire.
    auto c = client::Connection::open(rt, Address{"broker", 9092}, "raw", rt.after(5s));
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(client::Admin(*std::make_unique<client::Cluster>(rt, client::ClientConfig{{Address{"broker", 9092}}, "a"}))
                    .create_topic("z", 1, 1, {})
                    .ok());
    ProduceRequest p;
    p.acks = 0;
    p.topics.push_back({.name = "z", .partitions = {{.index = 0, .records = RecordsField{.bytes = one_batch("fire-and-forget")}}}});
    ASSERT_TRUE((*c)->send_only(ApiKey::produce, 7, p, rt.after(5s)).ok());
    MetadataRequest m;
    auto md = (*c)->call<MetadataRequest, MetadataResponse>(ApiKey::metadata, 5, m, rt.after(5s));
    ASSERT_TRUE(md.ok()) << "a response to the acks=0 produce arrived where the metadata answer belonged";
    ListOffsetsRequest lo;
    lo.topics.push_back({.name = "z", .partitions = {{.partition_index = 0, .timestamp = ListOffsetsRequest::kLatest}}});
    auto end = (*c)->call<ListOffsetsRequest, ListOffsetsResponse>(ApiKey::list_offsets, 3, lo, rt.after(5s));
    ASSERT_TRUE(end.ok());
    EXPECT_EQ(end->topics.at(0).partitions.at(0).offset, 1);
  });
}

TEST(Broker, DiskErrorGivesKafkaStorageError) {
  BrokerSim b;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("s", 1, 1, {})->error, Error::none);
    auto c = client::Connection::open(rt, Address{"broker", 9092}, "raw", rt.after(5s));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(raw_produce(**c, "s", one_batch("ok")), 0);
    b.sim.node(b.broker).disk->fail_next(sim::DiskOp::sync, "data/s-0");
    EXPECT_EQ(raw_produce(**c, "s", one_batch("lost")), code(Error::kafka_storage_error));
    EXPECT_EQ(raw_produce(**c, "s", one_batch("after")), code(Error::kafka_storage_error)) << "the log must stay offline";
  });
}

TEST(Broker, TopicsAndAcknowledgedDataSurviveACrash) {
  BrokerSim b;
  b.run([](Runtime&, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("keep", 3, 1, {{"retention.ms", "86400000"}})->error, Error::none);
    client::Producer p(cluster, client::ProducerConfig{});
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(p.send("keep", i % 3, std::nullopt, as_bytes("r" + std::to_string(i))).ok());
    auto reports = p.flush();
    ASSERT_TRUE(reports.ok());
    for (const auto& r : *reports) ASSERT_EQ(r.error, Error::none);
  });
  b.sim.crash(b.broker);  // with flush.messages=1, acknowledged means synced
  b.live = nullptr;
  b.sim.start(b.broker);
  b.run([](Runtime&, client::Cluster& cluster) {
    auto ds = client::Admin(cluster).describe_topics(std::vector<std::string>{"keep"});
    ASSERT_TRUE(ds.ok());
    ASSERT_EQ(ds->size(), 1u);
    EXPECT_EQ(ds->front().partitions.size(), 3u);
    ASSERT_EQ(ds->front().overrides.size(), 1u);
    EXPECT_EQ(ds->front().overrides[0].first, "retention.ms");
    client::Consumer consumer(cluster, client::ConsumerConfig{});
    consumer.assign({{"keep", 0}, {"keep", 1}, {"keep", 2}});
    for (int p = 0; p < 3; ++p) consumer.seek({"keep", p}, 0);
    size_t got = 0;
    for (int round = 0; round < 20 && got < 30; ++round) got += consumer.poll(std::chrono::seconds(1))->size();
    EXPECT_EQ(got, 30u);
  });
}

}  // namespace
}  // namespace samsa::test
