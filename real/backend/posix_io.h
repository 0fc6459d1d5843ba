// POSIX implementations of the runtime's Socket, Listener and File, on the Reactor.
// Threading: reactor thread only (the fibers of the node that opened them).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "real/backend/reactor.h"
#include "runtime/runtime.h"

namespace samsa::real {

Errc errc_from_errno(int err);

class PosixSocket final : public Socket {
 public:
  PosixSocket(Reactor& reactor, int fd, Address peer);
  ~PosixSocket() override;

  Result<size_t> read_some(Bytes buf, Deadline deadline) override;
  Status writev_all(std::span<const ConstBytes> buffers, Deadline deadline) override;
  void close() override;
  const Address& peer_address() const override { return peer_; }

  int fd() const { return fd_; }

 private:
  Reactor& reactor_;
  int fd_;
  Address peer_;
};

class PosixListener final : public Listener {
 public:
  PosixListener(Reactor& reactor, int fd, Address local);
  ~PosixListener() override;
  Result<std::unique_ptr<Socket>> accept(Deadline deadline) override;
  const Address& local_address() const override { return local_; }
  void close() override;

 private:
  Reactor& reactor_;
  int fd_;
  Address local_;
};

class PosixFile final : public File {
 public:
  PosixFile(Reactor& reactor, int fd, std::string path);
  ~PosixFile() override;
  Result<size_t> pread(uint64_t offset, Bytes buf) override;
  Status pwrite(uint64_t offset, ConstBytes data) override;
  Status sync() override;
  Status truncate(uint64_t size) override;
  Result<uint64_t> size() override;
  const std::string& path() const override { return path_; }

  int fd() const { return fd_; }

 private:
  Reactor& reactor_;
  int fd_;
  std::string path_;
};

Result<std::unique_ptr<Listener>> posix_listen(Reactor& reactor, const Address& address);
Result<std::unique_ptr<Socket>> posix_connect(Reactor& reactor, const Address& address, Deadline deadline);
Status posix_send_file(Reactor& reactor, PosixSocket& socket, PosixFile& file, uint64_t offset,
                       uint64_t length, Deadline deadline);

Result<std::unique_ptr<File>> posix_open(Reactor& reactor, const std::string& path, OpenMode mode);
Status posix_remove_file(const std::string& path);
Status posix_rename(const std::string& from, const std::string& to);
Status posix_create_dir(const std::string& path);
Status posix_remove_dir(const std::string& path);
Result<std::vector<std::string>> posix_list_dir(const std::string& path);
Status posix_sync_dir(Reactor& reactor, const std::string& path);

}  // namespace samsa::real
