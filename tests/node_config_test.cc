// NodeConfig: Kafka's KRaft property names, and the single broker of before without them.
#include <gtest/gtest.h>

#include <string>

#include "server/node_config.h"

namespace samsa::server {
namespace {

TEST(NodeConfig, WithoutProcessRolesItIsTheSingleBrokerOfBefore) {
  std::string error;
  Result<NodeConfig> c = NodeConfig::parse("node.id=4\nlisteners=PLAINTEXT://localhost:9999\nlog.dirs=/tmp/x\n", &error);
  ASSERT_TRUE(c.ok()) << error;
  EXPECT_FALSE(c->kraft);
  EXPECT_TRUE(c->broker_role);
  EXPECT_FALSE(c->controller_role);
  EXPECT_EQ(c->broker.node_id, 4);
  EXPECT_EQ(c->broker.listener.port, 9999);
  EXPECT_TRUE(c->broker.unknown_keys.empty());
}

TEST(NodeConfig, CombinedRolesSplitTheListenersAndParseTheVoters) {
  std::string error;
  Result<NodeConfig> c = NodeConfig::parse(
      "process.roles=broker,controller\nnode.id=2\n"
      "controller.quorum.voters=1@localhost:19091,2@localhost:19092,3@localhost:19093\n"
      "controller.listener.names=CONTROLLER\n"
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"
      "listeners=CONTROLLER://localhost:19092,PLAINTEXT://localhost:9093\nlog.dirs=/tmp/n2\n",
      &error);
  ASSERT_TRUE(c.ok()) << error;
  EXPECT_TRUE(c->kraft && c->broker_role && c->controller_role);
  EXPECT_EQ(c->voters.size(), 3u);
  EXPECT_EQ(c->controller_listener.port, 19092);
  EXPECT_EQ(c->broker.listener.port, 9093);  // the CONTROLLER entry came first; the broker's is the other
  EXPECT_EQ(c->metadata_log_dir, "/tmp/n2");
  EXPECT_TRUE(c->broker.unknown_keys.empty());
}

TEST(NodeConfig, BrokerOnlyNodeIsAnObserverWithoutAControllerListener) {
  std::string error;
  Result<NodeConfig> c = NodeConfig::parse(
      "process.roles=broker\nnode.id=7\ncontroller.quorum.voters=1@localhost:19091\nlisteners=PLAINTEXT://localhost:9095\n"
      "metadata.log.dir=/tmp/meta\n",
      &error);
  ASSERT_TRUE(c.ok()) << error;
  EXPECT_TRUE(c->broker_role);
  EXPECT_FALSE(c->controller_role);
  EXPECT_EQ(c->metadata_log_dir, "/tmp/meta");
}

TEST(NodeConfig, MistakesAreRefusedWithAMessage) {
  const char* bad[] = {
      "process.roles=broker,zookeeper\nnode.id=1\ncontroller.quorum.voters=1@h:1\n",
      "process.roles=\nnode.id=1\ncontroller.quorum.voters=1@h:1\n",
      "process.roles=controller\nnode.id=5\ncontroller.quorum.voters=1@h:1\nlisteners=CONTROLLER://h:2\n",  // not a voter
      "process.roles=controller\nnode.id=1\ncontroller.quorum.voters=1@h:1\nlisteners=PLAINTEXT://h:2\n",    // no CONTROLLER
      "process.roles=broker\nnode.id=1\ncontroller.quorum.voters=1@h\n",                                    // malformed voter
      "node.id=1\ncontroller.quorum.voters=1@h:1\n",                                                        // voters, no roles
      "process.roles=broker\nnode.id=1\ncontroller.quorum.voters=1@h:1\nlisteners=localhost:9092\n",        // no NAME://
  };
  for (const char* text : bad) {
    std::string error;
    EXPECT_FALSE(NodeConfig::parse(text, &error).ok()) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

}  // namespace
}  // namespace samsa::server
