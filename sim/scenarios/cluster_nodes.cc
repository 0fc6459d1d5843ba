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
  (void)node.wait_for_failure(Deadline::never());
  registry.live.erase(id);
  node.stop();
}

}  // namespace samsa::sim
