#include "runtime/sync.h"

namespace samsa {

WaitQueue::~WaitQueue() {
  while (head_ != nullptr) unlink(*head_);
}

void WaitQueue::link(Waiter& w) {
  w.queue = this;
  w.prev = tail_;
  w.next = nullptr;
  if (tail_ != nullptr) tail_->next = &w; else head_ = &w;
  tail_ = &w;
}

void WaitQueue::unlink(Waiter& w) {
  SAMSA_ASSERT(w.queue == this);
  if (w.prev != nullptr) w.prev->next = w.next; else head_ = w.next;
  if (w.next != nullptr) w.next->prev = w.prev; else tail_ = w.prev;
  w.queue = nullptr;
  w.prev = w.next = nullptr;
}

Status WaitQueue::wait(Deadline deadline) {
  // Legal at any time: every waiter re-checks its condition (runtime.h). A caller that took ok
  // for "the condition holds" would be caught here.
  if (rt_.buggify("sync.spurious_wakeup")) {
    rt_.yield();
    return Status{};
  }
  // The waiter lives on this fiber's stack; the guard unlinks it on every exit, including the
  // forced unwind of a crash.
  struct Guard {
    Waiter w;
    ~Guard() {
      if (w.queue != nullptr) w.queue->unlink(w);
    }
  } guard{Waiter{rt_.current_fiber()}};
  link(guard.w);
  for (;;) {
    Status s = rt_.park(deadline);
    if (guard.w.notified) return Status{};
    if (!s.ok()) return s;
    if (guard.w.queue == nullptr) return Errc::closed;  // queue destroyed under us
  }
}

void WaitQueue::notify_one() {
  if (head_ == nullptr) return;
  Waiter& w = *head_;
  unlink(w);
  w.notified = true;
  rt_.unpark(w.fiber);
}

void WaitQueue::notify_all() {
  while (head_ != nullptr) notify_one();
}

Status Mutex::lock(Deadline deadline) {
  while (locked_) {
    Status s = waiters_.wait(deadline);
    if (!s.ok()) return s;  // not notified, so no wakeup is lost
  }
  locked_ = true;
  return Status{};
}

bool Mutex::try_lock() {
  if (locked_) return false;
  locked_ = true;
  return true;
}

void Mutex::unlock() {
  SAMSA_ASSERT(locked_);
  locked_ = false;
  waiters_.notify_one();
}

void Event::set() {
  set_ = true;
  waiters_.notify_all();
}

Status Event::wait(Deadline deadline) {
  while (!set_) {
    Status s = waiters_.wait(deadline);
    if (!s.ok()) return s;
  }
  return Status{};
}

Status CondVar::wait(Mutex& m, Deadline deadline) {
  SAMSA_ASSERT(m.locked());
  m.unlock();
  Status waited = waiters_.wait(deadline);
  Status relocked = m.lock(Deadline::never());
  if (!relocked.ok()) return relocked;  // cancelled: the mutex is NOT held (see sync.h)
  return waited;
}

}  // namespace samsa
