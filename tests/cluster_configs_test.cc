// Topic configs in a simulated KRaft cluster (tests/cluster_sim.h): a broker forwards
// IncrementalAlterConfigs and AlterConfigs for topics to the active controller, which checks
// them against Kafka's bounds and writes ConfigRecords; every broker then describes the topic's
// overrides from its metadata image and its open logs take them. Invalid values are refused
// with INVALID_CONFIG, validate_only changes nothing, AlterConfigs replaces the overrides, and a
// broker's own configs stay with that broker.
#include <gtest/gtest.h>

#include "client/admin.h"
#include "client/connection.h"
#include "cluster_sim.h"

namespace samsa::test {
namespace {

using kafka::DescribeConfigsRequest;
using kafka::DescribeConfigsResponse;
using kafka::Error;
using Overrides = std::map<std::string, std::string>;

constexpr const char* kTopic = "t";

bool every_image_has(const ClusterSim& c, const Overrides& want) {
  return c.every_image([&](const controller::MetadataImage& image) {
    const Overrides* now = image.configs(controller::kConfigTopic, kTopic);
    return now != nullptr ? *now == want : want.empty();
  });
}

// The topic's overrides as broker `via` describes them.
Overrides describe(ClusterSim& c, int32_t via) {
  Overrides out;
  c.run_client(via, [&](Runtime&, client::Cluster& cluster) {
    client::Admin admin(cluster);
    client::AdminResult error;
    Result<std::vector<client::ConfigEntry>> entries = admin.describe_configs(DescribeConfigsRequest::kTopic, kTopic, &error);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(error.error, Error::none) << error.message;
    for (const client::ConfigEntry& e : *entries) {
      if (e.source == DescribeConfigsResponse::kSourceTopic) out[e.name] = e.value.value_or("null");
    }
  });
  return out;
}

client::AdminResult alter(ClusterSim& c, int32_t via, int8_t type, const std::string& name, const Overrides& set,
                          const std::vector<std::string>& remove = {}) {
  client::AdminResult out{Error::unknown_server_error, "not sent"};
  c.run_client(via, [&](Runtime&, client::Cluster& cluster) {
    client::Admin admin(cluster);
    Result<client::AdminResult> r = admin.alter_configs(type, name, set, remove);
    ASSERT_TRUE(r.ok());
    out = *r;
  });
  return out;
}

// A raw request of API `key` at `version` to broker `via`; returns the one resource's result.
template <typename Req, typename Resp>
typename decltype(Resp::responses)::value_type raw(ClusterSim& c, int32_t via, kafka::ApiKey key, int16_t version, Req req) {
  typename decltype(Resp::responses)::value_type out{};
  c.run_client(via, [&](Runtime& rt, client::Cluster&) {
    const Address at{sim::cluster_host(via), sim::kClusterBrokerPort};
    Result<std::unique_ptr<client::Connection>> conn = client::Connection::open(rt, at, "test", rt.after(5s));
    ASSERT_TRUE(conn.ok());
    Result<Resp> r = (*conn)->template call<Req, Resp>(key, version, req, rt.after(10s));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->responses.size(), 1u);
    out = r->responses[0];
  });
  return out;
}

TEST(ClusterConfigs, AlteredThroughOneBrokerDescribedByEveryBrokerAndTakenByTheLogs) {
  ClusterSim c;
  c.wait_until_ready();
  c.create_topic(kTopic, 1, 3);
  client::AdminResult r = alter(c, 1, DescribeConfigsRequest::kTopic, kTopic, {{"retention.ms", "1000"}});
  EXPECT_EQ(r.error, Error::none) << r.message;
  EXPECT_EQ(describe(c, 1), (Overrides{{"retention.ms", "1000"}}));  // the broker asked sees its own write
  ASSERT_TRUE(c.run_until([&] { return every_image_has(c, {{"retention.ms", "1000"}}); }, 10s));
  for (int32_t via = 2; via <= sim::kClusterBrokerOnlyNode; ++via) {
    EXPECT_EQ(describe(c, via), (Overrides{{"retention.ms", "1000"}})) << "broker " << via;
  }
  // Every replica's open log follows the image (TopicManager::adopt through the reconciliation).
  auto logs_follow = [&](int64_t retention_ms) {
    for (const auto& [id, node] : c.live) {
      const controller::TopicImage* t = node->metadata()->image().topic(kTopic);
      if (!controller::contains(t->partitions[0].replicas, id)) continue;
      std::shared_ptr<PartitionLog> log = node->broker()->logs().find({kTopic, 0});
      if (log == nullptr || log->config().retention_ms != retention_ms) return false;
    }
    return true;
  };
  EXPECT_TRUE(c.run_until([&] { return logs_follow(1000); }, 10s)) << "an open log kept its old retention";
  // A delete through another broker (the broker-only one) removes the override everywhere.
  r = alter(c, sim::kClusterBrokerOnlyNode, DescribeConfigsRequest::kTopic, kTopic, {}, {"retention.ms"});
  EXPECT_EQ(r.error, Error::none) << r.message;
  EXPECT_TRUE(describe(c, sim::kClusterBrokerOnlyNode).empty());
  EXPECT_TRUE(c.run_until([&] { return every_image_has(c, {}); }, 10s));
  EXPECT_TRUE(c.run_until([&] { return logs_follow(c.configs.at(1).broker.log.retention_ms); }, 10s));
}

TEST(ClusterConfigs, InvalidValuesUnknownTopicsAndValidateOnlyChangeNothing) {
  ClusterSim c;
  c.wait_until_ready();
  c.create_topic(kTopic, 1, 3);
  ASSERT_EQ(alter(c, 1, DescribeConfigsRequest::kTopic, kTopic, {{"retention.ms", "1000"}}).error, Error::none);
  client::AdminResult r = alter(c, 2, DescribeConfigsRequest::kTopic, kTopic, {{"retention.ms", "soon"}});
  EXPECT_EQ(r.error, Error::invalid_config);
  EXPECT_EQ(r.message, "Invalid value soon for configuration retention.ms: Not a number");
  r = alter(c, 2, DescribeConfigsRequest::kTopic, kTopic, {{"retention.ms", "5"}, {"segment.bytes", "1"}});
  EXPECT_EQ(r.error, Error::invalid_config);  // one bad value refuses the whole resource
  EXPECT_EQ(alter(c, 3, DescribeConfigsRequest::kTopic, kTopic, {{"no.such.config", "1"}}).error, Error::invalid_config);
  EXPECT_EQ(alter(c, 3, DescribeConfigsRequest::kTopic, "nope", {{"retention.ms", "5"}}).error,
            Error::unknown_topic_or_partition);
  // validate_only: checked (a bad value still fails) and answered, never written.
  kafka::IncrementalAlterConfigsRequest check;
  check.validate_only = true;
  check.resources.push_back({.resource_type = DescribeConfigsRequest::kTopic, .resource_name = kTopic,
                             .configs = {{.name = "retention.ms", .config_operation = 0, .value = "5000"}}});
  using Incremental = kafka::IncrementalAlterConfigsResponse;
  auto result = raw<kafka::IncrementalAlterConfigsRequest, Incremental>(c, 2, kafka::ApiKey::incremental_alter_configs, 1, check);
  EXPECT_EQ(result.error_code, 0) << result.error_message.value_or("");
  check.resources[0].configs[0].value = "-5";
  result = raw<kafka::IncrementalAlterConfigsRequest, Incremental>(c, 2, kafka::ApiKey::incremental_alter_configs, 1, check);
  EXPECT_EQ(result.error_code, kafka::code(Error::invalid_config));
  c.sim.run_for(3s);  // whatever a refusal could have written has had time to spread
  EXPECT_TRUE(every_image_has(c, {{"retention.ms", "1000"}})) << "a refused or validate-only request changed the configs";
  EXPECT_EQ(describe(c, 3), (Overrides{{"retention.ms", "1000"}}));
}

TEST(ClusterConfigs, AlterConfigsReplacesTheOverridesAndBrokerConfigsStayLocal) {
  ClusterSim c;
  c.wait_until_ready();
  c.create_topic(kTopic, 1, 3);
  ASSERT_EQ(alter(c, 1, DescribeConfigsRequest::kTopic, kTopic, {{"retention.ms", "1000"}, {"segment.ms", "600000"}}).error,
            Error::none);
  kafka::AlterConfigsRequest replace;
  replace.resources.push_back({.resource_type = DescribeConfigsRequest::kTopic, .resource_name = kTopic,
                               .configs = {{.name = "retention.bytes", .value = "1048576"}}});
  auto result = raw<kafka::AlterConfigsRequest, kafka::AlterConfigsResponse>(c, 3, kafka::ApiKey::alter_configs, 2, replace);
  EXPECT_EQ(result.error_code, 0) << result.error_message.value_or("");
  EXPECT_EQ(describe(c, 3), (Overrides{{"retention.bytes", "1048576"}}));
  EXPECT_TRUE(c.run_until([&] { return every_image_has(c, {{"retention.bytes", "1048576"}}); }, 10s));
  // A broker's dynamic configs are its own (not in the metadata log): asked of that broker.
  EXPECT_EQ(alter(c, 2, DescribeConfigsRequest::kBroker, "2", {{"log.retention.ms", "5000"}}).error, Error::none);
  EXPECT_EQ(alter(c, 2, DescribeConfigsRequest::kBroker, "2", {{"log.retention.ms", "x"}}).error, Error::invalid_config);
  EXPECT_EQ(c.live.at(2)->broker()->topics().configs_of({true, "2"})->at("log.retention.ms"), "5000");
}

}  // namespace
}  // namespace samsa::test
