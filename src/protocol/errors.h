// Kafka error codes (the protocol guide's table), as a typed enum so a handler cannot return a
// bare number by mistake.
#pragma once

#include <cstdint>

#include "runtime/status.h"

namespace samsa::kafka {

enum class Error : int16_t {
  unknown_server_error = -1,
  none = 0,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  invalid_fetch_size = 4,
  leader_not_available = 5,
  not_leader_or_follower = 6,
  request_timed_out = 7,
  message_too_large = 10,
  network_exception = 13,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  invalid_topic_exception = 17,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  not_enough_replicas_after_append = 20,
  invalid_required_acks = 21,
  illegal_generation = 22,
  inconsistent_group_protocol = 23,
  invalid_group_id = 24,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  rebalance_in_progress = 27,
  invalid_commit_offset_size = 28,
  invalid_timestamp = 32,
  unsupported_version = 35,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_config = 40,
  invalid_request = 42,
  unsupported_for_message_format = 43,
  operation_not_attempted = 55,
  kafka_storage_error = 56,
  invalid_replica_assignment = 39,
  policy_violation = 44,
  non_empty_group = 68,
  group_id_not_found = 69,
  member_id_required = 79,
  preferred_leader_not_available = 80,
  group_max_size_reached = 81,
  fenced_instance_id = 82,
  eligible_leaders_not_available = 83,
  election_not_needed = 84,
  group_subscribed_to_topic = 86,
  unknown_topic_id = 100,
  not_controller = 41,
  fenced_leader_epoch = 74,
  offset_not_available = 78,
  unknown_leader_epoch = 76,
  stale_broker_epoch = 77,
  invalid_update_version = 95,
  duplicate_broker_registration = 101,
  broker_id_not_registered = 102,
  inconsistent_cluster_id = 104,
  ineligible_replica = 107,
};

inline int16_t code(Error e) { return static_cast<int16_t>(e); }
const char* error_name(Error e);
const char* error_name(int16_t code);

// The Kafka error for a failed log or runtime operation.
Error error_from(Errc e);

}  // namespace samsa::kafka
