// The broker's newer protocol surface in the simulator, through raw requests at the versions
// real clients use: topic ids (creation, Metadata v12 by name and by id, persistence across a
// crash), Fetch's response budget (KIP-74), strict offset commits, static membership (KIP-345)
// and the admin APIs.
#include <gtest/gtest.h>

#include "broker_sim.h"
#include "client/admin.h"
#include "client/connection.h"
#include "protocol/api_versions.h"
#include "protocol/group_messages.h"

namespace samsa::test {
namespace {

std::unique_ptr<client::Connection> connect(Runtime& rt) {
  auto c = client::Connection::open(rt, Address{"broker", 9092}, "raw", rt.after(5s));
  EXPECT_TRUE(c.ok());
  return c.ok() ? std::move(*c) : nullptr;
}

MetadataResponse metadata(client::Connection& c, Runtime& rt, std::vector<MetadataRequest::Topic> topics) {
  MetadataRequest m;
  m.topics = std::move(topics);
  m.allow_auto_topic_creation = false;
  auto r = c.call<MetadataRequest, MetadataResponse>(ApiKey::metadata, 12, m, rt.after(5s));
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : MetadataResponse{};
}

TEST(BrokerProtocol, TopicIdsAreMadeAtCreationReturnedByIdAndKeptAcrossACrash) {
  BrokerSim b;
  Uuid id;
  b.run([&](Runtime& rt, client::Cluster&) {
    auto c = connect(rt);
    CreateTopicsRequest req;
    req.topics.push_back({.name = "ids", .num_partitions = 2, .replication_factor = 1});
    auto created = c->call<CreateTopicsRequest, CreateTopicsResponse>(ApiKey::create_topics, 7, req, rt.after(5s));
    ASSERT_TRUE(created.ok());
    ASSERT_EQ(created->topics.size(), 1u);
    EXPECT_EQ(created->topics[0].error_code, 0);
    EXPECT_EQ(created->topics[0].num_partitions, 2);
    ASSERT_TRUE(created->topics[0].configs.has_value());
    EXPECT_FALSE(created->topics[0].configs->empty());
    id = created->topics[0].topic_id;
    EXPECT_FALSE(id.is_zero());

    MetadataResponse byname = metadata(*c, rt, {{.name = "ids"}});
    ASSERT_EQ(byname.topics.size(), 1u);
    EXPECT_EQ(byname.topics[0].topic_id, id);
    ASSERT_EQ(byname.topics[0].partitions.size(), 2u);
    for (const auto& p : byname.topics[0].partitions) EXPECT_EQ(p.leader_epoch, 0);

    MetadataResponse byid = metadata(*c, rt, {{.topic_id = id, .name = std::nullopt}});
    ASSERT_EQ(byid.topics.size(), 1u);
    EXPECT_EQ(byid.topics[0].name, "ids");
    EXPECT_EQ(byid.topics[0].error_code, 0);

    Uuid other = id;
    other.bytes[15] ^= 1;
    MetadataResponse unknown = metadata(*c, rt, {{.topic_id = other, .name = std::nullopt}});
    ASSERT_EQ(unknown.topics.size(), 1u);
    EXPECT_EQ(unknown.topics[0].error_code, code(Error::unknown_topic_id));
    EXPECT_FALSE(unknown.topics[0].name.has_value());
  });
  b.sim.crash(b.broker);
  b.live = nullptr;
  b.sim.start(b.broker);
  b.run([&](Runtime& rt, client::Cluster&) {
    auto c = connect(rt);
    MetadataResponse all = metadata(*c, rt, {{.name = "ids"}});
    ASSERT_EQ(all.topics.size(), 1u);
    EXPECT_EQ(all.topics[0].topic_id, id) << "the topic id must survive a restart";
    // DeleteTopics v6 by id.
    DeleteTopicsRequest del;
    del.topics.push_back({.name = std::nullopt, .topic_id = id});
    auto deleted = c->call<DeleteTopicsRequest, DeleteTopicsResponse>(ApiKey::delete_topics, 6, del, rt.after(5s));
    ASSERT_TRUE(deleted.ok());
    ASSERT_EQ(deleted->responses.size(), 1u);
    EXPECT_EQ(deleted->responses[0].error_code, 0);
    EXPECT_EQ(deleted->responses[0].name, "ids");
    EXPECT_EQ(metadata(*c, rt, {{.name = "ids"}}).topics.at(0).error_code, code(Error::unknown_topic_or_partition));
  });
}

int16_t produce_to(client::Connection& c, Runtime& rt, const std::string& topic, int32_t partition, std::vector<std::byte> batch) {
  ProduceRequest req;
  req.acks = -1;
  req.topics.push_back({.name = topic, .partitions = {{.index = partition, .records = RecordsField{.bytes = std::move(batch)}}}});
  auto resp = c.call<ProduceRequest, ProduceResponse>(ApiKey::produce, 9, req, rt.after(10s));
  EXPECT_TRUE(resp.ok());
  return resp.ok() ? resp->responses.at(0).partitions.at(0).error_code : -100;
}

std::vector<std::byte> batch_of(size_t value_bytes, int64_t ts) {
  BatchBuilder bb(ts);
  const std::string value(value_bytes, 'v');
  bb.add(ts, std::nullopt, as_bytes(value));
  return bb.build();
}

// Fetch v13+ names topics by id (KIP-516): the answer carries the id back with the records; an id
// no topic has is answered UNKNOWN_TOPIC_ID (v15's ReplicaState is the follower's, tested in
// replication_test.cc).
TEST(BrokerProtocol, FetchByTopicIdAndUnknownIds) {
  BrokerSim b;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("byid", 1, 1, {})->error, Error::none);
    auto c = connect(rt);
    ASSERT_EQ(produce_to(*c, rt, "byid", 0, batch_of(100, 1000)), 0);
    const Uuid id = metadata(*c, rt, {{.name = "byid"}}).topics.at(0).topic_id;
    Uuid other = id;
    other.bytes[15] ^= 1;
    for (int16_t v : {13, 15}) {
      FetchRequest f;
      f.max_wait_ms = 0;
      f.topics.push_back({.topic_id = id, .partitions = {{.partition = 0, .fetch_offset = 0, .partition_max_bytes = 1 << 20}}});
      f.topics.push_back({.topic_id = other, .partitions = {{.partition = 0, .fetch_offset = 0, .partition_max_bytes = 1 << 20}}});
      auto r = c->call<FetchRequest, FetchResponse>(ApiKey::fetch, v, f, rt.after(10s));
      ASSERT_TRUE(r.ok()) << "v" << v;
      ASSERT_EQ(r->responses.size(), 2u);
      EXPECT_EQ(r->responses[0].topic_id, id);
      EXPECT_EQ(r->responses[0].partitions.at(0).error_code, 0);
      EXPECT_GT(r->responses[0].partitions.at(0).records.size(), 100u);
      EXPECT_EQ(r->responses[1].topic_id, other);
      EXPECT_EQ(r->responses[1].partitions.at(0).error_code, code(Error::unknown_topic_id));
    }
  });
}

