// The runtime interface: the only way code in src/ reaches time, fibers, the network, the disk,
// randomness and logging. Modelled on LevelDB's Env: one small object, passed explicitly.
//
// Two backends implement it: real/ (epoll + Boost.Context fibers + POSIX files + sendfile) and
// sim/ (a seeded deterministic scheduler with a virtual clock and a faulty network and disk).
// Code written against this header runs unchanged in both, which is what lets a simulator seed
// replay a bug in the broker.
//
// Contract
// - A Runtime belongs to one node. Every method is called from a fiber of that node (its main
//   fiber or one it spawned), on the node's single scheduler thread. Nothing here is thread-safe
//   and nothing needs to be: fibers of one node never run in parallel.
// - Calls that wait look blocking: they suspend only the calling fiber. Each takes a Deadline
//   and returns Errc::timed_out when it passes, and Errc::cancelled once the fiber is cancelled.
//   Disk calls are the exception: a started disk operation cannot be abandoned safely (its bytes
//   may still land), so they take no deadline.
// - Errors come back as Status / Result<T>; no exception crosses this interface.
// - Objects returned (Socket, Listener, File) are owned by the caller. Destroying one closes it
//   and never suspends. They must not outlive the Runtime that made them.
// - Crash: the simulator may stop a node at any suspension point. Its fibers are unwound (their
//   destructors run; see determinism.md in shared/reference): destructors must not suspend, and
//   no code may swallow the unwinding exception with catch (...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/address.h"
#include "runtime/ids.h"
#include "runtime/planted_bugs.h"
#include "runtime/status.h"
#include "runtime/time.h"

namespace samsa {

using Bytes = std::span<std::byte>;
using ConstBytes = std::span<const std::byte>;

// A connected byte stream (TCP on Linux). One fiber may read while another writes; two
// concurrent readers (or writers) on one socket are a bug and are asserted against.
class Socket {
 public:
  virtual ~Socket() = default;

  // Reads between 1 and buf.size() bytes. Errc::end_of_file once the peer has closed its side
  // and every byte it sent has been read.
  virtual Result<size_t> read_some(Bytes buf, Deadline deadline) = 0;
  // Writes every byte of every buffer, in order, or fails; on failure an unknown prefix may have
  // been sent, so the caller must close the socket.
  virtual Status writev_all(std::span<const ConstBytes> buffers, Deadline deadline) = 0;
  // Closes both directions. Idempotent. Pending reads and writes of other fibers fail.
  virtual void close() = 0;
  virtual const Address& peer_address() const = 0;

  Status write_all(ConstBytes data, Deadline deadline) {
    ConstBytes one[1] = {data};
    return writev_all(one, deadline);
  }
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Result<std::unique_ptr<Socket>> accept(Deadline deadline) = 0;
  // The bound address; with port 0 requested, the port actually chosen.
  virtual const Address& local_address() const = 0;
  virtual void close() = 0;
};

enum class OpenMode {
  read_only,   // must exist
  read_write,  // must exist
  create,      // read-write; created empty if missing
  create_new,  // read-write; Errc::already_exists if present
};

// A file on the node's disk. Data written is durable only after sync(); a new file's directory
// entry is durable only after sync_dir() of its directory (the simulator enforces both).
class File {
 public:
  virtual ~File() = default;

  // Reads up to buf.size() bytes at offset; fewer only when the file ends first.
  virtual Result<size_t> pread(uint64_t offset, Bytes buf) = 0;
  // Writes all of data at offset, extending the file if needed. Errc::no_space writes nothing.
  virtual Status pwrite(uint64_t offset, ConstBytes data) = 0;
  // fdatasync: every completed write, and the file size, are durable when this returns ok.
  virtual Status sync() = 0;
  virtual Status truncate(uint64_t size) = 0;
  virtual Result<uint64_t> size() = 0;
  virtual const std::string& path() const = 0;

  // Appends at the current end of file; returns the offset the data was written at.
  Result<uint64_t> append(ConstBytes data) {
    Result<uint64_t> end = size();
    if (!end.ok()) return end;
    Status s = pwrite(*end, data);
    if (!s.ok()) return s;
    return end;
  }
};

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual NodeId node_id() const = 0;

  // --- Time (monotonic) ---
  virtual Instant now() const = 0;
  // ok once the deadline has passed; Errc::cancelled if the fiber is cancelled first.
  virtual Status sleep_until(Deadline deadline) = 0;

