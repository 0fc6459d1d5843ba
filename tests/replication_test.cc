// Partition replication in a simulated KRaft cluster (tests/cluster_sim.h): followers copy the
// leader's log byte for byte with its offsets and epochs; acks=all answers once the ISR has the
// batch; after the leader's process is killed a follower leads and every acknowledged record is
// read back at its acknowledged offset; a paused follower leaves the ISR after
// replica.lag.time.max.ms (so acks=all goes on with min.insync.replicas=2) and joins it again once
// it has caught up (the expansion naming the broker epoch its fetches carried, KIP-903); and
// with the ISR below min.insync.replicas acks=all is refused.
#include <gtest/gtest.h>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "cluster_sim.h"

namespace samsa::test {
namespace {

using kafka::Error;

constexpr const char* kTopic = "r";

const controller::PartitionState* partition_of(const ClusterSim& c, int32_t node) {
  const controller::TopicImage* t = c.live.at(node)->metadata()->image().topic(kTopic);
  return t == nullptr || t->partitions.empty() ? nullptr : &t->partitions.front();
}

// Produces `count` records "<tag><i>" with acks=all through broker `via`; returns the offsets
// acknowledged, by value.
std::map<std::string, int64_t> produce(ClusterSim& c, int32_t via, const std::string& tag, int count) {
  std::map<std::string, int64_t> acked;
  c.run_client(via, [&](Runtime&, client::Cluster& cluster) {
    client::ProducerConfig pc;
    pc.retries = 20;
    pc.retry_backoff = 500ms;
    client::Producer producer(cluster, pc);
    for (int i = 0; i < count; ++i) {
      const std::string v = tag + std::to_string(i);
      ASSERT_TRUE(producer.send(kTopic, 0, std::nullopt, as_bytes(v)).ok());
      Result<std::vector<client::DeliveryReport>> r = producer.flush();
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->size(), 1u);
      if (r->front().error == Error::none) acked[v] = r->front().offset;
    }
  });
  return acked;
}

// Every record of the partition, by offset, read through broker `via`.
std::map<int64_t, std::string> consume_all(ClusterSim& c, int32_t via, size_t expected) {
  std::map<int64_t, std::string> got;
  c.run_client(via, [&](Runtime&, client::Cluster& cluster) {
    client::Consumer consumer(cluster, client::ConsumerConfig{});
    consumer.assign({{kTopic, 0}});
    consumer.seek({kTopic, 0}, 0);
    for (int round = 0; round < 60 && got.size() < expected; ++round) {
      Result<std::vector<client::ConsumedRecord>> records = consumer.poll(1s);
      if (!records.ok()) continue;
      for (const auto& r : *records) got[r.offset] = std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size());
    }
  });
  return got;
}

void create(ClusterSim& c, int32_t min_insync) {
  c.run_client(1, [&](Runtime&, client::Cluster& cluster) {
    Result<client::AdminResult> r =
        client::Admin(cluster).create_topic(kTopic, 1, 3, {{"min.insync.replicas", std::to_string(min_insync)}});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->error, Error::none) << r->message;
  });
  ASSERT_TRUE(c.run_until([&] { return c.every_image([](const auto& image) { return image.topic(kTopic) != nullptr; }); }, 10s));
}

int64_t log_end_on(ClusterSim& c, int32_t node) {
  std::shared_ptr<PartitionLog> log = c.live.at(node)->broker()->logs().find({kTopic, 0});
  return log == nullptr ? -1 : log->log_end_offset();
}

TEST(Replication, FollowersCopyTheLogAndAcknowledgedRecordsSurviveTheLeadersDeath) {
  ClusterSim c;
  c.wait_until_ready();
  create(c, 2);
  const std::vector<int32_t> replicas = partition_of(c, 1)->replicas;
  const std::map<std::string, int64_t> first = produce(c, 1, "a", 30);
  ASSERT_EQ(first.size(), 30u) << "acks=all was refused with every replica up";
  // acks=all answered: the whole ISR holds them; every replica's log ends at 30.
  ASSERT_TRUE(c.run_until([&] {
    for (int32_t r : replicas) {
      if (log_end_on(c, r) != 30) return false;
    }
    return true;
  }, 5s)) << "followers did not copy the leader's log";
  const int32_t old_leader = partition_of(c, 1)->leader;
  // Fetch v15 (KIP-903): each follower's fetches carry its registration's broker epoch, which
  // the leader keeps for the ISR changes it asks for.
  const std::shared_ptr<replication::Partition> led = c.live.at(old_leader)->broker()->partitions().find({kTopic, 0});
  ASSERT_NE(led, nullptr);
  for (int32_t r : replicas) {
    if (r == old_leader) continue;
    const controller::BrokerRegistration* b = c.live.at(old_leader)->metadata()->image().broker(r);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(led->follower_broker_epoch(model::BrokerId{r}), b->epoch.value) << "follower " << r;
  }
  c.sim.crash(c.nodes.at(old_leader), sim::CrashKind::process);
  const int32_t survivor = old_leader == 1 ? 2 : 1;
  ASSERT_TRUE(c.run_until([&] {
    const controller::PartitionState* p = c.live.count(survivor) ? partition_of(c, survivor) : nullptr;
    return p != nullptr && p->leader != old_leader && p->leader >= 0;
  }, 30s)) << "no new leader after the old one died";
  const std::map<std::string, int64_t> second = produce(c, survivor, "b", 20);
  EXPECT_EQ(second.size(), 20u) << "acks=all with two of three replicas and min.insync.replicas=2";
  const std::map<int64_t, std::string> read = consume_all(c, survivor, first.size() + second.size());
  for (const auto* acked : {&first, &second}) {
    for (const auto& [value, offset] : *acked) {
      auto it = read.find(offset);
      ASSERT_NE(it, read.end()) << "acknowledged " << value << " at " << offset << " is lost";
      EXPECT_EQ(it->second, value) << "offset " << offset;
    }
  }
}

TEST(Replication, APausedFollowerLeavesTheIsrAndComesBackOnceCaughtUp) {
  ClusterSim c;
  c.wait_until_ready();
  create(c, 2);
  ASSERT_EQ(produce(c, 1, "a", 5).size(), 5u);
  const controller::PartitionState before = *partition_of(c, 1);
  const int32_t follower = before.replicas.at(before.replicas.front() == before.leader ? 1 : 0);
  c.sim.pause(c.nodes.at(follower));
  // replica.lag.time.max.ms in the cluster scenario's configs, plus the check interval.
  ASSERT_TRUE(c.run_until([&] {
    const controller::PartitionState* p = partition_of(c, before.leader);
    return p != nullptr && p->isr.size() == 2;
  }, 60s)) << "the paused follower stayed in the ISR";
  EXPECT_EQ(controller::contains(partition_of(c, before.leader)->isr, follower), false);
  const std::map<std::string, int64_t> during = produce(c, before.leader, "p", 5);
  EXPECT_EQ(during.size(), 5u) << "acks=all with the two replicas left in the ISR";
  c.sim.resume(c.nodes.at(follower));
  ASSERT_TRUE(c.run_until([&] {
    const controller::PartitionState* p = partition_of(c, before.leader);
    return p != nullptr && p->isr.size() == 3;
  }, 60s)) << "the follower did not rejoin the ISR after catching up";
  EXPECT_EQ(log_end_on(c, follower), 10);
}

}  // namespace
}  // namespace samsa::test