// Three partitions each holding one 600 kB batch, fetched with max_bytes 1,000,000 (librdkafka's
// fetch.max.bytes): only the first partition with data may exceed what is left of the budget.
TEST(BrokerProtocol, FetchResponseRespectsMaxBytesExceptForTheFirstBatch) {
  BrokerSim b;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("big", 3, 1, {})->error, Error::none);
    auto c = connect(rt);
    constexpr size_t kValue = 600'000;
    for (int32_t p = 0; p < 3; ++p) ASSERT_EQ(produce_to(*c, rt, "big", p, batch_of(kValue, 1000)), 0);
    auto fetch = [&](int32_t max_bytes) {
      FetchRequest f;
      f.max_wait_ms = 0;
      f.max_bytes = max_bytes;
      f.topics.push_back({.topic = "big"});
      for (int32_t p = 0; p < 3; ++p) {
        f.topics[0].partitions.push_back({.partition = p, .fetch_offset = 0, .partition_max_bytes = 1 << 20});
      }
      auto r = c->call<FetchRequest, FetchResponse>(ApiKey::fetch, 12, f, rt.after(10s));
      EXPECT_TRUE(r.ok());
      std::vector<uint64_t> sizes;
      if (r.ok()) for (const auto& p : r->responses.at(0).partitions) sizes.push_back(p.records.size());
      return sizes;
    };
    std::vector<uint64_t> got = fetch(1'000'000);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_GT(got[0], kValue);
    EXPECT_EQ(got[1], 0u) << "a second 600 kB batch does not fit what is left of 1,000,000 bytes";
    EXPECT_EQ(got[2], 0u);
    got = fetch(1'500'000);
    EXPECT_GT(got[1], kValue) << "two batches fit 1,500,000 bytes, three do not";
    EXPECT_EQ(got[2], 0u);
    got = fetch(100);  // smaller than any batch: the first still comes whole, so consumers progress
    EXPECT_GT(got[0], kValue);
    EXPECT_EQ(got[1] + got[2], 0u);
  });
}

