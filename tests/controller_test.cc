// The KRaft controller's state machine (MetadataImage) and decisions (Controller): each rule and
// each error, on small hand-built clusters. The random sequences are in
// properties/controller_properties.cc.
#include <gtest/gtest.h>

#include <algorithm>

#include "controller/controller.h"

namespace samsa::controller {
namespace {

using kafka::Error;

kafka::Uuid uuid(uint64_t n) { return kafka::Uuid::from_random(n, n * 7 + 1); }

// A controller and the image its records build, with the metadata offset as the epoch source.
struct Cluster {
  explicit Cluster(ControllerConfig config = {}) : image(config.limits, config.bugs), controller(config) {}

  void apply(const std::vector<MetadataRecord>& records) {
    for (const MetadataRecord& r : records) {
      Status s = image.apply(r);
      ASSERT_TRUE(s.ok()) << s.name();
      ++offset;
    }
  }
  int64_t add_broker(int32_t id, uint64_t incarnation = 0) {
    RegistrationResult r = controller.register_broker(image, {id, uuid(incarnation ? incarnation : 100 + id), {}, {}},
                                                      offset, now);
    EXPECT_EQ(r.error, Error::none);
    apply(r.records);
    return r.broker_epoch;
  }
  HeartbeatResult beat(int32_t id, int64_t metadata_offset) {
    HeartbeatResult r = controller.heartbeat(image, {id, image.broker(id)->epoch.value, metadata_offset}, offset, now);
    apply(r.records);
    return r;
  }
  void add_live_brokers(int n) {
    for (int32_t id = 1; id <= n; ++id) add_broker(id);
    for (int32_t id = 1; id <= n; ++id) beat(id, offset);
  }
  CreateTopicResult create(const std::string& name, int32_t partitions, int16_t rf, PlacementChoice pc = {},
                           std::vector<std::pair<std::string, std::string>> configs = {}) {
    CreateTopicResult r = controller.create_topic(image, {name, partitions, rf, std::move(configs)}, uuid(++ids), pc);
    apply(r.records);
    return r;
  }
  const PartitionState& partition(const std::string& topic, int32_t p) {
    return image.topic(topic)->partitions[static_cast<size_t>(p)];
  }
  AlterPartitionRequest alter(const std::string& topic, int32_t p, std::vector<int32_t> isr) {
    const PartitionState& s = partition(topic, p);
    AlterPartitionRequest req{s.leader, image.broker(s.leader)->epoch, image.topic(topic)->id, p, s.leader_epoch,
                              s.partition_epoch, {}};
    for (int32_t id : isr) req.new_isr.push_back({id, model::BrokerEpoch{-1}});
    return req;
  }

