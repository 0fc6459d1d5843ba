// ClusterSim: the cluster scenario's KRaft cluster (three combined nodes and a broker-only node,
// sim/scenarios/cluster_scenario.h) on a Simulator without faults, for tests that drive it by
// hand: wait until every broker is registered and unfenced, run a test body on a client node or
// inside a node (a fiber of that node, so it may call its BrokerLifecycle), and run the world
// until every node's image satisfies a predicate.
//
// Threading: the test's thread drives the simulator; bodies run on fibers of simulated nodes.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "client/admin.h"
#include "client/cluster.h"
#include "server/node.h"
#include "sim/scenarios/cluster_scenario.h"
#include "sim/world/simulator.h"

namespace samsa::test {

using namespace std::chrono_literals;

struct ClusterSim {
  static constexpr Duration kReadyMax = 60s;
  static constexpr Duration kBodyMax = 120s;

  explicit ClusterSim(controller::ControllerBugs bugs = {}, uint64_t seed = 1)
      : sim(sim::SimOptions{seed, LogLevel::error, false, {}}) {
    for (int32_t id = 1; id <= sim::kClusterBrokerOnlyNode; ++id) {
      configs[id] = sim::cluster_node_config(id, bugs);
      nodes[id] = sim.add_node(sim::cluster_host(id), [this, id](Runtime& rt) { node_main(rt, id); });
      sim.start(nodes[id]);
    }
  }

  // Runs until every node is up, caught up and unfenced in every node's image under the broker
  // epoch of its running registration.
  void wait_until_ready() {
    ASSERT_TRUE(run_until([&] { return ready(); }, kReadyMax)) << "the cluster did not come up";
  }

  // Runs the simulator until pred() holds (checked after every step) or `limit` of simulated
  // time passed; returns whether it held.
  bool run_until(const std::function<bool()>& pred, Duration limit) {
    const Instant end = sim.now() + limit;
    while (!pred()) {
      if (sim.now() >= end || !sim.step()) return pred();
    }
    return true;
  }

  // Whether every live node's applied image satisfies `pred`.
  bool every_image(const std::function<bool(const controller::MetadataImage&)>& pred) const {
    if (live.size() != static_cast<size_t>(sim::kClusterBrokerOnlyNode)) return false;
    for (const auto& [id, node] : live) {
      if (!pred(node->metadata()->image())) return false;
    }
    return true;
  }

  // Runs body on a new client node whose bootstrap is broker `via`, until it returns.
  void run_client(int32_t via, const std::function<void(Runtime&, client::Cluster&)>& body) {
    bool done = false;
    NodeId c = sim.add_node("client" + std::to_string(++clients), [&](Runtime& rt) {
      client::ClientConfig cc{{Address{sim::cluster_host(via), sim::kClusterBrokerPort}}, "test"};
      cc.request_timeout = 10s;  // forwarded requests wait for the quorum's commit
      client::Cluster cluster(rt, cc);
      body(rt, cluster);
      done = true;
    });
    sim.start(c);
    ASSERT_TRUE(run_until([&] { return done; }, kBodyMax)) << "client never finished";
  }

  // Creates a topic through broker `via` and runs until every image has it.
  void create_topic(const std::string& name, int32_t partitions, int16_t replication_factor, int32_t via = 2) {
    run_client(via, [&](Runtime&, client::Cluster& cluster) {
      client::Admin admin(cluster);
      Result<client::AdminResult> r = admin.create_topic(name, partitions, replication_factor, {});
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->error, kafka::Error::none) << r->message;
    });
    EXPECT_TRUE(run_until([&] { return every_image([&](const auto& image) { return image.topic(name) != nullptr; }); }, 10s))
        << "topic " << name << " did not reach every broker";
  }

  // Runs body on a fiber of node `id` (which must be live), until it returns.
  void run_on(int32_t id, const std::function<void(Runtime&, server::Node&)>& body) {
    ASSERT_TRUE(live.count(id)) << "node " << id << " is not running";
    bool done = false;
    Runtime& rt = *runtimes.at(id);
    server::Node& node = *live.at(id);
    rt.spawn("test-body", [&] {
      body(rt, node);
      done = true;
    });
    ASSERT_TRUE(run_until([&] { return done; }, kBodyMax)) << "body on node " << id << " never finished";
  }

  // The node the quorum elected active controller, or nullptr.
  server::Node* active_controller() const {
    for (const auto& [id, node] : live) {
      if (node->quorum_controller() != nullptr && node->quorum_controller()->active()) return node;
    }
    return nullptr;
  }

  bool ready() const {
    if (live.size() != static_cast<size_t>(sim::kClusterBrokerOnlyNode)) return false;
    for (const auto& [id, node] : live) {
      const server::BrokerLifecycle* l = node->lifecycle();
      if (l == nullptr || !l->caught_up()) return false;
    }
    return every_image([&](const controller::MetadataImage& image) {
      for (const auto& [id, node] : live) {
        const controller::BrokerRegistration* b = image.broker(id);
        if (b == nullptr || b->fenced || b->epoch.value != node->lifecycle()->broker_epoch()) return false;
      }
      return true;
    });
  }

  // Declared before the simulator: its destruction unwinds the nodes, which use them.
  std::map<int32_t, server::NodeConfig> configs;
  std::map<int32_t, server::Node*> live;
  std::map<int32_t, Runtime*> runtimes;
  sim::Simulator sim;
  std::map<int32_t, NodeId> nodes;
  int clients = 0;

 private:
  void node_main(Runtime& rt, int32_t id) {
    server::Node node(rt, configs.at(id));
    struct Unregister {
      ClusterSim& s;
      int32_t id;
      ~Unregister() {
        s.live.erase(id);
        s.runtimes.erase(id);
      }
    } unregister{*this, id};
    if (!node.start().ok()) {
      node.stop();
      return;
    }
    live[id] = &node;
    runtimes[id] = &rt;
    (void)node.wait_for_failure(Deadline::never());
    node.stop();
  }
};

}  // namespace samsa::test