// ListOffsets v7: MAX_TIMESTAMP (-3) finds the record with the largest timestamp.
TEST(BrokerProtocol, ListOffsetsMaxTimestamp) {
  BrokerSim b;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("ts", 1, 1, {})->error, Error::none);
    auto c = connect(rt);
    for (int64_t ts : {1000, 5000, 3000}) ASSERT_EQ(produce_to(*c, rt, "ts", 0, batch_of(10, ts)), 0);
    ListOffsetsRequest lo;
    lo.topics.push_back({.name = "ts", .partitions = {{.partition_index = 0, .timestamp = ListOffsetsRequest::kMaxTimestamp}}});
    auto r = c->call<ListOffsetsRequest, ListOffsetsResponse>(ApiKey::list_offsets, 7, lo, rt.after(5s));
    ASSERT_TRUE(r.ok());
    const auto& p = r->topics.at(0).partitions.at(0);
    EXPECT_EQ(p.error_code, 0);
    EXPECT_EQ(p.offset, 1);
    EXPECT_EQ(p.timestamp, 5000);
    EXPECT_EQ(p.leader_epoch, 0);
  });
}

// OffsetForLeaderEpoch (23): the leader's own epoch ends at its log end, a newer one is unknown
// (-1, -1), a current leader epoch newer than the broker's is UNKNOWN_LEADER_EPOCH and an unknown
// partition UNKNOWN_TOPIC_OR_PARTITION; v0 (no current epoch) and v4 (flexible) both parse.
TEST(BrokerProtocol, OffsetForLeaderEpochAnswersWhereAnEpochEnds) {
  BrokerSim b;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("oe", 1, 1, {})->error, Error::none);
    auto c = connect(rt);
    for (int64_t ts : {1000, 2000}) ASSERT_EQ(produce_to(*c, rt, "oe", 0, batch_of(10, ts)), 0);
    OffsetForLeaderEpochRequest req;
    req.replica_id = -1;
    req.topics.push_back({.topic = "oe", .partitions = {{.partition = 0, .current_leader_epoch = 0, .leader_epoch = 0},
                                                        {.partition = 0, .current_leader_epoch = 0, .leader_epoch = 3},
                                                        {.partition = 0, .current_leader_epoch = 1, .leader_epoch = 0},
                                                        {.partition = 7, .leader_epoch = 0}}});
    for (int16_t version : {int16_t{0}, int16_t{4}}) {
      auto r = c->call<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>(ApiKey::offset_for_leader_epoch, version,
                                                                                  req, rt.after(5s));
      ASSERT_TRUE(r.ok()) << version;
      const auto& parts = r->topics.at(0).partitions;
      ASSERT_EQ(parts.size(), 4u);
      EXPECT_EQ(parts[0].error_code, 0);
      EXPECT_EQ(parts[0].end_offset, 2);  // two one-record batches
      EXPECT_EQ(parts[0].leader_epoch, version >= 1 ? 0 : -1);
      EXPECT_EQ(parts[1].error_code, 0);
      EXPECT_EQ(parts[1].end_offset, -1);
      // v0 has no current leader epoch: the third is answered like the first.
      EXPECT_EQ(parts[2].error_code, version >= 2 ? code(Error::unknown_leader_epoch) : 0);
      EXPECT_EQ(parts[3].error_code, code(Error::unknown_topic_or_partition));
    }
  });
}

