// NodeConfig: what one samsa process is, in Kafka's KRaft property names — `process.roles`
// (broker, controller, or both), `node.id`, `controller.quorum.voters`,
// `controller.listener.names`, `listeners` with a CONTROLLER listener, `metadata.log.dir` — on
// top of the broker's own properties (BrokerConfig). With no `process.roles` the node is the
// single broker it always was: no quorum, both roles in one process, nothing else changes.
//
// Threading: a value type; parse() is pure.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "broker/broker_config.h"
#include "controller/controller_config.h"
#include "runtime/address.h"
#include "runtime/status.h"

namespace samsa::server {

struct NodeConfig {
  bool broker_role = true;      // process.roles contains broker (or is unset)
  bool controller_role = false;  // process.roles contains controller
  bool kraft = false;            // process.roles was given: the node is part of a quorum
  std::map<int32_t, Address> voters;            // controller.quorum.voters
  std::string controller_listener_name = "CONTROLLER";  // controller.listener.names (first)
  Address controller_listener{"", 0};          // the listener of that name, for controllers
  std::string metadata_log_dir;                // metadata.log.dir (default: the first log dir)
  std::string cluster_id = "samsa";            // cluster.id (Kafka keeps it in meta.properties)
  int64_t broker_heartbeat_interval_ms = 2000;  // broker.heartbeat.interval.ms
  int64_t broker_session_timeout_ms = 9000;     // broker.session.timeout.ms
  bool unclean_leader_election_enable = false;  // unclean.leader.election.enable (cluster default)
  bool controlled_shutdown_enable = true;       // controlled.shutdown.enable: Node::shutdown() hands over first
  uint64_t snapshot_bytes_min = 20 * 1024 * 1024;  // metadata.log.max.record.bytes.between.snapshots
  broker::BrokerConfig broker;                 // everything else; its listener is the broker one
  controller::ControllerBugs controller_bugs;  // planted bugs (the simulator's; no property sets them)

  // Parses properties text; on error Errc::invalid_argument with *error set, e.g. a controller
  // whose node.id is not among the voters, or one without its controller listener.
  static Result<NodeConfig> parse(std::string_view text, std::string* error);
};

}  // namespace samsa::server