  MetadataImage image;
  Controller controller;
  int64_t offset = 0;
  int64_t now = 0;
  uint64_t ids = 0;
};

TEST(MetadataRecordCodec, RoundTripsEveryRecordType) {
  kafka::PartitionChangeRecord change;
  change.topic_id = uuid(1);
  change.partition_id = 3;
  change.isr = std::vector<int32_t>{1, 2};
  change.leader = 2;
  const std::vector<MetadataRecord> records = {
      kafka::RegisterBrokerRecord{1, false, uuid(2), 5, {{"PLAINTEXT", "h", 9092, 0}}, {}, "r1", true, false, {}},
      kafka::BrokerRegistrationChangeRecord{1, 5, -1, 0, {}},
      kafka::FenceBrokerRecord{1, 5},
      kafka::UnfenceBrokerRecord{1, 5},
      kafka::TopicRecord{"t", uuid(1)},
      kafka::PartitionRecord{0, uuid(1), {1, 2}, {1}, {}, {}, 1, 0, 4, 7, {}, std::nullopt, std::nullopt},
      change,
      kafka::RemoveTopicRecord{uuid(1)},
      kafka::ConfigRecord{kConfigTopic, "t", "retention.ms", std::nullopt},
  };
  for (const MetadataRecord& r : records) {
    Result<MetadataRecord> back = decode_record(encode_record(r));
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(*back == r) << r.index();
  }
  std::vector<std::byte> bad = encode_record(records[4]);
  bad[0] = std::byte{2};  // frame version
  EXPECT_FALSE(decode_record(bad).ok());
  bad = encode_record(records[4]);
  bad.pop_back();
  EXPECT_FALSE(decode_record(bad).ok());
}

TEST(MetadataImage, RefusesRecordsAppliedTwiceOrOutOfOrder) {
  Cluster c;
  c.add_live_brokers(2);
  const CreateTopicResult t = c.create("t", 2, 2);
  ASSERT_EQ(t.error, Error::none);
  const MetadataImage before = c.image;
  for (const MetadataRecord& r : t.records) EXPECT_FALSE(c.image.apply(r).ok());  // topic, partitions again
  EXPECT_FALSE(c.image.apply(kafka::RegisterBrokerRecord{1, false, uuid(101), c.image.broker(1)->epoch.value}).ok());
  EXPECT_FALSE(c.image.apply(kafka::BrokerRegistrationChangeRecord{1, c.image.broker(1)->epoch.value, -1, 0, {}}).ok());
  EXPECT_FALSE(c.image.apply(kafka::BrokerRegistrationChangeRecord{1, 999, 1, 0, {}}).ok());  // stale epoch
  EXPECT_FALSE(c.image.apply(kafka::PartitionRecord{5, t.topic_id, {1}, {1}, {}, {}, 1, 0, 0, 0, {}, {}, {}}).ok());
  kafka::PartitionChangeRecord outside;
  outside.topic_id = t.topic_id;
  outside.partition_id = 0;
  outside.isr = std::vector<int32_t>{7};
  EXPECT_FALSE(c.image.apply(outside).ok());
  kafka::PartitionChangeRecord unknown;
  unknown.topic_id = uuid(999);
  unknown.partition_id = 0;
  unknown.leader = 1;
  EXPECT_FALSE(c.image.apply(unknown).ok());
  EXPECT_TRUE(c.image == before);
  ASSERT_TRUE(c.image.apply(kafka::RemoveTopicRecord{t.topic_id}).ok());
  EXPECT_FALSE(c.image.apply(kafka::RemoveTopicRecord{t.topic_id}).ok());
  EXPECT_EQ(c.image.partition_count(), 0u);
}

TEST(MetadataImage, LimitsRefuseGrowth) {
  ImageLimits limits;
  limits.brokers_max = 1;
  limits.partitions_max = 1;
  MetadataImage image(limits);
  ASSERT_TRUE(image.apply(kafka::RegisterBrokerRecord{1, false, uuid(1), 0}).ok());
  EXPECT_EQ(image.apply(kafka::RegisterBrokerRecord{2, false, uuid(2), 1}).code(), Errc::resource_exhausted);
  ASSERT_TRUE(image.apply(kafka::TopicRecord{"t", uuid(3)}).ok());
  ASSERT_TRUE(image.apply(kafka::PartitionRecord{0, uuid(3), {1}, {1}, {}, {}, 1, 0, 0, 0, {}, {}, {}}).ok());
  EXPECT_EQ(image.apply(kafka::PartitionRecord{1, uuid(3), {1}, {1}, {}, {}, 1, 0, 0, 0, {}, {}, {}}).code(),
            Errc::resource_exhausted);
}

TEST(MetadataImage, SnapshotRebuildsAnEqualImage) {
  Cluster c;
  c.add_live_brokers(3);
  ASSERT_EQ(c.create("a", 3, 2, {}, {{"retention.ms", "1000"}}).error, Error::none);
  ASSERT_EQ(c.create("b", 1, 3).error, Error::none);
  c.apply(c.controller.alter_partition(c.image, c.alter("a", 0, {c.partition("a", 0).leader})).records);
  c.now = 20'000;
  c.beat(1, c.offset);
  c.beat(2, c.offset);
  c.apply(c.controller.expire_sessions(c.image, c.now).records);  // fences broker 3
  ASSERT_TRUE(c.image.broker(3)->fenced);
  Result<MetadataImage> back = MetadataImage::from_records(c.image.snapshot());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == c.image);
  std::vector<MetadataRecord> encoded;
  for (const MetadataRecord& r : c.image.snapshot()) encoded.push_back(*decode_record(encode_record(r)));
  EXPECT_TRUE(*MetadataImage::from_records(encoded) == c.image);
}

TEST(Controller, RegistrationStartsFencedAndHeartbeatUnfencesOnceCaughtUp) {
  Cluster c;
  const int64_t epoch = c.add_broker(1);
  EXPECT_TRUE(c.image.broker(1)->fenced);
  HeartbeatResult behind = c.beat(1, c.offset - 1);
  EXPECT_EQ(behind.error, Error::none);
  EXPECT_FALSE(behind.is_caught_up);
  EXPECT_TRUE(behind.is_fenced);
  EXPECT_TRUE(c.image.broker(1)->fenced);
  HeartbeatResult caught_up = c.beat(1, c.offset);
  EXPECT_TRUE(caught_up.is_caught_up);
  EXPECT_FALSE(caught_up.is_fenced);
  EXPECT_FALSE(c.image.broker(1)->fenced);
  EXPECT_EQ(c.controller.heartbeat(c.image, {1, epoch + 1, c.offset}, c.offset, c.now).error, Error::stale_broker_epoch);
  EXPECT_EQ(c.controller.heartbeat(c.image, {9, 0, c.offset}, c.offset, c.now).error, Error::broker_id_not_registered);
}

TEST(Controller, ReRegistration) {
  Cluster c;
  c.add_live_brokers(2);
  const int64_t epoch = c.image.broker(1)->epoch.value;
  RegistrationResult retry = c.controller.register_broker(c.image, {1, uuid(101), {}, {}}, c.offset, c.now);
  EXPECT_EQ(retry.error, Error::none);
  EXPECT_EQ(retry.broker_epoch, epoch);
  EXPECT_TRUE(retry.records.empty());
  RegistrationResult clash = c.controller.register_broker(c.image, {1, uuid(555), {}, {}}, c.offset, c.now);
  EXPECT_EQ(clash.error, Error::duplicate_broker_registration);
  ASSERT_EQ(c.create("t", 1, 2).error, Error::none);
  c.now += 10'000;  // the old incarnation's session has expired
  const int64_t new_epoch = c.add_broker(1, 555);
  EXPECT_GT(new_epoch, epoch);
  EXPECT_TRUE(c.image.broker(1)->fenced);
  EXPECT_FALSE(contains(c.partition("t", 0).isr, 1));
  EXPECT_NE(c.partition("t", 0).leader, 1);
}

TEST(Controller, SessionExpiryMovesLeadersBeforeTheFence) {
  Cluster c;
  c.add_live_brokers(3);
  ASSERT_EQ(c.create("t", 3, 3).error, Error::none);
  c.now = 9000;
  EXPECT_TRUE(c.controller.expire_sessions(c.image, c.now).records.empty());  // deadline is inclusive
  c.now = 9500;
  c.beat(2, c.offset);
  c.beat(3, c.offset);
  ControllerResult r = c.controller.expire_sessions(c.image, c.now);
  ASSERT_FALSE(r.records.empty());
  EXPECT_TRUE(std::holds_alternative<kafka::BrokerRegistrationChangeRecord>(r.records.back()));
  for (size_t i = 0; i + 1 < r.records.size(); ++i) {
    EXPECT_TRUE(std::holds_alternative<kafka::PartitionChangeRecord>(r.records[i]));
  }
  const std::vector<PartitionState> before = c.image.topic("t")->partitions;
  c.apply(r.records);
  EXPECT_TRUE(c.image.broker(1)->fenced);
  for (size_t p = 0; p < 3; ++p) {
    const PartitionState& s = c.image.topic("t")->partitions[p];
    EXPECT_FALSE(contains(s.isr, 1));
    EXPECT_NE(s.leader, 1);
    EXPECT_GT(s.partition_epoch, before[p].partition_epoch);
    // the new leader is the first remaining ISR member in assignment order
    if (before[p].leader == 1) {
      const auto next = std::find_if(s.replicas.begin(), s.replicas.end(), [](int32_t id) { return id != 1; });
      EXPECT_EQ(s.leader, *next);
      EXPECT_EQ(s.leader_epoch, model::next(before[p].leader_epoch));
    }
  }
  EXPECT_TRUE(c.controller.expire_sessions(c.image, c.now).records.empty());
}

// Controlled shutdown: a heartbeat with want_shut_down fences the broker at once (no session
// expiry), moves its leaderships to other ISR members, and only the next heartbeat, once that is
// committed, says it should shut down. It is not unfenced while it keeps asking.
TEST(Controller, ControlledShutdownMovesLeadershipsThenLetsTheBrokerGo) {
  Cluster c;
  c.add_live_brokers(3);
  ASSERT_EQ(c.create("t", 3, 3).error, Error::none);
  ASSERT_EQ(c.create("solo", 1, 1, PlacementChoice{.start_index = 0}).error, Error::none);
  const int32_t solo_leader = c.partition("solo", 0).leader;
  const std::vector<PartitionState> before = c.image.topic("t")->partitions;
  HeartbeatRequest asking{1, c.image.broker(1)->epoch.value, c.offset, true};
  HeartbeatResult first = c.controller.heartbeat(c.image, asking, c.offset, c.now);
  EXPECT_EQ(first.error, Error::none);
  EXPECT_FALSE(first.should_shut_down);  // the moves are not committed yet
  EXPECT_TRUE(first.is_fenced);
  c.apply(first.records);
  EXPECT_TRUE(c.image.broker(1)->fenced);
  for (size_t p = 0; p < 3; ++p) {
    const PartitionState& s = c.image.topic("t")->partitions[p];
    EXPECT_NE(s.leader, 1);
    EXPECT_FALSE(contains(s.isr, 1));
    if (before[p].leader == 1) {
      EXPECT_EQ(s.leader_epoch, model::next(before[p].leader_epoch));
    }
  }
  // A partition with no other replica has nowhere to go: it goes offline, as in Kafka.
  if (solo_leader == 1) {
    EXPECT_EQ(c.partition("solo", 0).leader, kNoLeader);
  }
  asking.current_metadata_offset = c.offset;
  HeartbeatResult second = c.controller.heartbeat(c.image, asking, c.offset, c.now);
  EXPECT_TRUE(second.should_shut_down);
  EXPECT_TRUE(second.records.empty());
  EXPECT_TRUE(second.is_fenced);
  // Without want_shut_down the same heartbeat would unfence it: the flag is what keeps it fenced.
  asking.want_shut_down = false;
  EXPECT_FALSE(c.controller.heartbeat(c.image, asking, c.offset, c.now).is_fenced);
}

// ElectLeaders (kafka-leader-election.sh): the preferred replica (first in assignment order)
// leads again once it is live and in the ISR; unclean elections only for leaderless partitions.
TEST(Controller, PreferredAndUncleanLeaderElection) {
  Cluster c;
  c.add_live_brokers(3);
  ASSERT_EQ(c.create("t", 1, 3).error, Error::none);
  const int32_t preferred = c.partition("t", 0).replicas.front();
  EXPECT_EQ(c.partition("t", 0).leader, preferred);
  const std::vector<std::pair<std::string, int32_t>> t0{{"t", 0}};
  ElectLeadersResult r = c.controller.elect_leaders(c.image, ElectionType::preferred, t0);
  ASSERT_EQ(r.partitions.size(), 1u);
  EXPECT_EQ(r.partitions[0].error, Error::election_not_needed);
  EXPECT_TRUE(r.records.empty());
  // The preferred replica's session expires: another leads; back, it is not in the ISR yet.
  c.now = 20'000;
  for (int32_t id = 1; id <= 3; ++id) {
    if (id != preferred) c.beat(id, c.offset);
  }
  c.apply(c.controller.expire_sessions(c.image, c.now).records);
  ASSERT_NE(c.partition("t", 0).leader, preferred);
  const model::LeaderEpoch moved = c.partition("t", 0).leader_epoch;
  c.beat(preferred, c.offset);  // unfenced again
  EXPECT_EQ(c.controller.elect_leaders(c.image, ElectionType::preferred, t0).partitions[0].error,
            Error::preferred_leader_not_available);
  std::vector<int32_t> isr = c.partition("t", 0).isr;
  isr.push_back(preferred);
  c.apply(c.controller.alter_partition(c.image, c.alter("t", 0, isr)).records);
  r = c.controller.elect_leaders(c.image, ElectionType::preferred, std::nullopt);  // all partitions
  ASSERT_EQ(r.partitions.size(), 1u);
  EXPECT_EQ(r.partitions[0].error, Error::none);
  c.apply(r.records);
  EXPECT_EQ(c.partition("t", 0).leader, preferred);
  EXPECT_EQ(c.partition("t", 0).leader_epoch, model::next(moved));
  EXPECT_TRUE(c.controller.elect_leaders(c.image, ElectionType::preferred, std::nullopt).partitions.empty());
  // Unclean: a partition with a leader needs none; unknown partitions are named as such.
  const std::vector<std::pair<std::string, int32_t>> two{{"t", 0}, {"nope", 0}};
  r = c.controller.elect_leaders(c.image, ElectionType::unclean, two);
  ASSERT_EQ(r.partitions.size(), 2u);
  EXPECT_EQ(r.partitions[0].error, Error::election_not_needed);
  EXPECT_EQ(r.partitions[1].error, Error::unknown_topic_or_partition);
}

// KIP-966: the last ISR member, fenced, moves to the ELR (the ISR empties) and leads again.
TEST(Controller, LastIsrMemberMovesToTheElrAndComesBackAsLeader) {
  Cluster c;
  c.add_live_brokers(2);
  ASSERT_EQ(c.create("t", 1, 1, {0, 0}).error, Error::none);  // on broker 1
  ASSERT_EQ(c.partition("t", 0).replicas, std::vector<int32_t>{1});
  c.now = 10'000;
  c.beat(2, c.offset);
  c.apply(c.controller.expire_sessions(c.image, c.now).records);
  EXPECT_EQ(c.partition("t", 0).leader, kNoLeader);
  EXPECT_TRUE(c.partition("t", 0).isr.empty());
  EXPECT_EQ(c.partition("t", 0).elr, std::vector<int32_t>{1});
  c.beat(1, c.offset);  // caught up: unfenced and elected again
  EXPECT_EQ(c.partition("t", 0).leader, 1);
  EXPECT_EQ(c.partition("t", 0).isr, std::vector<int32_t>{1});
  EXPECT_TRUE(c.partition("t", 0).elr.empty());
}

// Before KIP-966 (no-elr): the last ISR member stays in the ISR while fenced.
TEST(Controller, WithoutElrTheLastIsrMemberStaysInTheIsr) {
  ControllerConfig config;
  config.bugs.no_elr = true;
  Cluster c(config);
  c.add_live_brokers(2);
  ASSERT_EQ(c.create("t", 1, 1, {0, 0}).error, Error::none);
  c.now = 10'000;
  c.beat(2, c.offset);
  c.apply(c.controller.expire_sessions(c.image, c.now).records);
  EXPECT_EQ(c.partition("t", 0).leader, kNoLeader);
  EXPECT_EQ(c.partition("t", 0).isr, std::vector<int32_t>{1});
  EXPECT_TRUE(c.partition("t", 0).elr.empty());
}

// With min.insync.replicas=2 the follower the ISR loses joins the ELR; the leader then fenced
// leaves the ISR empty and the follower, in the ELR, leads. A registration after a power loss
// (no previous broker epoch) takes the broker out of every ELR.
TEST(Controller, TheElrHoldsWhatTheIsrLostBelowMinInsyncAndAnUncleanRestartLeavesIt) {
  Cluster c;
  c.add_live_brokers(2);
  ASSERT_EQ(c.create("t", 1, 2, {0, 0}, {{kMinInsyncReplicas, "2"}}).error, Error::none);  // leader 1
  c.apply(c.controller.alter_partition(c.image, c.alter("t", 0, {1})).records);
  EXPECT_EQ(c.partition("t", 0).elr, std::vector<int32_t>{2});
  c.now = 10'000;
  c.beat(2, c.offset);
  c.apply(c.controller.expire_sessions(c.image, c.now).records);  // 1 fenced
  EXPECT_EQ(c.partition("t", 0).leader, 2);
  EXPECT_EQ(c.partition("t", 0).isr, std::vector<int32_t>{2});
  EXPECT_EQ(c.partition("t", 0).elr, std::vector<int32_t>{1});
  BrokerRegistrationRequest again{.broker_id = 1, .incarnation_id = kafka::Uuid::from_random(7, 7)};
  c.apply(c.controller.register_broker(c.image, again, 100, c.now).records);  // previous epoch -1
  EXPECT_TRUE(c.partition("t", 0).elr.empty());
}

TEST(Controller, UncleanElectionOnlyWhenEnabled) {
  for (const bool unclean : {false, true}) {
    Cluster c;
    c.add_live_brokers(2);
    ASSERT_EQ(c.create("t", 1, 2, {0, 0}).error, Error::none);  // replicas [1, 2], leader 1
    c.apply(c.controller.alter_partition(c.image, c.alter("t", 0, {1})).records);  // 2 falls behind
    if (unclean) c.apply(c.controller.alter_topic_config(c.image, "t", kUncleanLeaderElection, "true").records);
    c.now = 10'000;
    c.beat(2, c.offset);
    c.apply(c.controller.expire_sessions(c.image, c.now).records);
    EXPECT_EQ(c.partition("t", 0).leader, unclean ? 2 : kNoLeader);
    // Clean: 1 waits in the ELR (KIP-966), the ISR empty.
    EXPECT_EQ(c.partition("t", 0).isr, unclean ? std::vector<int32_t>{2} : std::vector<int32_t>{});
    EXPECT_EQ(c.partition("t", 0).elr, unclean ? std::vector<int32_t>{} : std::vector<int32_t>{1});
  }
}

TEST(Controller, EnablingUncleanElectsLeaderlessPartitions) {
  Cluster c;
  c.add_live_brokers(2);
  ASSERT_EQ(c.create("t", 1, 2, {0, 0}).error, Error::none);
  c.apply(c.controller.alter_partition(c.image, c.alter("t", 0, {1})).records);
  c.now = 10'000;
  c.beat(2, c.offset);
  c.apply(c.controller.expire_sessions(c.image, c.now).records);
  ASSERT_EQ(c.partition("t", 0).leader, kNoLeader);
  EXPECT_EQ(c.controller.alter_topic_config(c.image, "t", kUncleanLeaderElection, "maybe").error, Error::invalid_config);
  c.apply(c.controller.alter_topic_config(c.image, "t", kUncleanLeaderElection, "true").records);
  EXPECT_EQ(c.partition("t", 0).leader, 2);
}

TEST(Controller, CreateTopicValidation) {
  Cluster c;
  c.add_live_brokers(2);
  c.add_broker(3);  // fenced: not counted
  EXPECT_EQ(c.create("", 1, 1).error, Error::invalid_topic_exception);
  EXPECT_EQ(c.create("..", 1, 1).error, Error::invalid_topic_exception);
  EXPECT_EQ(c.create("a/b", 1, 1).error, Error::invalid_topic_exception);
  EXPECT_EQ(c.create(std::string(250, 'x'), 1, 1).error, Error::invalid_topic_exception);
  EXPECT_EQ(c.create("t", 0, 1).error, Error::invalid_partitions);
  EXPECT_EQ(c.create("t", 1, 0).error, Error::invalid_replication_factor);
  EXPECT_EQ(c.create("t", 1, 3).error, Error::invalid_replication_factor);
  EXPECT_EQ(c.create("t", 1, 1, {}, {{kUncleanLeaderElection, "yes"}}).error, Error::invalid_config);
  ASSERT_EQ(c.create("t", -1, -1).error, Error::none);
  EXPECT_EQ(c.create("t", 1, 1).error, Error::topic_already_exists);
  EXPECT_EQ(c.image.topic("t")->partitions.size(), 1u);
  ControllerConfig small;
  small.limits.partitions_max = 2;
  Cluster d(small);
  d.add_live_brokers(1);
  EXPECT_EQ(d.create("t", 3, 1).error, Error::policy_violation);
}

TEST(Controller, PlacementIsKafkasRoundRobin) {
  Cluster c;
  c.add_live_brokers(4);
  ASSERT_EQ(c.create("t", 8, 3, {1, 0}).error, Error::none);
  // first replica (p + 1) mod 4; followers 1 + (shift + j) mod 3 further, shift 1 after a wrap
  const std::vector<std::vector<int32_t>> expected = {{2, 3, 4}, {3, 4, 1}, {4, 1, 2}, {1, 2, 3},
                                                      {2, 4, 1}, {3, 1, 2}, {4, 2, 3}, {1, 3, 4}};
  for (int32_t p = 0; p < 8; ++p) {
    EXPECT_EQ(c.partition("t", p).replicas, expected[static_cast<size_t>(p)]) << p;
    EXPECT_EQ(c.partition("t", p).leader, expected[static_cast<size_t>(p)][0]);
    EXPECT_EQ(c.partition("t", p).isr, expected[static_cast<size_t>(p)]);
  }
}

TEST(Controller, DeleteTopicsAndCreatePartitions) {
  Cluster c;
  c.add_live_brokers(3);
  ASSERT_EQ(c.create("t", 2, 2, {}, {{"retention.ms", "5"}}).error, Error::none);
  EXPECT_EQ(c.controller.create_partitions(c.image, "t", 2, {}).error, Error::invalid_partitions);
  EXPECT_EQ(c.controller.create_partitions(c.image, "nope", 3, {}).error, Error::unknown_topic_or_partition);
  ControllerResult more = c.controller.create_partitions(c.image, "t", 5, {});
  ASSERT_EQ(more.error, Error::none);
  c.apply(more.records);
  EXPECT_EQ(c.image.topic("t")->partitions.size(), 5u);
  for (const PartitionState& p : c.image.topic("t")->partitions) EXPECT_EQ(p.replicas.size(), 2u);
  EXPECT_EQ(c.controller.delete_topic(c.image, "nope").error, Error::unknown_topic_or_partition);
  c.apply(c.controller.delete_topic(c.image, "t").records);
  EXPECT_EQ(c.image.topic("t"), nullptr);
  EXPECT_EQ(c.image.config_count(), 0u);
  EXPECT_EQ(c.create("t", 1, 1).error, Error::none);  // the name is free again
}

TEST(Controller, AlterPartitionChecksEpochsAndIsr) {
  Cluster c;
  c.add_live_brokers(3);
  const CreateTopicResult t = c.create("t", 1, 3, {0, 0});  // replicas [1, 2, 3]
  ASSERT_EQ(t.error, Error::none);
  auto expect = [&](AlterPartitionRequest req, Error e) { EXPECT_EQ(c.controller.alter_partition(c.image, req).error, e); };
  AlterPartitionRequest good = c.alter("t", 0, {1, 2});
  AlterPartitionRequest r = good;
  r.leader_epoch = model::LeaderEpoch{r.leader_epoch.value - 1};
  expect(r, Error::fenced_leader_epoch);
  r = good;
  r.leader_epoch = model::next(r.leader_epoch);
  expect(r, Error::not_controller);
  r = good;
  r.broker_id = 2;
  r.broker_epoch = c.image.broker(2)->epoch;
  expect(r, Error::invalid_request);  // not the leader
  r = good;
  r.broker_epoch = model::next(r.broker_epoch);
  expect(r, Error::stale_broker_epoch);
  expect(c.alter("t", 0, {1, 4}), Error::invalid_request);  // not a replica
  expect(c.alter("t", 0, {2, 3}), Error::invalid_request);  // leaves out the leader
  expect(c.alter("t", 0, {1, 1}), Error::invalid_request);
  r = good;
  r.topic_id = uuid(12345);
  expect(r, Error::unknown_topic_id);
  r = good;
  r.partition = 1;
  expect(r, Error::unknown_topic_or_partition);
  r = c.alter("t", 0, {1, 2});
  r.new_isr[1].broker_epoch = model::BrokerEpoch{999};
  expect(r, Error::ineligible_replica);
  r = good;
  r.leader_recovery_state = 1;  // a recovered partition never goes back to recovering
  expect(r, Error::invalid_request);
  const model::PartitionEpoch epoch = c.partition("t", 0).partition_epoch;
  ControllerResult ok = c.controller.alter_partition(c.image, good);
  ASSERT_EQ(ok.error, Error::none);
  c.apply(ok.records);
  EXPECT_EQ(c.partition("t", 0).isr, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(c.partition("t", 0).partition_epoch, model::next(epoch));
  expect(good, Error::invalid_update_version);  // the same request again is now stale
  // a fenced broker cannot join the ISR
  c.now = 10'000;
  c.beat(1, c.offset);
  c.beat(2, c.offset);
  c.apply(c.controller.expire_sessions(c.image, c.now).records);
  ASSERT_TRUE(c.image.broker(3)->fenced);
  expect(c.alter("t", 0, {1, 2, 3}), Error::ineligible_replica);
}

TEST(ControllerBugs, EnableByName) {
  for (const char* name : ControllerBugs::kNames) {
    ControllerBugs b;
    EXPECT_TRUE(b.enable(name));
    EXPECT_TRUE(b.any());
  }
  for (const char* name : ControllerBugs::kClusterNames) {
    ControllerBugs b;
    EXPECT_TRUE(b.enable(name));
    EXPECT_TRUE(b.any());
  }
  ControllerBugs b;
  EXPECT_FALSE(b.enable("nope"));
  EXPECT_FALSE(b.any());
}

}  // namespace
}  // namespace samsa::controller