  // Wall-clock milliseconds since the Unix epoch, for record timestamps and time-based
  // retention only; it may jump (NTP, or the simulator's clock faults). Never use it for timeouts.
  virtual int64_t wall_clock_ms() const = 0;

  // This boot of the machine: the same after the process restarts, different after a reboot or
  // a power loss (Linux: /proc/sys/kernel/random/boot_id). A process restarted on the same boot
  // finds every write it made, synced or not, in the page cache (KIP-966's clean/unclean
  // question, answered for kill -9 too). Empty when unknown: then no two boots are the same.
  virtual std::string boot_id() const = 0;

  Deadline after(Duration d) const { return Deadline{now() + d}; }
  Status sleep(Duration d) { return sleep_until(after(d)); }

  // --- Fibers ---
  // Starts a fiber on this node; it first runs when the caller next suspends or yields.
  virtual FiberId spawn(std::string name, std::function<void()> body) = 0;
  // ok once the fiber has finished (at once if it already has or never existed).
  virtual Status join(FiberId fiber, Deadline deadline) = 0;
  // Lets other runnable fibers run; the caller stays runnable.
  virtual void yield() = 0;
  // Cooperative cancellation: the fiber's current and future blocking calls return
  // Errc::cancelled. It is expected to unwind and return promptly.
  virtual void cancel(FiberId fiber) = 0;
  virtual bool cancelled() const = 0;  // of the calling fiber
  virtual FiberId current_fiber() const = 0;

  // Building blocks of the synchronisation primitives in sync.h. park() suspends the caller
  // until unpark(), the deadline (Errc::timed_out) or cancellation (Errc::cancelled). Wakeups
  // may be spurious: callers re-check their condition. unpark() of a fiber that is not parked
  // does nothing.
  virtual Status park(Deadline deadline) = 0;
  virtual void unpark(FiberId fiber) = 0;

  // --- Network ---
  virtual Result<std::unique_ptr<Listener>> listen(const Address& address) = 0;
  virtual Result<std::unique_ptr<Socket>> connect(const Address& address, Deadline deadline) = 0;
  // Sends exactly `length` bytes of `file` starting at `offset` (zero-copy sendfile(2) on
  // Linux). Errc::end_of_file if the file is shorter than offset + length.
  virtual Status send_file(Socket& socket, File& file, uint64_t offset, uint64_t length,
                           Deadline deadline) = 0;

  // --- Disk (paths are '/'-separated, relative to the node's data root or absolute) ---
  virtual Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Atomically replaces `to` if present. Durable after sync_dir() of both parents.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status create_dir(const std::string& path) = 0;  // Errc::already_exists if present
  virtual Status remove_dir(const std::string& path) = 0;  // must be empty
  // Entry names (no "." or ".."), sorted, so iteration order never depends on the backend.
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
  // Makes the directory's entries (creates, removes, renames) durable.
  virtual Status sync_dir(const std::string& path) = 0;

  // --- Randomness (seeded; the simulator's seed decides every value) ---
  virtual uint64_t random_u64() = 0;
  // FoundationDB's buggify: true only in simulation, at sites the seed enabled, so rare but legal
  // behaviour (tiny buffers, short timeouts, extra delays) gets exercised. Always false on Linux.
  virtual bool buggify(std::string_view site) = 0;

  // --- Resources ---
  // How many files and sockets this node may hold open at once (RLIMIT_NOFILE on Linux, the
  // simulated disk's limit in the simulator). Admission budgets are computed from it.
  virtual uint64_t open_files_max() const = 0;

  // --- Logging (stamped with node id and this runtime's clock) ---
  virtual void log(LogLevel level, std::string_view message) = 0;
  virtual bool log_enabled(LogLevel level) const = 0;

  // --- Planted bugs (planted_bugs.h) ---
  // Whether this run switched on a deliberate mistake for the checkers to find. Off on Linux;
  // samsa-sim --bug switches them on.
  bool bug(Bug b) const { return bugs_.has(b); }
  void set_bugs(BugSet bugs) { bugs_ = bugs; }

 private:
  BugSet bugs_;
};

// Reads exactly buf.size() bytes. Errc::end_of_file if the stream ends first (a truncated read).
Status read_exact(Socket& socket, Bytes buf, Deadline deadline);

// Creates every missing directory along `path` (like mkdir -p), syncing each parent it changed.
Status create_dirs(Runtime& rt, const std::string& path);

// Reads the whole file, refusing files larger than size_max (bound before allocating).
Result<std::vector<std::byte>> read_file(Runtime& rt, const std::string& path, uint64_t size_max);

}  // namespace samsa
