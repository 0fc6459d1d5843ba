// The APIs and version ranges samsa advertises (see shared/reference/kafka-clients.md): minimum
// 0 everywhere, maxima chosen below the first flexible version of each API so that every client
// (librdkafka, kafka-python, kafkajs) negotiates a version samsa implements.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "protocol/messages.h"

namespace samsa::kafka {

struct ApiRange {
  ApiKey key;
  int16_t min_version;
  int16_t max_version;
};

inline constexpr ApiRange kSupportedApis[] = {
    {ApiKey::produce, 0, 7},          {ApiKey::fetch, 0, 11},           {ApiKey::list_offsets, 0, 3},
    {ApiKey::metadata, 0, 5},         {ApiKey::api_versions, 0, 2},     {ApiKey::create_topics, 0, 4},
    {ApiKey::delete_topics, 0, 3},    {ApiKey::describe_configs, 0, 2}, {ApiKey::offset_commit, 0, 7},
    {ApiKey::offset_fetch, 0, 5},     {ApiKey::find_coordinator, 0, 2}, {ApiKey::join_group, 0, 5},
    {ApiKey::heartbeat, 0, 3},        {ApiKey::leave_group, 0, 3},      {ApiKey::sync_group, 0, 3},
    {ApiKey::describe_groups, 0, 4},  {ApiKey::list_groups, 0, 2},
};

inline std::optional<ApiRange> supported_range(int16_t api_key) {
  for (const ApiRange& r : kSupportedApis) {
    if (static_cast<int16_t>(r.key) == api_key) return r;
  }
  return std::nullopt;
}

}  // namespace samsa::kafka
