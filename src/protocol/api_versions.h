// The APIs and version ranges samsa advertises in ApiVersions (see
// shared/reference/kafka-clients.md): minimum 0 everywhere, and only APIs with a handler. The
// schema may describe more versions than are advertised: the advertised range must lie within
// the described one, which is checked at compile time below. Fetch goes to v15: topic ids
// (v13, KIP-516) for clients that use them, and a follower's broker epoch (v15, KIP-903).
#pragma once

#include <cstdint>
#include <optional>

#include "protocol/messages.h"

namespace samsa::kafka {

struct ApiRange {
  ApiKey key;
  int16_t min_version;
  int16_t max_version;
};

inline constexpr ApiRange kSupportedApis[] = {
    {ApiKey::produce, 0, 9},          {ApiKey::fetch, 0, 15},           {ApiKey::list_offsets, 0, 7},
    {ApiKey::metadata, 0, 12},        {ApiKey::offset_commit, 0, 8},    {ApiKey::offset_fetch, 0, 7},
    {ApiKey::find_coordinator, 0, 4}, {ApiKey::join_group, 0, 6},       {ApiKey::heartbeat, 0, 4},
    {ApiKey::leave_group, 0, 4},      {ApiKey::sync_group, 0, 4},       {ApiKey::describe_groups, 0, 5},
    {ApiKey::list_groups, 0, 4},      {ApiKey::api_versions, 0, 3},     {ApiKey::create_topics, 0, 7},
    {ApiKey::delete_topics, 0, 6},    {ApiKey::describe_configs, 0, 4}, {ApiKey::delete_records, 0, 2},
    {ApiKey::alter_configs, 0, 2},    {ApiKey::create_partitions, 0, 3}, {ApiKey::delete_groups, 0, 2},
    {ApiKey::incremental_alter_configs, 0, 1}, {ApiKey::offset_delete, 0, 0}, {ApiKey::describe_cluster, 0, 1},
    {ApiKey::offset_for_leader_epoch, 0, 4}, {ApiKey::elect_leaders, 0, 2},
};

// (Compares keys, not pointers: g++ with -fsanitize=undefined refuses a pointer compared with
// nullptr in a constant expression.)
constexpr bool advertised_within_described() {
  for (const ApiRange& r : kSupportedApis) {
    bool described = false;
    for (const DescribedApi& d : kDescribedApis) {
      if (d.key == r.key) described = r.min_version >= d.min_version && r.max_version <= d.max_version;
    }
    if (!described) return false;
  }
  return true;
}
static_assert(advertised_within_described(), "an advertised version is not described in schema/*.def");

inline std::optional<ApiRange> supported_range(int16_t api_key) {
  for (const ApiRange& r : kSupportedApis) {
    if (static_cast<int16_t>(r.key) == api_key) return r;
  }
  return std::nullopt;
}

}  // namespace samsa::kafka
