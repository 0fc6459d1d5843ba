// The cluster scenario's data plane: replicated topics with producers and consumers of samsa's
// client library on their own simulated nodes, checked by the queue checker (Jepsen's names)
// and, after every step, by the replication checker (the TLA+ invariants) on what each live
// replica holds.
//
// Two topics with the same replication factor (2 or 3) and min.insync.replicas (1 or 2, chosen
// by the seed): "events", written with acks=all, where Kafka promises that nothing acknowledged
// is lost inside the envelope (fewer than min.insync.replicas replicas cut by power losses at
// once, no unclean election); and "events-acks1", written with acks=1, where any change of
// leader may take what the old leader acknowledged alone. Each loss the model allows is excused
// under the fault that caused it (a power loss of which nodes, or the change of leader); every
// other loss fails the run.
//
// Threading: scheduler context; the client mains run as fibers of their simulated nodes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/checkers/queue_checker.h"
#include "sim/checkers/replication_checker.h"
#include "sim/checkers/watch.h"
#include "sim/scenarios/workload.h"
#include "sim/world/simulator.h"

namespace samsa::server {
class Node;
}
namespace samsa::broker {
class Broker;
}
namespace samsa::replication {
class Partition;
}

namespace samsa::sim {

// What a scripted schedule needs of the data plane; unset fields are drawn from the seed.
struct ClusterDataShape {
  std::optional<int32_t> partitions;
  std::optional<int16_t> replication_factor;
  std::optional<int32_t> min_insync;
  bool unclean_acks1 = false;  // unclean.leader.election.enable=true on the acks=1 topic
  int send_rate = 0;           // sends per second per producer (0: drawn; WorkloadProfile::pace)
};

class ClusterData {
 public:
  static constexpr const char* kAcksAllTopic = "events";
  static constexpr const char* kAcksOneTopic = "events-acks1";

  // `live`: the running incarnation of each node (set and cleared by its main), controller-only
  // nodes too; `nodes`: every broker's simulator node.
  ClusterData(Simulator& sim, const std::map<int32_t, server::Node*>& live, std::map<int32_t, NodeId> nodes,
              std::vector<Address> bootstrap, const ClusterDataShape& shape = {});

  // `watch` (may be null) sees every live replica after each step that changed one, and the
  // clients' histories at the end; it outlives this.
  void set_watch(const RunWatch* watch) { watch_ = watch; }
  // Adds (not starts) the client nodes.
  void add_clients();
  const std::vector<NodeId>& clients() const { return clients_; }
  NodeId acks1_consumer() const { return acks1_consumer_; }
  // Just before a power loss of `node`: what each of its replicas has not synced is cut.
  void before_power_loss(int32_t node);
  // Just before a failed fsync of `path` on `node` drops that file's unsynced writes: for the
  // checker, a power loss of that one replica.
  void failed_sync(int32_t node, const std::string& path);
  // `node` halted after a failed fsync and will register as after a power loss: for the
  // checker, every replica on it lost power (what the fsync cut was reported by failed_sync).
  void unclean_halt(int32_t node);
  // After every step: the replication invariants on every live replica.
  void after_step();
  // Faults stopped at `healed`; the clients must be live from `live_from` to `live_until`.
  void healed(Instant healed, Instant live_from, Instant live_until);
  // Stops the clients, reads both topics to their ends and judges everything.
  std::vector<CheckResult> finish(Duration give_up);

  std::vector<std::string> settings() const;
  std::vector<std::string> notes() const;
  uint64_t acked() const;
  uint64_t records_read() const;

 private:
  // Tells the checker that each replica of `node` whose directory `cut` accepts loses its
  // unsynced tail now, by `cause`.
  void report_cut(int32_t node, std::string_view cause, const std::function<bool(const std::string&)>& cut);
  // Each live broker's replicas of the watched partitions, as seen after its own fibers last
  // ran: a replica changes only when its node runs (or dies), so a step refreshes one node.
  struct NodeViews {
    const server::Node* node = nullptr;
    uint64_t incarnation = 0;
    std::vector<ReplicaView> replicas;
    std::vector<int64_t> print;  // what the checker reads of them, by value
    // The data topics' partitions in the broker's table, looked up again only when its version
    // moves (lookups after every step were a twentieth of a run): index topic x partitions + p.
    const broker::Broker* broker = nullptr;
    uint64_t table_version = UINT64_MAX;
    std::vector<const replication::Partition*> partitions;
  };
  // Whether the node's replicas differ from what it showed before.
  bool refresh_views(int32_t id, server::Node& node);
  static bool refresh_print(NodeViews& nv);
  bool drop_dead_views();
  void collect_views();

  Simulator& sim_;
  const std::map<int32_t, server::Node*>& live_;
  std::map<int32_t, NodeId> nodes_;
  WorkloadProfile all_, one_;  // acks=all and acks=1
  QueueHistory all_history_, one_history_;
  ReplicationChecker checker_;
  std::map<int32_t, NodeViews> node_views_;
  std::vector<ReplicaView> views_;  // reused every step
  std::vector<NodeId> clients_;
  NodeId acks1_consumer_{};
  std::vector<std::string> final_replicas_;  // each replica after healing, for the report
  int32_t min_insync_ = 1;
  uint64_t power_losses_ = 0;
  uint64_t failed_syncs_ = 0;
  uint64_t unclean_halts_ = 0;
  const RunWatch* watch_ = nullptr;
};

}  // namespace samsa::sim