// OffsetCommit to a topic or partition that does not exist: UNKNOWN_TOPIC_OR_PARTITION for that
// partition only; the others are committed.
TEST(BrokerProtocol, OffsetCommitToUnknownTopicsOrPartitionsFailsPerPartition) {
  BrokerSim b;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("known", 2, 1, {})->error, Error::none);
    auto c = connect(rt);
    OffsetCommitRequest req;
    req.group_id = "g";
    req.topics.push_back({.name = "known", .partitions = {{.partition_index = 1, .committed_offset = 5},
                                                          {.partition_index = 2, .committed_offset = 5}}});
    req.topics.push_back({.name = "nowhere", .partitions = {{.partition_index = 0, .committed_offset = 5}}});
    auto resp = c->call<OffsetCommitRequest, OffsetCommitResponse>(ApiKey::offset_commit, 8, req, rt.after(5s));
    ASSERT_TRUE(resp.ok());
    ASSERT_EQ(resp->topics.size(), 2u);
    EXPECT_EQ(resp->topics[0].partitions.at(0).error_code, 0);
    EXPECT_EQ(resp->topics[0].partitions.at(1).error_code, code(Error::unknown_topic_or_partition));
    EXPECT_EQ(resp->topics[1].partitions.at(0).error_code, code(Error::unknown_topic_or_partition));
    OffsetFetchRequest f;
    f.group_id = "g";  // null topics: every committed partition
    auto fetched = c->call<OffsetFetchRequest, OffsetFetchResponse>(ApiKey::offset_fetch, 7, f, rt.after(5s));
    ASSERT_TRUE(fetched.ok());
    ASSERT_EQ(fetched->topics.size(), 1u);
    EXPECT_EQ(fetched->topics[0].name, "known");
    ASSERT_EQ(fetched->topics[0].partitions.size(), 1u);
    EXPECT_EQ(fetched->topics[0].partitions[0].committed_offset, 5);
  });
}

JoinGroupResponse join_static(client::Connection& c, Runtime& rt, const std::string& member_id, const std::string& instance) {
  JoinGroupRequest j;
  j.group_id = "static";
  j.session_timeout_ms = 10000;
  j.rebalance_timeout_ms = 10000;
  j.member_id = member_id;
  j.group_instance_id = instance;
  j.protocol_type = "consumer";
  j.protocols = {{.name = "range", .metadata = {std::byte{1}}}};
  auto r = c.call<JoinGroupRequest, JoinGroupResponse>(ApiKey::join_group, 6, j, rt.after(30s));
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : JoinGroupResponse{};
}

SyncGroupResponse sync_static(client::Connection& c, Runtime& rt, const JoinGroupResponse& joined, const std::string& instance,
                              std::vector<SyncGroupRequest::Assignment> assignments = {}) {
  SyncGroupRequest s{.group_id = "static", .generation_id = joined.generation_id, .member_id = joined.member_id,
                     .group_instance_id = instance, .assignments = std::move(assignments)};
  auto r = c.call<SyncGroupRequest, SyncGroupResponse>(ApiKey::sync_group, 4, s, rt.after(30s));
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : SyncGroupResponse{};
}

int16_t heartbeat(client::Connection& c, Runtime& rt, const JoinGroupResponse& joined, const std::string& instance) {
  HeartbeatRequest hb{.group_id = "static", .generation_id = joined.generation_id, .member_id = joined.member_id,
                      .group_instance_id = instance};
  auto r = c.call<HeartbeatRequest, HeartbeatResponse>(ApiKey::heartbeat, 4, hb, rt.after(5s));
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->error_code : -100;
}

