// Line reader for standard input that suspends only the calling fiber: a pipe or terminal is
// watched by the reactor (non-blocking reads); a regular file, which epoll cannot watch and which
// never blocks for long, is read directly.
#pragma once

#include <optional>
#include <string>

#include "real/backend/reactor.h"

namespace samsa::real {

class StdinLines {
 public:
  static constexpr size_t kLineBytesMax = 16 * 1024 * 1024;

  explicit StdinLines(Reactor& reactor);
  ~StdinLines();
  // The next line without its newline; nullopt at end of input. Errc::too_large for a line over
  // kLineBytesMax.
  Result<std::optional<std::string>> next();
  // True if a whole line is already buffered (so next() will not wait).
  bool line_ready() const { return buffer_.find('\n', pos_) != std::string::npos; }

 private:
  Status fill();

  Reactor& reactor_;
  bool watched_ = false;
  bool eof_ = false;
  std::string buffer_;
  size_t pos_ = 0;
};

}  // namespace samsa::real
