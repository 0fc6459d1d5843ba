#include "sim/scenarios/cluster_nodes.h"

namespace samsa::sim {

const controller::MetadataImage* most_applied_image(const ClusterRegistry& registry) {
  const server::MetadataPublisher* best = nullptr;
  for (const auto& [id, node] : registry.live) {
    const server::MetadataPublisher* m = node->metadata();
    if (m != nullptr && (best == nullptr || m->applied_end() > best->applied_end())) best = m;
  }
  return best != nullptr ? &best->image() : nullptr;
}

namespace {
// Tells the checker, once per incarnation, that the node forgot its broker epoch: asked when a
// halt begins (the process may be killed while it stops) and again once it stopped, as its last
// flush may fail an fsync too and the stop then forgets the epoch (cluster --cluster-brokers 3
// --send-rate 50 --seed 7: a halt on a read error whose shutdown flush failed).
struct UncleanReport {
  ClusterRegistry& registry;
  int32_t id;
  bool reported = false;
  void check(server::Node& node) {
    if (reported || node.broker() == nullptr || !node.broker()->failed_with_loss()) return;
    reported = true;
    if (registry.on_unclean_halt) registry.on_unclean_halt(id);
  }
};
}  // namespace

void cluster_node_main(Runtime& rt, const server::NodeConfig& config, ClusterRegistry& registry) {
  server::Node node(rt, config);
  const int32_t id = config.broker.node_id;
  struct Unregister {
    ClusterRegistry& r;
    int32_t id;
    ~Unregister() { r.live.erase(id); }
  } unregister{registry, id};
  UncleanReport unclean{registry, id};
  if (!node.start().ok()) {
    node.stop();
    return;
  }
  registry.live[id] = &node;
  while (registry.sigterm_armed) {
    const Status s = node.wait_for_failure(rt.after(ClusterRegistry::kSigtermPoll));
    if (s.code() == Errc::io_error) {
      ++registry.disk_halts;
      unclean.check(node);
      registry.live.erase(id);
      node.stop();
      unclean.check(node);
      return;
    }
    if (s.code() != Errc::timed_out) break;
    if (registry.sigterm.erase(id) == 0) continue;
    node.shutdown();
    unclean.check(node);
    registry.live.erase(id);
    ShutdownRecord r{.node = id, .at = rt.now()};
    const controller::MetadataImage& image = node.metadata()->image();
    for (const auto& [name, t] : image.topics()) {
      for (const controller::PartitionState& p : t.partitions) r.still_leading += p.leader == id ? 1 : 0;
    }
    const controller::BrokerRegistration* b = image.broker(id);
    r.fenced = b == nullptr || b->fenced;
    registry.shutdowns.push_back(r);
    return;
  }
  if (node.wait_for_failure(Deadline::never()).code() == Errc::io_error) {
    ++registry.disk_halts;
    unclean.check(node);
  }
  registry.live.erase(id);
  node.stop();
  unclean.check(node);
}

}  // namespace samsa::sim