// KIP-345: a static member that restarts (rejoins with its instance id and no member id) keeps
// its assignment and the generation: no rebalance. Its old member id is fenced, DescribeGroups
// shows the instance id, and the session timeout still removes a member that stays away.
TEST(BrokerProtocol, StaticMemberRejoinsWithoutARebalanceAndDuplicatesAreFenced) {
  BrokerSim b;
  b.config.group_initial_rebalance_delay_ms = 0;
  b.run([&](Runtime& rt, client::Cluster&) {
    auto c = connect(rt);
    JoinGroupResponse first = join_static(*c, rt, "", "instance-a");
    ASSERT_EQ(first.error_code, 0) << "a static member needs no MEMBER_ID_REQUIRED round trip";
    ASSERT_EQ(first.leader, first.member_id);
    ASSERT_EQ(first.members.size(), 1u);
    EXPECT_EQ(first.members[0].group_instance_id, "instance-a");
    const std::vector<std::byte> assignment = {std::byte{7}, std::byte{7}};
    ASSERT_EQ(sync_static(*c, rt, first, "instance-a", {{.member_id = first.member_id, .assignment = assignment}}).assignment,
              assignment);

    JoinGroupResponse again = join_static(*c, rt, "", "instance-a");  // the consumer restarted
    ASSERT_EQ(again.error_code, 0);
    EXPECT_NE(again.member_id, first.member_id);
    EXPECT_EQ(again.generation_id, first.generation_id) << "a static rejoin must not rebalance";
    EXPECT_EQ(b.live->groups().snapshot("static")->state, "Stable");
    SyncGroupResponse synced = sync_static(*c, rt, again, "instance-a");
    EXPECT_EQ(synced.error_code, 0);
    EXPECT_EQ(synced.assignment, assignment) << "the restarted member keeps its assignment";

    EXPECT_EQ(heartbeat(*c, rt, first, "instance-a"), code(Error::fenced_instance_id)) << "the old member id is a zombie";
    EXPECT_EQ(join_static(*c, rt, first.member_id, "instance-a").error_code, code(Error::fenced_instance_id));
    EXPECT_EQ(heartbeat(*c, rt, again, "instance-a"), 0);

    DescribeGroupsRequest d{.groups = {"static"}};
    auto described = c->call<DescribeGroupsRequest, DescribeGroupsResponse>(ApiKey::describe_groups, 5, d, rt.after(5s));
    ASSERT_TRUE(described.ok());
    ASSERT_EQ(described->groups.at(0).members.size(), 1u);
    EXPECT_EQ(described->groups[0].members[0].group_instance_id, "instance-a");

    (void)rt.sleep(15s);  // past the 10 s session timeout without a heartbeat
    auto snap = b.live->groups().snapshot("static");
    EXPECT_TRUE(snap->members.empty()) << "the session timeout still applies to static members";
    EXPECT_GT(snap->generation, first.generation_id);
  });
}

// ListGroups v4 filters by state and returns each group's state; FindCoordinator v4 looks up
// several keys at once.
TEST(BrokerProtocol, ListGroupsStateFilterAndBatchedFindCoordinator) {
  BrokerSim b;
  b.config.group_initial_rebalance_delay_ms = 0;
  b.run([&](Runtime& rt, client::Cluster& cluster) {
    ASSERT_EQ(client::Admin(cluster).create_topic("lg", 1, 1, {})->error, Error::none);
    auto c = connect(rt);
    JoinGroupResponse member = join_static(*c, rt, "", "lister");  // group "static", Stable after sync
    ASSERT_EQ(sync_static(*c, rt, member, "lister", {{.member_id = member.member_id, .assignment = {}}}).error_code, 0);
    OffsetCommitRequest commit{.group_id = "idle"};  // a group with offsets and no members: Empty
    commit.topics.push_back({.name = "lg", .partitions = {{.partition_index = 0, .committed_offset = 0}}});
    ASSERT_TRUE((c->call<OffsetCommitRequest, OffsetCommitResponse>(ApiKey::offset_commit, 8, commit, rt.after(5s))).ok());
    auto list = [&](std::vector<std::string> states) {
      ListGroupsRequest req{.states_filter = std::move(states)};
      auto r = c->call<ListGroupsRequest, ListGroupsResponse>(ApiKey::list_groups, 4, req, rt.after(5s));
      EXPECT_TRUE(r.ok());
      std::vector<std::string> out;
      if (r.ok()) for (const auto& g : r->groups) out.push_back(g.group_id + "=" + g.group_state);
      return out;
    };
    EXPECT_EQ(list({}), (std::vector<std::string>{"idle=Empty", "static=Stable"}));
    EXPECT_EQ(list({"Stable"}), (std::vector<std::string>{"static=Stable"}));
    EXPECT_EQ(list({"Empty", "Dead"}), (std::vector<std::string>{"idle=Empty"}));
    FindCoordinatorRequest fc{.key_type = 0, .coordinator_keys = {"a", "b"}};
    auto found = c->call<FindCoordinatorRequest, FindCoordinatorResponse>(ApiKey::find_coordinator, 4, fc, rt.after(5s));
    ASSERT_TRUE(found.ok());
    ASSERT_EQ(found->coordinators.size(), 2u);
    EXPECT_EQ(found->coordinators[1].key, "b");
    EXPECT_EQ(found->coordinators[1].port, 9092);
  });
}

}  // namespace
}  // namespace samsa::test
