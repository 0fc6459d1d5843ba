// RealRuntime: the Runtime on Linux. run_real() starts a Reactor on the calling thread, runs
// `main` as the node's main fiber and returns when it finishes (remaining fibers are unwound).
#pragma once

#include <cstdint>
#include <functional>

#include "real/backend/reactor.h"
#include "runtime/random.h"
#include "runtime/runtime.h"

namespace samsa::real {

struct RealOptions {
  NodeId node{1};
  uint64_t seed = 0;  // 0: drawn from the OS (getrandom)
  LogLevel log_level = LogLevel::info;
};

class RealRuntime final : public Runtime {
 public:
  RealRuntime(Reactor& reactor, const RealOptions& options);

  NodeId node_id() const override { return node_; }
  Instant now() const override { return reactor_.now(); }
  int64_t wall_clock_ms() const override;
  std::string boot_id() const override;
  Status sleep_until(Deadline deadline) override { return reactor_.sleep_until(deadline); }

  FiberId spawn(std::string name, std::function<void()> body) override;
  Status join(FiberId fiber, Deadline deadline) override { return reactor_.join(fiber, deadline); }
  void yield() override { reactor_.yield(); }
  void cancel(FiberId fiber) override { reactor_.cancel(fiber); }
  bool cancelled() const override { return reactor_.cancelled(); }
  FiberId current_fiber() const override { return reactor_.current(); }
  Status park(Deadline deadline) override { return reactor_.park(deadline); }
  void unpark(FiberId fiber) override { reactor_.unpark(fiber); }

  Result<std::unique_ptr<Listener>> listen(const Address& address) override;
  Result<std::unique_ptr<Socket>> connect(const Address& address, Deadline deadline) override;
  Status send_file(Socket& socket, File& file, uint64_t offset, uint64_t length, Deadline deadline) override;

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override;
  Status remove_file(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status create_dir(const std::string& path) override;
  Status remove_dir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Status sync_dir(const std::string& path) override;

  uint64_t random_u64() override { return prng_.next_u64(); }
  bool buggify(std::string_view /*site*/) override { return false; }
  uint64_t open_files_max() const override;

  void log(LogLevel level, std::string_view message) override;
  bool log_enabled(LogLevel level) const override { return level >= log_level_; }

  Reactor& reactor() { return reactor_; }

 private:
  Reactor& reactor_;
  NodeId node_;
  Prng prng_;
  LogLevel log_level_;
  Instant start_;
};

// For a long-running broker: glibc keeps the memory of freed request and response frames for the
// next ones instead of giving it back to the kernel. By default a frame larger than glibc's
// current mmap threshold (128 KiB at first, raised only as such frames are freed) was mmap'd
// afresh, and freed heap tops over the trim threshold were given back. Every page given back
// comes again zeroed and faulted in, and on a VM that reports free pages to its host
// (virtio-balloon) faulted in by the host too: on the project's 2-core VM that was a broker's
// second-largest cost per produced byte after the page-cache copy. Call once, before any thread
// starts.
void keep_freed_memory_for_broker();

// Runs `main` on a fresh reactor on this thread; returns when main returns.
void run_real(const RealOptions& options, const std::function<void(Runtime&)>& main);

}  // namespace samsa::real
