// Formatted logging through the runtime (which stamps node id and time). The message is only
// formatted when the level is enabled, so debug logging on hot paths costs a branch.
#pragma once

#include <fmt/format.h>

#include <utility>

#include "runtime/runtime.h"

namespace samsa {

template <typename... Args>
void logf(Runtime& rt, LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (!rt.log_enabled(level)) return;
  rt.log(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace samsa
