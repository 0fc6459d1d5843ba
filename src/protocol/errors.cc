#include "protocol/errors.h"

namespace samsa::kafka {

const char* error_name(Error e) { return error_name(code(e)); }

const char* error_name(int16_t c) {
  switch (static_cast<Error>(c)) {
    case Error::unknown_server_error: return "UNKNOWN_SERVER_ERROR";
    case Error::none: return "NONE";
    case Error::offset_out_of_range: return "OFFSET_OUT_OF_RANGE";
    case Error::corrupt_message: return "CORRUPT_MESSAGE";
    case Error::unknown_topic_or_partition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case Error::invalid_fetch_size: return "INVALID_FETCH_SIZE";
    case Error::leader_not_available: return "LEADER_NOT_AVAILABLE";
    case Error::not_leader_or_follower: return "NOT_LEADER_OR_FOLLOWER";
    case Error::request_timed_out: return "REQUEST_TIMED_OUT";
    case Error::message_too_large: return "MESSAGE_TOO_LARGE";
    case Error::network_exception: return "NETWORK_EXCEPTION";
    case Error::coordinator_load_in_progress: return "COORDINATOR_LOAD_IN_PROGRESS";
    case Error::coordinator_not_available: return "COORDINATOR_NOT_AVAILABLE";
    case Error::not_coordinator: return "NOT_COORDINATOR";
    case Error::invalid_topic_exception: return "INVALID_TOPIC_EXCEPTION";
    case Error::record_list_too_large: return "RECORD_LIST_TOO_LARGE";
    case Error::not_enough_replicas: return "NOT_ENOUGH_REPLICAS";
    case Error::not_enough_replicas_after_append: return "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    case Error::invalid_required_acks: return "INVALID_REQUIRED_ACKS";
    case Error::illegal_generation: return "ILLEGAL_GENERATION";
    case Error::inconsistent_group_protocol: return "INCONSISTENT_GROUP_PROTOCOL";
    case Error::invalid_group_id: return "INVALID_GROUP_ID";
    case Error::unknown_member_id: return "UNKNOWN_MEMBER_ID";
    case Error::invalid_session_timeout: return "INVALID_SESSION_TIMEOUT";
    case Error::rebalance_in_progress: return "REBALANCE_IN_PROGRESS";
    case Error::invalid_commit_offset_size: return "INVALID_COMMIT_OFFSET_SIZE";
    case Error::invalid_timestamp: return "INVALID_TIMESTAMP";
    case Error::unsupported_version: return "UNSUPPORTED_VERSION";
    case Error::topic_already_exists: return "TOPIC_ALREADY_EXISTS";
    case Error::invalid_partitions: return "INVALID_PARTITIONS";
    case Error::invalid_replication_factor: return "INVALID_REPLICATION_FACTOR";
    case Error::invalid_config: return "INVALID_CONFIG";
    case Error::invalid_request: return "INVALID_REQUEST";
    case Error::unsupported_for_message_format: return "UNSUPPORTED_FOR_MESSAGE_FORMAT";
    case Error::operation_not_attempted: return "OPERATION_NOT_ATTEMPTED";
    case Error::kafka_storage_error: return "KAFKA_STORAGE_ERROR";
    case Error::member_id_required: return "MEMBER_ID_REQUIRED";
    case Error::group_id_not_found: return "GROUP_ID_NOT_FOUND";
    case Error::invalid_replica_assignment: return "INVALID_REPLICA_ASSIGNMENT";
    case Error::policy_violation: return "POLICY_VIOLATION";
    case Error::non_empty_group: return "NON_EMPTY_GROUP";
    case Error::group_max_size_reached: return "GROUP_MAX_SIZE_REACHED";
    case Error::fenced_instance_id: return "FENCED_INSTANCE_ID";
    case Error::preferred_leader_not_available: return "PREFERRED_LEADER_NOT_AVAILABLE";
    case Error::eligible_leaders_not_available: return "ELIGIBLE_LEADERS_NOT_AVAILABLE";
    case Error::election_not_needed: return "ELECTION_NOT_NEEDED";
    case Error::group_subscribed_to_topic: return "GROUP_SUBSCRIBED_TO_TOPIC";
    case Error::unknown_topic_id: return "UNKNOWN_TOPIC_ID";
    case Error::not_controller: return "NOT_CONTROLLER";
    case Error::fenced_leader_epoch: return "FENCED_LEADER_EPOCH";
    case Error::offset_not_available: return "OFFSET_NOT_AVAILABLE";
    case Error::unknown_leader_epoch: return "UNKNOWN_LEADER_EPOCH";
    case Error::stale_broker_epoch: return "STALE_BROKER_EPOCH";
    case Error::invalid_update_version: return "INVALID_UPDATE_VERSION";
    case Error::duplicate_broker_registration: return "DUPLICATE_BROKER_REGISTRATION";
    case Error::inconsistent_cluster_id: return "INCONSISTENT_CLUSTER_ID";
    case Error::broker_id_not_registered: return "BROKER_ID_NOT_REGISTERED";
    case Error::ineligible_replica: return "INELIGIBLE_REPLICA";
  }
  return "UNKNOWN_ERROR_CODE";
}

Error error_from(Errc e) {
  switch (e) {
    case Errc::ok: return Error::none;
    case Errc::out_of_range: return Error::offset_out_of_range;
    case Errc::corrupt: return Error::corrupt_message;
    case Errc::too_large: return Error::message_too_large;
    case Errc::invalid_argument: return Error::invalid_request;
    case Errc::io_error:
    case Errc::no_space:
    case Errc::unavailable: return Error::kafka_storage_error;
    case Errc::timed_out: return Error::request_timed_out;
    case Errc::not_found: return Error::unknown_topic_or_partition;
    default: return Error::unknown_server_error;
  }
}

}  // namespace samsa::kafka
