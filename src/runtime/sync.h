// Fiber-aware synchronisation built only on Runtime::park/unpark, so it behaves identically on
// Linux and in the simulator. All of it is for fibers of one node (one thread): no atomics.
//
// Ownership: a primitive must outlive the fibers waiting on it, except that destroying a
// WaitQueue detaches its waiters (they then see a spurious wakeup and fail their re-check), so
// a crash that unwinds fibers in any order cannot touch freed memory.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "runtime/runtime.h"

namespace samsa {

// FIFO queue of parked fibers. The building block of everything below.
class WaitQueue {
 public:
  explicit WaitQueue(Runtime& rt) : rt_(rt) {}
  ~WaitQueue();
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  // ok when notified (even if the deadline passed at the same moment: a notification is never
  // lost), else timed_out or cancelled.
  Status wait(Deadline deadline);
  void notify_one();
  void notify_all();
  bool empty() const { return head_ == nullptr; }

 private:
  struct Waiter {
    FiberId fiber;
    bool notified = false;
    WaitQueue* queue = nullptr;
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
  };
  void link(Waiter& w);
  void unlink(Waiter& w);

  Runtime& rt_;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

class Mutex {
 public:
  explicit Mutex(Runtime& rt) : waiters_(rt) {}
  Status lock(Deadline deadline);
  bool try_lock();
  void unlock();
  bool locked() const { return locked_; }

 private:
  WaitQueue waiters_;
  bool locked_ = false;
};

// Holds a Mutex for a scope once lock() succeeded.
class [[nodiscard]] LockGuard {
 public:
  explicit LockGuard(Mutex& m) : m_(m) {}
  ~LockGuard() { m_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Mutex& m_;
};

// Manual-reset event: once set, every wait returns ok until reset().
class Event {
 public:
  explicit Event(Runtime& rt) : waiters_(rt) {}
  void set();
  void reset() { set_ = false; }
  bool is_set() const { return set_; }
  Status wait(Deadline deadline);

 private:
  WaitQueue waiters_;
  bool set_ = false;
};

// Condition variable for a fiber Mutex. wait() re-acquires the mutex before returning, even on
// timeout; callers loop on their predicate. The one exception: when the fiber is cancelled while
// the mutex is contended, wait() returns Errc::cancelled WITHOUT the mutex.
class CondVar {
 public:
  explicit CondVar(Runtime& rt) : waiters_(rt) {}
  Status wait(Mutex& m, Deadline deadline);
  void notify_one() { waiters_.notify_one(); }
  void notify_all() { waiters_.notify_all(); }

 private:
  WaitQueue waiters_;
};

// Bounded multi-producer multi-consumer channel. capacity_max is the named limit: senders wait
// while it is full. After close(), sends fail with Errc::closed and receives drain what is
// queued, then fail with Errc::closed.
template <typename T>
class Channel {
 public:
  Channel(Runtime& rt, size_t capacity_max) : capacity_max_(capacity_max), not_full_(rt), not_empty_(rt) {
    SAMSA_ASSERT(capacity_max > 0);
  }

  Status send(T value, Deadline deadline) {
    while (!closed_ && items_.size() >= capacity_max_) {
      Status s = not_full_.wait(deadline);
      if (!s.ok()) return s;
    }
    if (closed_) return Errc::closed;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return Status{};
  }

  // Errc::resource_exhausted when full.
  Status try_send(T value) {
    if (closed_) return Errc::closed;
    if (items_.size() >= capacity_max_) return Errc::resource_exhausted;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return Status{};
  }

  Result<T> receive(Deadline deadline) {
    while (items_.empty() && !closed_) {
      Status s = not_empty_.wait(deadline);
      if (!s.ok()) return s;
    }
    if (items_.empty()) return Errc::closed;
    T value = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return value;
  }

  void close() {
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }
  bool closed() const { return closed_; }
  size_t size() const { return items_.size(); }
  size_t capacity() const { return capacity_max_; }

 private:
  size_t capacity_max_;
  std::deque<T> items_;
  bool closed_ = false;
  WaitQueue not_full_;
  WaitQueue not_empty_;
};

}  // namespace samsa
