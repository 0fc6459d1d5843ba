// Time values for the runtime interface. Instants come only from Runtime::now() (a monotonic
// clock: real CLOCK_MONOTONIC on Linux, the virtual clock in the simulator), never from the OS
// directly in src/. Plain values: safe to copy between fibers of one node.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace samsa {

using Duration = std::chrono::nanoseconds;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""us;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""ns;

// A point on a node's monotonic clock, in nanoseconds since an arbitrary per-runtime epoch.
struct Instant {
  int64_t ns = 0;

  static constexpr Instant max() { return Instant{std::numeric_limits<int64_t>::max()}; }
  friend constexpr auto operator<=>(Instant, Instant) = default;
  friend constexpr Instant operator+(Instant a, Duration d) {
    // Saturate so that now() + huge timeout never wraps into the past.
    if (d.count() > 0 && a.ns > std::numeric_limits<int64_t>::max() - d.count()) return max();
    return Instant{a.ns + d.count()};
  }
  friend constexpr Duration operator-(Instant a, Instant b) { return Duration{a.ns - b.ns}; }
};

// When a blocking call gives up with Errc::timed_out. Every blocking network and
// synchronisation call takes one; Deadline::never() is explicit so that waiting forever is a
// visible choice at the call site.
struct Deadline {
  Instant at = Instant::max();

  static constexpr Deadline never() { return Deadline{Instant::max()}; }
  constexpr bool is_never() const { return at == Instant::max(); }
  friend constexpr auto operator<=>(Deadline, Deadline) = default;
};

inline constexpr int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace samsa
