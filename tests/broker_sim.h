// BrokerSim: one samsa broker on a simulator node ("broker:9092", log dir "data",
// flush.messages=1) and client nodes that run a test body against it; plus raw-request helpers
// shared by the broker suites.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "broker/broker.h"
#include "client/cluster.h"
#include "log/record_batch.h"
#include "protocol/messages.h"
#include "sim/simulator.h"

namespace samsa::test {

using namespace std::chrono_literals;
using namespace samsa::kafka;

struct BrokerSim {
  explicit BrokerSim(uint64_t seed = 1) : sim(sim::SimOptions{seed, LogLevel::error, false}) {
    config.listener = Address{"broker", 9092};
    config.log_dir = "data";
    config.log.flush_messages = 1;
    broker = sim.add_node("broker", [this](Runtime& rt) {
      broker::Broker b(rt, config);
      ASSERT_TRUE(b.start().ok());
      live = &b;
      (void)rt.sleep_until(Deadline::never());
    });
    sim.start(broker);
  }

  // Runs body on a client node until it returns.
  void run(const std::function<void(Runtime&, client::Cluster&)>& body) {
    while (live == nullptr && sim.step()) {  // the broker must be listening first
    }
    ASSERT_NE(live, nullptr) << "the broker did not start";
    bool done = false;
    NodeId c = sim.add_node("client" + std::to_string(++clients), [&](Runtime& rt) {
      client::Cluster cluster(rt, client::ClientConfig{{Address{"broker", 9092}}, "test"});
      body(rt, cluster);
      done = true;
    });
    sim.start(c);
    while (!done && sim.step()) {
    }
    ASSERT_TRUE(done) << "client never finished";
  }

  sim::Simulator sim;
  broker::BrokerConfig config;
  NodeId broker;
  broker::Broker* live = nullptr;
  int clients = 0;
};

inline std::vector<std::byte> one_batch(const std::string& value, int64_t ts = 1'767'225'600'000) {
  BatchBuilder b(ts);
  b.add(ts, std::nullopt, as_bytes(value));
  return b.build();
}

// A raw Produce of one record set; returns the partition's error code.
inline int16_t raw_produce(client::Connection& c, const std::string& topic, std::vector<std::byte> records, int16_t acks = -1) {
  ProduceRequest req;
  req.acks = acks;
  req.topics.push_back({.name = topic, .partitions = {{.index = 0, .records = RecordsField{.bytes = std::move(records)}}}});
  auto resp = c.call<ProduceRequest, ProduceResponse>(ApiKey::produce, 7, req, Deadline::never());
  EXPECT_TRUE(resp.ok());
  return resp.ok() ? resp->responses.at(0).partitions.at(0).error_code : -100;
}

}  // namespace samsa::test
