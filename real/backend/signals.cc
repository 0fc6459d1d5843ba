#include "real/backend/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace samsa::real {

int block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  return ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

Status wait_for_termination(Reactor& reactor, int signal_fd) {
  reactor.register_fd(signal_fd);
  for (;;) {
    signalfd_siginfo info{};
    if (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) break;
    Status s = reactor.wait_readable(signal_fd, Deadline::never());
    if (!s.ok()) {
      reactor.unregister_fd(signal_fd);
      return s;
    }
  }
  reactor.unregister_fd(signal_fd);
  return Status{};
}

}  // namespace samsa::real
