// ControllerConfig: the settings of the KRaft controller's decision logic (Kafka's property
// names in comments), the limits on every collection input can grow, and the planted-bug
// switches that show the controller's properties can fail.
//
// Plain values; copied into a Controller or MetadataImage at construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace samsa::controller {

// Deliberate bugs, each off by default. Each breaks one rule that
// properties/controller_properties.cc checks after every step.
struct ControllerBugs {
  bool keep_fenced_in_isr = false;       // fencing a broker re-elects its partitions but leaves it in their ISRs
  bool elect_outside_isr = false;        // a clean election takes the first live replica, in the ISR or not
  bool reuse_partition_epoch = false;    // replaying an ISR-only change keeps the partition epoch
  bool accept_stale_partition_epoch = false;  // AlterPartition skips the partition-epoch check
  // Caught only in the simulated cluster (sim/scenarios/cluster_scenario.cc):
  bool snapshot_forgets_fencing = false;  // a snapshot records every broker as unfenced
  bool ack_before_commit = false;         // the active controller answers once appended, not committed
  bool never_unfence = false;             // a caught-up broker's heartbeat leaves it fenced
  // Kafka before KIP-966: no eligible leader replicas; the last ISR member stays in the ISR when
  // fenced and is elected again, even after a power loss took committed records from it.
  bool no_elr = false;
  // Kafka before 0.11 (KIP-106): unclean.leader.election.enable defaulted to true, so a replica
  // outside the ISR was elected when no ISR member was live, losing what only the ISR held.
  bool unclean_election = false;
  // A broker stopped by SIGTERM leaves at once (controlled.shutdown.enable=false): its
  // partitions keep it as leader until its session expires. (The node's, not the controller's,
  // switch; kept here with the cluster scenario's other switches.)
  bool skip_controlled_shutdown = false;

  bool any() const {
    return keep_fenced_in_isr || elect_outside_isr || reuse_partition_epoch || accept_stale_partition_epoch ||
           snapshot_forgets_fencing || ack_before_commit || never_unfence || no_elr || unclean_election ||
           skip_controlled_shutdown;
  }
  // Switches one on by its name; false for an unknown name.
  bool enable(std::string_view name) {
    if (name == "keep-fenced-in-isr") return keep_fenced_in_isr = true;
    if (name == "elect-outside-isr") return elect_outside_isr = true;
    if (name == "reuse-partition-epoch") return reuse_partition_epoch = true;
    if (name == "accept-stale-partition-epoch") return accept_stale_partition_epoch = true;
    if (name == "snapshot-forgets-fencing") return snapshot_forgets_fencing = true;
    if (name == "ack-before-commit") return ack_before_commit = true;
    if (name == "never-unfence") return never_unfence = true;
    if (name == "no-elr") return no_elr = true;
    if (name == "unclean-election") return unclean_election = true;
    if (name == "skip-controlled-shutdown") return skip_controlled_shutdown = true;
    return false;
  }
  // Caught by properties/controller_properties.cc (and, but for the last, the cluster scenario).
  static constexpr const char* kNames[] = {"keep-fenced-in-isr", "elect-outside-isr", "reuse-partition-epoch",
                                           "accept-stale-partition-epoch"};
  // Need the replicated log, snapshots or the RPCs: the cluster scenario's alone.
  static constexpr const char* kClusterNames[] = {"snapshot-forgets-fencing", "ack-before-commit", "never-unfence", "no-elr",
                                                  "unclean-election", "skip-controlled-shutdown"};
};

// Limits of the metadata image: a record that would grow a collection past one is refused.
struct ImageLimits {
  size_t brokers_max = 10'000;
  size_t topics_max = 100'000;
  size_t partitions_max = 1'000'000;     // all topics together
  size_t replicas_max = 64;              // per partition
  size_t configs_max = 1'000'000;        // config entries, all resources together
  size_t endpoints_max = 16;             // per broker
};

struct ControllerConfig {
  int64_t session_timeout_ms = 9000;            // broker.session.timeout.ms
  int64_t heartbeat_interval_ms = 2000;         // broker.heartbeat.interval.ms (told to brokers)
  bool unclean_leader_election_enable = false;  // unclean.leader.election.enable (cluster default)
  int32_t min_insync_replicas = 1;              // min.insync.replicas (cluster default; topics override)
  int32_t default_partitions = 1;               // num.partitions, for CreateTopics with -1
  int16_t default_replication_factor = 1;       // default.replication.factor, for CreateTopics with -1
  size_t partitions_per_request_max = 10'000;   // new partitions in one CreateTopics/CreatePartitions
  size_t configs_per_request_max = 1'000;       // configs in one request
  size_t topic_name_bytes_max = 249;            // Kafka's limit
  ImageLimits limits;
  ControllerBugs bugs;
};

}  // namespace samsa::controller
