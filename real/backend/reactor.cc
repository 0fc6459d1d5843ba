#include "real/backend/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/assert.h"

namespace samsa::real {

Reactor::Reactor() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  SAMSA_ASSERT_MSG(epoll_fd_ >= 0, std::strerror(errno));
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  SAMSA_ASSERT_MSG(event_fd_ >= 0, std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = event_fd_;
  SAMSA_ASSERT(::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) == 0);
  for (size_t i = 0; i < kBlockingThreads; ++i) workers_.emplace_back([this] { worker_main(); });
}

Reactor::~Reactor() {
  {
    std::lock_guard lock(jobs_mutex_);
    stopping_ = true;
  }
  jobs_cv_.notify_all();
  for (auto& t : workers_) t.join();
  ::close(event_fd_);
  ::close(epoll_fd_);
}

Instant Reactor::now() const {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return Instant{static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec};
}

void Reactor::arm_timer(Instant at, FiberId id, uint64_t generation) {
  timers_.push(Timer{at, timer_seq_++, id, generation});
}

void Reactor::register_fd(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  SAMSA_ASSERT_MSG(::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0, std::strerror(errno));
  fds_[fd] = FdWaiters{};
}

void Reactor::unregister_fd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  FdWaiters w = it->second;
  fds_.erase(it);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (w.reader != kNoFiber) unpark(w.reader);
  if (w.writer != kNoFiber) unpark(w.writer);
}

Status Reactor::wait_readable(int fd, Deadline deadline) { return wait_fd(fd, false, deadline); }
Status Reactor::wait_writable(int fd, Deadline deadline) { return wait_fd(fd, true, deadline); }

Status Reactor::wait_fd(int fd, bool for_write, Deadline deadline) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Errc::closed;
  FiberId& slot = for_write ? it->second.writer : it->second.reader;
  SAMSA_ASSERT_MSG(slot == kNoFiber, "two fibers wait on one socket direction");
  slot = current();
  Status s = park(deadline);
  // The fd may have been unregistered (closed) while we were parked.
  auto again = fds_.find(fd);
  if (again != fds_.end()) {
    FiberId& slot_again = for_write ? again->second.writer : again->second.reader;
    if (slot_again == current()) slot_again = kNoFiber;
  }
  return s;
}

int Reactor::offload(std::function<int()> syscall) {
  auto job = std::make_shared<Job>();
  job->fn = std::move(syscall);
  job->fiber = current();
  {
    std::lock_guard lock(jobs_mutex_);
    SAMSA_ASSERT_MSG(jobs_.size() < kBlockingQueueMax, "blocking job queue full");
    jobs_.push_back(job);
  }
  jobs_cv_.notify_one();
  while (!job->done) (void)park_uncancellable(Deadline::never());
  return job->result;
}

void Reactor::worker_main() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    int result = job->fn();
    {
      std::lock_guard lock(jobs_mutex_);
      job->result = result;
      completed_.push_back(std::move(job));
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
  }
}

void Reactor::drain_completions() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(event_fd_, &count, sizeof count);
  std::vector<std::shared_ptr<Job>> done;
  {
    std::lock_guard lock(jobs_mutex_);
    done.swap(completed_);
  }
  for (auto& job : done) {
    job->done = true;
    unpark(job->fiber);
  }
}

void Reactor::fire_timers() {
  const Instant t = now();
  while (!timers_.empty() && timers_.top().at <= t) {
    Timer timer = timers_.top();
    timers_.pop();
    on_timer(timer.fiber, timer.generation);
  }
}

int Reactor::epoll_timeout_ms() const {
  if (!runq_.empty()) return 0;
  if (timers_.empty()) return -1;
  const int64_t wait_ns = (timers_.top().at - now()).count();
  if (wait_ns <= 0) return 0;
  const int64_t ms = (wait_ns + 999'999) / 1'000'000;  // round up: never wake before the timer
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

void Reactor::poll_io(int timeout_ms) {
  epoll_event events[kEpollEventsMax];
  int n = ::epoll_wait(epoll_fd_, events, kEpollEventsMax, timeout_ms);
  if (n < 0) {
    SAMSA_ASSERT_MSG(errno == EINTR, std::strerror(errno));
    return;
  }
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == event_fd_) {
      drain_completions();
      continue;
    }
    auto it = fds_.find(fd);
    if (it == fds_.end()) continue;
    const uint32_t e = events[i].events;
    const FdWaiters w = it->second;
    if ((e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && w.reader != kNoFiber) unpark(w.reader);
    if ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && w.writer != kNoFiber) unpark(w.writer);
  }
}

void Reactor::run(FiberId main, NodeId node) {
  while (alive(main)) {
    // Run only the fibers runnable now, so that I/O and timers are polled between batches.
    for (size_t batch = runq_.size(); batch > 0 && !runq_.empty(); --batch) {
      FiberId id = runq_.front();
      runq_.pop_front();
      run_fiber(id);
    }
    fire_timers();
    if (!alive(main)) break;
    poll_io(epoll_timeout_ms());
    fire_timers();
  }
  kill_node(node);
}

}  // namespace samsa::real
