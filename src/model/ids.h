// The cluster's ids and positions as strong types (Redpanda style), so that a broker id is never
// passed where a partition epoch is expected. Each wraps the integer of Kafka's wire format;
// .value crosses into protocol structs and back. Ordering is the integer's.
//
// Plain values; any fiber.
#pragma once

#include <fmt/format.h>

#include <cstdint>

#include "runtime/ids.h"

namespace samsa::model {

using BrokerId = StrongId<struct BrokerIdTag, int32_t>;          // node.id of a broker (or controller)
using PartitionId = StrongId<struct PartitionIdTag, int32_t>;    // a partition's index in its topic
using Offset = StrongId<struct OffsetTag, int64_t>;              // a record's position in a partition
using LeaderEpoch = StrongId<struct LeaderEpochTag, int32_t>;    // bumped by every leader change
using PartitionEpoch = StrongId<struct PartitionEpochTag, int32_t>;  // bumped by every partition change
using BrokerEpoch = StrongId<struct BrokerEpochTag, int64_t>;    // a registration's (its record's offset)
using ProducerId = StrongId<struct ProducerIdTag, int64_t>;

inline constexpr BrokerId kNoBroker{-1};

// The epoch after `e` (epochs only grow by one).
template <typename Tag, typename Rep>
constexpr StrongId<Tag, Rep> next(StrongId<Tag, Rep> e) {
  return StrongId<Tag, Rep>{static_cast<Rep>(e.value + 1)};
}  // e.g. a partition without a leader

}  // namespace samsa::model

// Strong ids print as their integer.
template <typename Tag, typename Rep>
struct fmt::formatter<samsa::StrongId<Tag, Rep>> : fmt::formatter<Rep> {
  template <typename FormatContext>
  auto format(samsa::StrongId<Tag, Rep> id, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<Rep>::format(id.value, ctx);
  }
};
