#include "real/backend/stdin_lines.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace samsa::real {

StdinLines::StdinLines(Reactor& reactor) : reactor_(reactor) {
  const int flags = ::fcntl(0, F_GETFL);
  if (flags >= 0 && ::fcntl(0, F_SETFL, flags | O_NONBLOCK) == 0) {
    // epoll refuses regular files (EPERM); those are read directly.
    const int probe = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    watched_ = probe >= 0 && ::epoll_ctl(probe, EPOLL_CTL_ADD, 0, &ev) == 0;
    if (probe >= 0) ::close(probe);
    if (watched_) reactor_.register_fd(0); else ::fcntl(0, F_SETFL, flags);
  }
}

StdinLines::~StdinLines() {
  if (watched_) reactor_.unregister_fd(0);
}

Status StdinLines::fill() {
  char chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(0, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return Status{};
    }
    if (n == 0) {
      eof_ = true;
      return Status{};
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN || !watched_) return Errc::io_error;
    SAMSA_TRY(reactor_.wait_readable(0, Deadline::never()));
  }
}

Result<std::optional<std::string>> StdinLines::next() {
  for (;;) {
    const size_t nl = buffer_.find('\n', pos_);
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      if (pos_ > 1024 * 1024) {
        buffer_.erase(0, pos_);
        pos_ = 0;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return std::optional<std::string>(std::move(line));
    }
    if (eof_) {
      if (pos_ >= buffer_.size()) return std::optional<std::string>{};
      std::string rest = buffer_.substr(pos_);
      pos_ = buffer_.size();
      return std::optional<std::string>(std::move(rest));
    }
    if (buffer_.size() - pos_ > kLineBytesMax) return Errc::too_large;
    SAMSA_TRY(fill());
  }
}

}  // namespace samsa::real
