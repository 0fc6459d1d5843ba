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
// After the node stopped: a log's fsync may fail while it stops (its last flush), and the stop
// then forgets the broker epoch too (cluster --cluster-brokers 3 --send-rate 50 --seed 7: a
// halt on a read error whose shutdown flush failed; the checker, told before the stop, missed it).
void stopped(ClusterRegistry& registry, int32_t id, server::Node& node) {
  const bool unclean = node.broker() != nullptr && node.broker()->failed_with_loss();
  if (unclean && registry.on_unclean_halt) registry.on_unclean_halt(id);
}
}  // namespace

void cluster_node_main(Runtime& rt, const server::NodeConfig& config, ClusterRegistry& registry) {
  server::Node node(rt, config);
  const int32_t id = config.broker.node_id;
  struct Unregister {
    ClusterRegistry& r;
    int32_t id;
    ~Unregister() { r.live.erase(id); }
  } unregister{registry, id};
  if (!node.start().ok()) {
    node.stop();
    return;
  }
  registry.live[id] = &node;
  while (registry.sigterm_armed) {
    const Status s = node.wait_for_failure(rt.after(ClusterRegistry::kSigtermPoll));
    if (s.code() == Errc::io_error) {
      ++registry.disk_halts;
      registry.live.erase(id);
      node.stop();
      stopped(registry, id, node);
      return;
    }
    if (s.code() != Errc::timed_out) break;
    if (registry.sigterm.erase(id) == 0) continue;
    node.shutdown();
    stopped(registry, id, node);
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
  if (node.wait_for_failure(Deadline::never()).code() == Errc::io_error) ++registry.disk_halts;
  registry.live.erase(id);
  node.stop();
  stopped(registry, id, node);
}

}  // namespace samsa::sim
