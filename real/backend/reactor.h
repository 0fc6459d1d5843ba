// Reactor: the Linux scheduler. One thread runs an epoll loop and the node's Boost.Context
// fibers (FIFO). Sockets are non-blocking and registered edge-triggered once; a fiber that gets
// EAGAIN parks until epoll reports the fd ready or its deadline passes.
//
// Blocking disk calls (fdatasync, fsync of a directory) run on a small helper thread pool so the
// reactor never stalls on the disk; completion comes back through an eventfd. pread/pwrite stay
// on the reactor thread: they hit the page cache, and moving every one to a thread would cost a
// context switch each (documented trade-off; revisit if cold reads show up in benchmarks).
//
// Threading: everything except BlockingPool's workers runs on the thread that called run().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "runtime/fiber_scheduler.h"

namespace samsa::real {

class Reactor final : public samsa::FiberScheduler {
 public:
  static constexpr int kEpollEventsMax = 256;
  static constexpr size_t kBlockingThreads = 8;
  static constexpr size_t kBlockingQueueMax = 4096;

  Reactor();
  ~Reactor() override;

  // Runs fibers and I/O until `main` has finished, then unwinds whatever fibers remain.
  void run(FiberId main, NodeId node);

  Instant now() const;

  // Sockets: register once after creation, unregister before close (wakes any waiter).
  void register_fd(int fd);
  void unregister_fd(int fd);
  Status wait_readable(int fd, Deadline deadline);
  Status wait_writable(int fd, Deadline deadline);

  // Runs `syscall` (returning 0 or an errno value) on a helper thread; the calling fiber waits,
  // uncancellably, because the call may use memory the fiber owns. Returns the errno value.
  int offload(std::function<int()> syscall);

 protected:
  void make_runnable(FiberId id) override { runq_.push_back(id); }
  void arm_timer(Instant at, FiberId id, uint64_t generation) override;
  Instant clock_now() const override { return now(); }

 private:
  struct Timer {
    Instant at;
    uint64_t seq;
    FiberId fiber;
    uint64_t generation;
    bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct FdWaiters {
    FiberId reader = kNoFiber;
    FiberId writer = kNoFiber;
  };
  struct Job {
    std::function<int()> fn;
    FiberId fiber;
    int result = 0;
    bool done = false;
  };

  Status wait_fd(int fd, bool for_write, Deadline deadline);
  void fire_timers();
  int epoll_timeout_ms() const;
  void poll_io(int timeout_ms);
  void drain_completions();
  void worker_main();

  int epoll_fd_ = -1;
  int event_fd_ = -1;
  std::deque<FiberId> runq_;
  uint64_t timer_seq_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::map<int, FdWaiters> fds_;

  // Shared with helper threads; guarded by jobs_mutex_.
  std::mutex jobs_mutex_;
  std::condition_variable jobs_cv_;
  std::deque<std::shared_ptr<Job>> jobs_;
  std::vector<std::shared_ptr<Job>> completed_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace samsa::real
