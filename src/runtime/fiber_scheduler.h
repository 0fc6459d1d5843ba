// FiberScheduler: the fiber mechanics both backends share (Boost.Context stacks, park/unpark,
// join, cancellation, forced unwinding on crash). It never decides *which* fiber runs next or
// *when* a timer fires: a backend subclass does (FIFO + epoll in real/, a seeded random pick
// and a virtual clock in sim/). Keeping the mechanics here means the simulator tests exactly the
// suspension semantics that production runs with.
//
// Contract
// - Single thread. Scheduler-context methods (run_fiber, kill_*, on_timer) are called by the
//   backend's loop, never from inside a fiber. Fiber-context methods (park, yield, join, ...)
//   are called only from inside a running fiber.
// - Fibers live in an ordered map keyed by FiberId (a counter), so every iteration is
//   deterministic.
// - kill_node() unwinds a node's fibers newest first: a child always dies before the fiber
//   that spawned it, so objects a parent owns outlive the children that use them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/ids.h"
#include "runtime/status.h"
#include "runtime/time.h"

namespace samsa {

class FiberScheduler {
 public:
  // Default fiber stack. Generous because fibers run arbitrary broker code; pages are only
  // committed when touched. A guard page below each stack turns overflow into a clean SIGSEGV.
  static constexpr size_t kStackBytesDefault = 256 * 1024;
  static constexpr size_t kFibersMax = 100'000;
  // Stacks of finished fibers kept for the next spawns: mapping, guarding and first touching a
  // fresh stack cost more than many fibers' whole lives (connection workers, requests).
  static constexpr size_t kStacksPooledMax = 64;

  explicit FiberScheduler(size_t stack_bytes = kStackBytesDefault);
  virtual ~FiberScheduler();
  FiberScheduler(const FiberScheduler&) = delete;
  FiberScheduler& operator=(const FiberScheduler&) = delete;

  // Creates a runnable fiber of `node`. Callable from either context.
  FiberId spawn(NodeId node, std::string name, std::function<void()> body);

  // --- scheduler context ---
  // Runs the fiber until it parks, yields or finishes. A fiber that is not runnable (already
  // killed or finished, or woken twice) is skipped; returns whether it ran.
  bool run_fiber(FiberId id);
  // Unwinds one fiber / every fiber of a node (newest first). Their destructors run.
  void kill_fiber(FiberId id);
  void kill_node(NodeId node);
  // A timer the backend armed through arm_timer has expired.
  void on_timer(FiberId id, uint64_t generation);
  // Whether that timer would still wake its fiber (false once the fiber woke otherwise or died),
  // so a backend may drop a stale timer without spending a turn on it.
  bool timer_live(FiberId id, uint64_t generation) const;

  // --- fiber context ---
  FiberId current() const { return current_; }
  NodeId current_node() const;
  Status park(Deadline deadline);
  // For backends only: waits that must not end early, such as a disk operation running on a
  // helper thread that still uses the caller's buffers. Cancellation is noted, not acted on.
  Status park_uncancellable(Deadline deadline);
  void unpark(FiberId id);
  void yield();
  Status sleep_until(Deadline deadline);
  Status join(FiberId id, Deadline deadline);
  void cancel(FiberId id);
  bool cancelled() const;

  // --- either context ---
  bool alive(FiberId id) const { return index_.count(id.value) != 0; }
  // The node a live fiber belongs to; NodeId{-1} if it is gone.
  NodeId node_of(FiberId id) const;
  // The name a live fiber was spawned with; empty if it is gone.
  std::string_view name_of(FiberId id) const;
  size_t fiber_count() const { return fibers_.size(); }
  size_t fiber_count(NodeId node) const;
  bool in_fiber() const { return current_ != kNoFiber; }
  uint64_t context_switches() const { return switches_; }

 protected:
  // The backend queues `id` to be run later by run_fiber().
  virtual void make_runnable(FiberId id) = 0;
  // The backend calls on_timer(id, generation) once its clock reaches `at`.
  virtual void arm_timer(Instant at, FiberId id, uint64_t generation) = 0;
  virtual Instant clock_now() const = 0;
  // Called in scheduler context after a fiber finished or was killed.
  virtual void on_fiber_exit(FiberId /*id*/, NodeId /*node*/) {}

 private:
  struct Fiber;
  struct StackPool;
  friend struct RecordingStack;  // the stack allocator Boost.Context calls (fiber_scheduler.cc)
  enum class WakeReason : uint8_t { none, unparked, timed_out, cancelled };

  Fiber& current_fiber();
  Fiber* find_fiber(FiberId id) const;  // nullptr once it is gone
  void switch_to_scheduler(Fiber& f);
  void finish(FiberId id);
  void wake(Fiber& f, WakeReason reason);
  Status park_impl(Deadline deadline, bool cancellable);
  static void fiber_main(FiberScheduler* self, Fiber* f);

  size_t stack_bytes_;
  uint64_t next_id_ = 1;
  uint64_t switches_ = 0;
  FiberId current_ = kNoFiber;
  std::unique_ptr<StackPool> stacks_;  // declared before fibers_: outlives them
  std::map<FiberId, std::unique_ptr<Fiber>> fibers_;
  // The same fibers by id for lookups, which every park, wake and timer does; the map above
  // keeps them in id order for iteration.
  std::unordered_map<uint64_t, Fiber*> index_;
  // Scheduler stack, learned on the first switch; only used by sanitizer annotations.
  const void* sched_stack_bottom_ = nullptr;
  size_t sched_stack_size_ = 0;
};

}  // namespace samsa
