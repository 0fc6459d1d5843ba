// SAMSA_ASSERT: always-on invariant checks (TigerBeetle style). A failed assertion prints the
// condition and location and aborts; it is never compiled out, because a broken invariant in a
// storage system is worse than a crash. Callable from any fiber or thread.
#pragma once

namespace samsa::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);
}  // namespace samsa::detail

#define SAMSA_ASSERT(cond)                                                  \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      ::samsa::detail::assert_fail(#cond, __FILE__, __LINE__, nullptr);     \
  } while (0)

#define SAMSA_ASSERT_MSG(cond, msg)                                         \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      ::samsa::detail::assert_fail(#cond, __FILE__, __LINE__, (msg));       \
  } while (0)

#define SAMSA_UNREACHABLE() ::samsa::detail::assert_fail("unreachable", __FILE__, __LINE__, nullptr)
