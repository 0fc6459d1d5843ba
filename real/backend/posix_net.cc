#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "real/backend/posix_io.h"

namespace samsa::real {

Errc errc_from_errno(int err) {
  switch (err) {
    case 0: return Errc::ok;
    case ECONNREFUSED: return Errc::connection_refused;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return Errc::connection_reset;
    case ETIMEDOUT: return Errc::timed_out;
    case EADDRINUSE: return Errc::address_in_use;
    case EHOSTUNREACH:
    case ENETUNREACH: return Errc::host_unreachable;
    case ENOSPC:
    case EDQUOT: return Errc::no_space;
    case ENOENT: return Errc::not_found;
    case EEXIST:
    case ENOTEMPTY: return Errc::already_exists;
    case EINVAL:
    case ENOTDIR:
    case EISDIR: return Errc::invalid_argument;
    case EMFILE:
    case ENFILE:
    case ENOMEM: return Errc::resource_exhausted;
    default: return Errc::io_error;
  }
}

namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// getaddrinfo may block on DNS; samsa addresses are IP literals or names from /etc/hosts, which
// resolve without the network.
Result<AddrInfoPtr> resolve(const Address& address, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  const std::string port = std::to_string(address.port);
  const char* host = address.host.empty() ? nullptr : address.host.c_str();
  addrinfo* out = nullptr;
  if (::getaddrinfo(host, port.c_str(), &hints, &out) != 0 || out == nullptr) return Errc::host_unreachable;
  return AddrInfoPtr(out);
}

Address peer_of(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return Address{host, port};
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

PosixSocket::PosixSocket(Reactor& reactor, int fd, Address peer) : reactor_(reactor), fd_(fd), peer_(std::move(peer)) {
  reactor_.register_fd(fd_);
}

PosixSocket::~PosixSocket() { close(); }

void PosixSocket::close() {
  if (fd_ < 0) return;
  reactor_.unregister_fd(fd_);
  ::close(fd_);
  fd_ = -1;
}

Result<size_t> PosixSocket::read_some(Bytes buf, Deadline deadline) {
  SAMSA_ASSERT(!buf.empty());
  for (;;) {
    if (fd_ < 0) return Errc::closed;
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return Errc::end_of_file;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errc_from_errno(errno);
    SAMSA_TRY(reactor_.wait_readable(fd_, deadline));
  }
}

Status PosixSocket::writev_all(std::span<const ConstBytes> buffers, Deadline deadline) {
  std::vector<iovec> iov;
  iov.reserve(buffers.size());
  for (ConstBytes b : buffers) {
    if (!b.empty()) iov.push_back(iovec{const_cast<std::byte*>(b.data()), b.size()});
  }
  size_t first = 0;
  while (first < iov.size()) {
    if (fd_ < 0) return Errc::closed;
    msghdr msg{};
    msg.msg_iov = &iov[first];
    msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return errc_from_errno(errno);
      SAMSA_TRY(reactor_.wait_writable(fd_, deadline));
      continue;
    }
    auto left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return Status{};
}

PosixListener::PosixListener(Reactor& reactor, int fd, Address local)
    : reactor_(reactor), fd_(fd), local_(std::move(local)) {
  reactor_.register_fd(fd_);
}

PosixListener::~PosixListener() { close(); }

void PosixListener::close() {
  if (fd_ < 0) return;
  reactor_.unregister_fd(fd_);
  ::close(fd_);
  fd_ = -1;
}

Result<std::unique_ptr<Socket>> PosixListener::accept(Deadline deadline) {
  for (;;) {
    if (fd_ < 0) return Errc::closed;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd);
      return std::unique_ptr<Socket>(std::make_unique<PosixSocket>(reactor_, fd, peer_of(ss)));
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errc_from_errno(errno);
    SAMSA_TRY(reactor_.wait_readable(fd_, deadline));
  }
}

Result<std::unique_ptr<Listener>> posix_listen(Reactor& reactor, const Address& address) {
  AddrInfoPtr ai;
  SAMSA_TRY_ASSIGN(ai, resolve(address, true));
  int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errc_from_errno(errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    int err = errno;
    ::close(fd);
    return errc_from_errno(err);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  Address local{address.host, peer_of(ss).port};
  return std::unique_ptr<Listener>(std::make_unique<PosixListener>(reactor, fd, std::move(local)));
}

Result<std::unique_ptr<Socket>> posix_connect(Reactor& reactor, const Address& address, Deadline deadline) {
  AddrInfoPtr ai;
  SAMSA_TRY_ASSIGN(ai, resolve(address, false));
  int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errc_from_errno(errno);
  auto socket = std::make_unique<PosixSocket>(reactor, fd, address);
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return errc_from_errno(errno);
    SAMSA_TRY(reactor.wait_writable(fd, deadline));
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return errc_from_errno(err);
  }
  set_nodelay(fd);
  return std::unique_ptr<Socket>(std::move(socket));
}

Status posix_send_file(Reactor& reactor, PosixSocket& socket, PosixFile& file, uint64_t offset, uint64_t length,
                       Deadline deadline) {
  constexpr uint64_t kChunkBytesMax = 1ULL << 30;  // sendfile transfers at most ~2 GiB a call
  auto off = static_cast<off_t>(offset);
  uint64_t left = length;
  while (left > 0) {
    if (socket.fd() < 0) return Errc::closed;
    ssize_t n = ::sendfile(socket.fd(), file.fd(), &off, std::min(left, kChunkBytesMax));
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) return Errc::end_of_file;  // the file is shorter than offset + length
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errc_from_errno(errno);
    SAMSA_TRY(reactor.wait_writable(socket.fd(), deadline));
  }
  return Status{};
}

}  // namespace samsa::real
