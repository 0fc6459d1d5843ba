#include "runtime/assert.h"

#include <cstdio>
#include <cstdlib>

namespace samsa::detail {
void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "samsa: assertion failed: %s at %s:%d%s%s\n", expr, file, line,
               msg != nullptr ? ": " : "", msg != nullptr ? msg : "");
  std::fflush(stderr);
  std::abort();
}
}  // namespace samsa::detail
