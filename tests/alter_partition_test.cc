// AlterPartition on the wire in a simulated KRaft cluster (tests/cluster_sim.h): a partition's
// leader sends its ISR change through its BrokerLifecycle to the active controller, whose
// answer carries the partition's new state and whose records reach every broker's image; a stale
// request is refused with Kafka's error and changes nothing, unless the planted bug
// accept-stale-partition-epoch is on (then the same request is accepted: the bug shows over the
// wire); stale leader epochs, other brokers, wrong broker epochs, unknown topics and ineligible
// replicas get Kafka's errors.
#include <gtest/gtest.h>

#include "client/connection.h"
#include "cluster_sim.h"

namespace samsa::test {
namespace {

using kafka::AlterPartitionRequest;
using kafka::AlterPartitionResponse;
using kafka::Error;

constexpr const char* kTopic = "t";

struct Partition0 {
  kafka::Uuid topic_id;
  controller::PartitionState state;
};

// Creates kTopic (one partition, three replicas among the four brokers) and returns partition 0
// once every image has it.
Partition0 create_topic(ClusterSim& c) {
  c.create_topic(kTopic, 1, 3);
  const controller::TopicImage* t = c.live.begin()->second->metadata()->image().topic(kTopic);
  return {t->id, t->partitions.at(0)};
}

// An ISR change of partition 0 as its leader would send it: ISR members with their broker epochs.
AlterPartitionRequest change(const ClusterSim& c, const Partition0& p, const std::vector<int32_t>& isr,
                             model::PartitionEpoch partition_epoch, model::LeaderEpoch leader_epoch) {
  const controller::MetadataImage& image = c.live.begin()->second->metadata()->image();
  AlterPartitionRequest::Partition part{.partition_index = 0, .leader_epoch = leader_epoch.value,
                                        .partition_epoch = partition_epoch.value};
  for (int32_t id : isr) part.new_isr_with_epochs.push_back({.broker_id = id, .broker_epoch = image.broker(id)->epoch.value});
  AlterPartitionRequest req;
  req.topics.push_back({.topic_id = p.topic_id, .partitions = {part}});
  return req;
}

// Sends the request through broker `via`'s lifecycle (so as broker `via`, with its epoch).
AlterPartitionResponse send_from(ClusterSim& c, int32_t via, AlterPartitionRequest req) {
  AlterPartitionResponse resp;
  c.run_on(via, [&](Runtime&, server::Node& node) { resp = node.lifecycle()->alter_partition(req); });
  return resp;
}

int16_t partition_error(const AlterPartitionResponse& r) {
  EXPECT_EQ(r.error_code, 0) << kafka::error_name(r.error_code);
  if (r.topics.size() != 1 || r.topics[0].partitions.size() != 1) return -100;
  return r.topics[0].partitions[0].error_code;
}

// Every node's image but a paused one's (`paused`, -1: none), whose image stands still.
bool every_image_has(const ClusterSim& c, const std::vector<int32_t>& isr, model::PartitionEpoch epoch, int32_t paused = -1) {
  if (c.live.size() != static_cast<size_t>(sim::kClusterBrokerOnlyNode)) return false;
  for (const auto& [id, node] : c.live) {
    if (id == paused) continue;
    const controller::TopicImage* t = node->metadata()->image().topic(kTopic);
    if (t == nullptr || t->partitions[0].isr != isr || t->partitions[0].partition_epoch != epoch) return false;
  }
  return true;
}

// The leader shrinks the ISR; then a request built on the old partition epoch (growing the ISR
// back) is sent. Returns its response; expects the shrink to be answered and applied everywhere.
struct StaleRun {
  AlterPartitionResponse stale;
  std::vector<int32_t> shrunk, full;
  model::PartitionEpoch before;
  int32_t paused = -1;
};

StaleRun shrink_then_send_stale(ClusterSim& c) {
  c.wait_until_ready();
  const Partition0 p = create_topic(c);
  StaleRun run{.shrunk = p.state.isr, .full = p.state.isr, .before = p.state.partition_epoch};
  EXPECT_EQ(p.state.isr.size(), 3u);
  const int32_t leader = p.state.leader;
  // The removed follower is paused: caught up and fetching, the leader's own ISR management
  // would ask for it back at once (and change the partition under the test). Not the active
  // controller, whose pause would take the quorum's leader away too.
  for (auto it = p.state.isr.rbegin(); it != p.state.isr.rend() && run.paused < 0; ++it) {
    const server::QuorumController* qc = c.live.at(*it)->quorum_controller();
    if (*it != leader && (qc == nullptr || !qc->active())) run.paused = *it;
  }
  EXPECT_GE(run.paused, 0);
  std::erase(run.shrunk, run.paused);
  c.sim.pause(c.nodes.at(run.paused));
  AlterPartitionResponse ok = send_from(c, leader, change(c, p, run.shrunk, run.before, p.state.leader_epoch));
  EXPECT_EQ(partition_error(ok), 0) << kafka::error_name(partition_error(ok));
  const model::PartitionEpoch after = model::next(run.before);
  if (ok.topics.size() == 1 && ok.topics[0].partitions.size() == 1) {
    const AlterPartitionResponse::Partition& answered = ok.topics[0].partitions[0];
    EXPECT_EQ(answered.isr, run.shrunk);
    EXPECT_EQ(answered.partition_epoch, after.value);
    EXPECT_EQ(answered.leader_epoch, p.state.leader_epoch.value);  // an ISR change keeps the leader
    EXPECT_EQ(answered.leader_id, leader);
    EXPECT_EQ(ok.topics[0].topic_id, p.topic_id);
  }
  EXPECT_TRUE(c.run_until([&] { return every_image_has(c, run.shrunk, after, run.paused); }, 10s))
      << "the new ISR did not reach every broker";
  run.stale = send_from(c, leader, change(c, p, run.full, run.before, p.state.leader_epoch));
  return run;
}

TEST(AlterPartition, TheLeadersChangeReachesEveryImageAndAStaleOneIsRefused) {
  ClusterSim c;
  StaleRun run = shrink_then_send_stale(c);
  EXPECT_EQ(partition_error(run.stale), kafka::code(Error::invalid_update_version));
  const model::PartitionEpoch after = model::next(run.before);
  c.sim.run_for(3s);  // whatever the refusal could have written has had time to spread
  EXPECT_TRUE(every_image_has(c, run.shrunk, after, run.paused)) << "a refused request changed the partition";
}

TEST(AlterPartition, PlantedBugAcceptStalePartitionEpochIsVisibleOverTheWire) {
  controller::ControllerBugs bugs;
  ASSERT_TRUE(bugs.enable("accept-stale-partition-epoch"));
  ClusterSim c(bugs);
  StaleRun run = shrink_then_send_stale(c);
  EXPECT_EQ(partition_error(run.stale), 0) << "the bug should let the stale request through";
  const model::PartitionEpoch twice = model::next(model::next(run.before));
  EXPECT_TRUE(c.run_until([&] { return every_image_has(c, run.full, twice, run.paused); }, 10s))
      << "the stale request's ISR did not reach every broker";
}

TEST(AlterPartition, StaleLeaderEpochAndAnotherBrokerAreRefused) {
  ClusterSim c;
  c.wait_until_ready();
  const Partition0 p = create_topic(c);
  const int32_t leader = p.state.leader;
  const std::vector<int32_t> shrunk(p.state.isr.begin(), p.state.isr.end() - 1);
  const model::LeaderEpoch old_leader_epoch{p.state.leader_epoch.value - 1};
  AlterPartitionResponse r = send_from(c, leader, change(c, p, shrunk, p.state.partition_epoch, old_leader_epoch));
  EXPECT_EQ(partition_error(r), kafka::code(Error::fenced_leader_epoch));
  // From a replica that does not lead: Kafka's controller answers INVALID_REQUEST.
  const int32_t follower = p.state.isr.back();
  ASSERT_NE(follower, leader);
  r = send_from(c, follower, change(c, p, shrunk, p.state.partition_epoch, p.state.leader_epoch));
  EXPECT_EQ(partition_error(r), kafka::code(Error::invalid_request));
  // Epochs ahead of the controller's: it must be behind (NOT_CONTROLLER, the leader looks again).
  r = send_from(c, leader, change(c, p, shrunk, model::next(p.state.partition_epoch), p.state.leader_epoch));
  EXPECT_EQ(partition_error(r), kafka::code(Error::not_controller));
  c.sim.run_for(3s);
  EXPECT_TRUE(every_image_has(c, p.state.isr, p.state.partition_epoch)) << "a refused request changed the partition";
}

// Raw requests to the controllers' listener, as any other sender (not a BrokerLifecycle) would
// send them: the broker epoch is checked for the whole request, topics are found by id (v2+) or
// name (v0-1), each ISR member's broker epoch must be its registration's (v3), and a controller
// that is not active answers NOT_CONTROLLER.
TEST(AlterPartition, WrongBrokerEpochUnknownTopicAndIneligibleReplicaOnTheControllerListener) {
  ClusterSim c;
  c.wait_until_ready();
  const Partition0 p = create_topic(c);
  const int32_t leader = p.state.leader;
  server::Node* active = c.active_controller();
  ASSERT_NE(active, nullptr);
  const int32_t active_id = active->config().broker.node_id;
  const int32_t passive_id = active_id == 1 ? 2 : 1;
  const int64_t epoch = active->metadata()->image().broker(leader)->epoch.value;
  const std::vector<int32_t> shrunk(p.state.isr.begin(), p.state.isr.end() - 1);
  AlterPartitionRequest good = change(c, p, shrunk, p.state.partition_epoch, p.state.leader_epoch);
  good.broker_id = leader;
  good.broker_epoch = epoch;
  c.run_client(1, [&](Runtime& rt, client::Cluster&) {
    auto send = [&](int32_t controller, AlterPartitionRequest req, int16_t version) {
      const Address at{sim::cluster_host(controller), sim::kClusterControllerPort};
      Result<std::unique_ptr<client::Connection>> conn = client::Connection::open(rt, at, "test", rt.after(5s));
      EXPECT_TRUE(conn.ok());
      if (!conn.ok()) return AlterPartitionResponse{};
      Result<AlterPartitionResponse> r =
          (*conn)->call<AlterPartitionRequest, AlterPartitionResponse>(kafka::ApiKey::alter_partition, version, req, rt.after(5s));
      EXPECT_TRUE(r.ok());
      return r.ok() ? *r : AlterPartitionResponse{};
    };
    AlterPartitionRequest req = good;
    req.broker_epoch = epoch + 1;
    AlterPartitionResponse r = send(active_id, req, 3);
    EXPECT_EQ(r.error_code, kafka::code(Error::stale_broker_epoch));
    EXPECT_TRUE(r.topics.empty());
    req = good;
    req.broker_id = 99;  // never registered
    EXPECT_EQ(send(active_id, req, 3).error_code, kafka::code(Error::stale_broker_epoch));
    req = good;
    req.topics[0].topic_id = kafka::Uuid::from_random(1, 2);
    EXPECT_EQ(partition_error(send(active_id, req, 3)), kafka::code(Error::unknown_topic_id));
    req = good;
    req.topics[0].topic_name = "nope";
    req.topics[0].partitions[0].new_isr = shrunk;
    EXPECT_EQ(partition_error(send(active_id, req, 1)), kafka::code(Error::unknown_topic_or_partition));
    req = good;
    req.topics[0].partitions[0].new_isr_with_epochs.back().broker_epoch += 1;  // not its registration's
    EXPECT_EQ(partition_error(send(active_id, req, 3)), kafka::code(Error::ineligible_replica));
    req.topics[0].partitions[0].partition_index = 7;
    EXPECT_EQ(partition_error(send(active_id, req, 3)), kafka::code(Error::unknown_topic_or_partition));
    EXPECT_EQ(send(passive_id, good, 3).error_code, kafka::code(Error::not_controller));
    // v1 names the topic and sends the plain ISR; accepted like v3.
    req = good;
    req.topics[0].topic_name = kTopic;
    req.topics[0].partitions[0].new_isr = shrunk;
    AlterPartitionResponse v1 = send(active_id, req, 1);
    EXPECT_EQ(partition_error(v1), 0);
    if (!v1.topics.empty() && !v1.topics[0].partitions.empty()) {
      EXPECT_EQ(v1.topics[0].partitions[0].isr, shrunk);
    }
  });
  EXPECT_TRUE(c.run_until([&] { return every_image_has(c, shrunk, model::next(p.state.partition_epoch)); }, 10s));
}

}  // namespace
}  // namespace samsa::test
