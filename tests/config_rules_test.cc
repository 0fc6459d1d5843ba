// Kafka's bounds on topic and broker configs: what Kafka would refuse is refused with its kind of
// message, before anything changes.
#include <gtest/gtest.h>

#include "broker/broker_config.h"
#include "broker/config_rules.h"

namespace samsa::broker {
namespace {

TEST(ConfigRules, TopicConfigsWithinKafkasBounds) {
  EXPECT_FALSE(check_topic_config("segment.bytes", "1048576"));
  const auto tiny = check_topic_config("segment.bytes", "1");  // a segment per batch: descriptors run out
  ASSERT_TRUE(tiny);
  EXPECT_NE(tiny->find("at least 1048576"), std::string::npos) << *tiny;
  EXPECT_TRUE(check_topic_config("segment.bytes", "4294967296"));  // above Kafka's INT
  EXPECT_TRUE(check_topic_config("segment.ms", "0"));
  EXPECT_FALSE(check_topic_config("retention.ms", "-1"));
  EXPECT_TRUE(check_topic_config("retention.ms", "-2"));
  EXPECT_TRUE(check_topic_config("flush.messages", "0"));
  EXPECT_TRUE(check_topic_config("min.insync.replicas", "0"));
  EXPECT_FALSE(check_topic_config("cleanup.policy", "compact,delete"));
  EXPECT_TRUE(check_topic_config("cleanup.policy", "sometimes"));
  EXPECT_TRUE(check_topic_config("compression.type", "brotli"));
  EXPECT_FALSE(check_topic_config("min.cleanable.dirty.ratio", "0.5"));
  EXPECT_TRUE(check_topic_config("min.cleanable.dirty.ratio", "1.5"));
  EXPECT_TRUE(check_topic_config("unclean.leader.election.enable", "yes"));
  EXPECT_TRUE(check_topic_config("retention.ms", "12x"));
  EXPECT_TRUE(check_topic_config("no.such.config", "1"));
}

TEST(ConfigRules, DynamicBrokerConfigsAndThePropertiesFileShareTheBounds) {
  EXPECT_TRUE(check_dynamic_broker_config("log.segment.bytes", "14"));
  EXPECT_FALSE(check_dynamic_broker_config("log.segment.bytes", "1073741824"));
  EXPECT_TRUE(check_dynamic_broker_config("node.id", "3"));  // not dynamic
  std::string error;
  EXPECT_FALSE(BrokerConfig::parse("log.segment.bytes=100\n", &error).ok());
  EXPECT_NE(error.find("at least 1048576"), std::string::npos) << error;
  EXPECT_TRUE(BrokerConfig::parse("log.segment.bytes=2097152\n", &error).ok());
}

}  // namespace
}  // namespace samsa::broker
