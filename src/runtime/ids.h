// Strong integer ids (Redpanda style) so that a node id can never be passed where a fiber id is
// expected. Plain values; ordering is by the integer, which keeps iteration deterministic.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace samsa {

template <typename Tag, typename Rep = int64_t>
struct StrongId {
  Rep value{};
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  friend constexpr auto operator<=>(StrongId, StrongId) = default;
};

using NodeId = StrongId<struct NodeIdTag, int32_t>;
using FiberId = StrongId<struct FiberIdTag, uint64_t>;

inline constexpr FiberId kNoFiber{0};

}  // namespace samsa

template <typename Tag, typename Rep>
struct std::hash<samsa::StrongId<Tag, Rep>> {
  size_t operator()(samsa::StrongId<Tag, Rep> id) const noexcept { return std::hash<Rep>{}(id.value); }
};
