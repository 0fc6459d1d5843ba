#include "runtime/fiber_scheduler.h"

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <cstdio>
#include <exception>

#include "runtime/assert.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SAMSA_ASAN 1
#endif

namespace samsa {

namespace ctx = boost::context;

// Finished fibers' stacks, reused newest first. Scheduler thread only (spawn and fiber exit).
struct FiberScheduler::StackPool {
  explicit StackPool(size_t bytes) : allocator(bytes) {}
  ~StackPool() {
    for (ctx::stack_context& sc : free) allocator.deallocate(sc);
  }
  ctx::protected_fixedsize_stack allocator;
  std::vector<ctx::stack_context> free;
};

// Boost's guarded stack allocator behind the pool, recording the stack bounds for the sanitizer
// annotations below.
struct RecordingStack {
  FiberScheduler::StackPool* pool;
  ctx::stack_context* record;
  ctx::stack_context allocate() {
    ctx::stack_context sc;
    if (pool->free.empty()) {
      sc = pool->allocator.allocate();
    } else {
      sc = pool->free.back();
      pool->free.pop_back();
    }
    *record = sc;
    return sc;
  }
  void deallocate(ctx::stack_context& sc) noexcept {
#ifdef SAMSA_ASAN
    // Neither munmap nor reuse clears the sanitizer's shadow: a fiber that died with frames on
    // this stack would leave their poison for the next user of these addresses (a false overflow).
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(sc.sp) - sc.size, sc.size);
#endif
    if (pool->free.size() < FiberScheduler::kStacksPooledMax) {
      pool->free.push_back(sc);
    } else {
      pool->allocator.deallocate(sc);
    }
  }
};

struct FiberScheduler::Fiber {
  FiberId id;
  NodeId node;
  std::string name;
  std::function<void()> body;
  ctx::fiber self;    // the fiber's continuation while it is suspended
  ctx::fiber caller;  // the scheduler's continuation while the fiber runs
  ctx::stack_context stack{};
  enum class State : uint8_t { runnable, running, parked, done } state = State::runnable;
  WakeReason wake = WakeReason::none;
  bool cancelled = false;
  bool unwinding = false;
  bool started = false;
  bool killed_before_start = false;
  bool park_cancellable = true;
  uint64_t park_generation = 0;
  std::vector<FiberId> joiners;
  void* fake_stack = nullptr;  // sanitizer bookkeeping
};

FiberScheduler::FiberScheduler(size_t stack_bytes) : stack_bytes_(stack_bytes) {
#if defined(SAMSA_SANITIZE)
  stack_bytes_ *= 4;  // sanitizer frames are much larger
#endif
  stacks_ = std::make_unique<StackPool>(stack_bytes_);
}

FiberScheduler::~FiberScheduler() {
  SAMSA_ASSERT(!in_fiber());
  while (!fibers_.empty()) kill_fiber(fibers_.rbegin()->first);
}

FiberId FiberScheduler::spawn(NodeId node, std::string name, std::function<void()> body) {
  SAMSA_ASSERT_MSG(fibers_.size() < kFibersMax, "fiber limit reached");
  FiberId id{next_id_++};
  auto f = std::make_unique<Fiber>();
  f->id = id;
  f->node = node;
  f->name = std::move(name);
  f->body = std::move(body);
  Fiber* raw = f.get();
  f->self = ctx::fiber(std::allocator_arg, RecordingStack{stacks_.get(), &raw->stack},
                       [this, raw](ctx::fiber&& caller) {
                         raw->caller = std::move(caller);
                         fiber_main(this, raw);
                         return std::move(raw->caller);
                       });
  index_.emplace(id.value, f.get());
  fibers_.emplace(id, std::move(f));
  make_runnable(id);
  return id;
}

void FiberScheduler::fiber_main(FiberScheduler* self, Fiber* f) {
#ifdef SAMSA_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &self->sched_stack_bottom_, &self->sched_stack_size_);
#else
  (void)self;
#endif
  f->started = true;
  try {
    if (!f->killed_before_start) f->body();
  } catch (const ctx::detail::forced_unwind&) {
    // A crash unwinding this fiber: our frames are gone; tell the sanitizer we are about to leave
    // this stack for good, and let the exception reach Boost.Context (never swallow it).
#ifdef SAMSA_ASAN
    __sanitizer_start_switch_fiber(nullptr, self->sched_stack_bottom_, self->sched_stack_size_);
#endif
    throw;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "samsa: fiber '%s' threw: %s\n", f->name.c_str(), e.what());
    SAMSA_UNREACHABLE();
  }
  f->body = nullptr;  // release captures while still on this fiber
  f->state = Fiber::State::done;
#ifdef SAMSA_ASAN
  __sanitizer_start_switch_fiber(nullptr, self->sched_stack_bottom_, self->sched_stack_size_);
#endif
}

std::string_view FiberScheduler::name_of(FiberId id) const {
  const Fiber* f = find_fiber(id);
  return f == nullptr ? std::string_view{} : std::string_view{f->name};
}

bool FiberScheduler::run_fiber(FiberId id) {
  SAMSA_ASSERT(!in_fiber());
  Fiber* found = find_fiber(id);
  if (found == nullptr) return false;
  Fiber& f = *found;
  if (f.state != Fiber::State::runnable) return false;
  f.state = Fiber::State::running;
  current_ = id;
  ++switches_;
#ifdef SAMSA_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, static_cast<char*>(f.stack.sp) - f.stack.size, f.stack.size);
#endif
  f.self = std::move(f.self).resume();
#ifdef SAMSA_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  current_ = kNoFiber;
  if (!f.self) {
    SAMSA_ASSERT(f.state == Fiber::State::done);
    finish(id);
  }
  return true;
}

void FiberScheduler::switch_to_scheduler(Fiber& f) {
  SAMSA_ASSERT_MSG(!f.unwinding, "a destructor suspended while its fiber was being unwound");
#ifdef SAMSA_ASAN
  __sanitizer_start_switch_fiber(&f.fake_stack, sched_stack_bottom_, sched_stack_size_);
  try {
    f.caller = std::move(f.caller).resume();
  } catch (const ctx::detail::forced_unwind&) {
    // Resumed by kill_fiber to unwind: finish the switch onto this stack, then keep unwinding.
    __sanitizer_finish_switch_fiber(f.fake_stack, &sched_stack_bottom_, &sched_stack_size_);
    throw;
  }
  __sanitizer_finish_switch_fiber(f.fake_stack, &sched_stack_bottom_, &sched_stack_size_);
#else
  f.caller = std::move(f.caller).resume();
#endif
}

void FiberScheduler::finish(FiberId id) {
  auto it = fibers_.find(id);
  SAMSA_ASSERT(it != fibers_.end());
  std::unique_ptr<Fiber> f = std::move(it->second);
  fibers_.erase(it);
  index_.erase(id.value);
  for (FiberId joiner : f->joiners) unpark(joiner);
  NodeId node = f->node;
  f.reset();
  on_fiber_exit(id, node);
}

void FiberScheduler::kill_fiber(FiberId id) {
  SAMSA_ASSERT(!in_fiber());
  auto it = fibers_.find(id);
  if (it == fibers_.end()) return;
  Fiber& f = *it->second;
  if (f.self && !f.started) {
    // Never ran: start it with orders to return at once, a plain exit with no unwinding.
    f.killed_before_start = true;
    f.state = Fiber::State::runnable;
    run_fiber(id);  // finishes it
    return;
  }
  if (f.self) {
    // Destroying a suspended Boost.Context fiber resumes it with a forced_unwind exception, so
    // its stack unwinds and destructors run; current() names it meanwhile.
    f.unwinding = true;
    current_ = id;
#ifdef SAMSA_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, static_cast<char*>(f.stack.sp) - f.stack.size, f.stack.size);
#endif
    f.self = ctx::fiber{};
#ifdef SAMSA_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    current_ = kNoFiber;
  }
  finish(id);
}

void FiberScheduler::kill_node(NodeId node) {
  std::vector<FiberId> victims;
  for (const auto& [id, f] : fibers_) {
    if (f->node == node) victims.push_back(id);
  }
  std::reverse(victims.begin(), victims.end());
  for (FiberId id : victims) kill_fiber(id);
}

bool FiberScheduler::timer_live(FiberId id, uint64_t generation) const {
  const Fiber* f = find_fiber(id);
  return f != nullptr && f->state == Fiber::State::parked && f->park_generation == generation;
}

void FiberScheduler::on_timer(FiberId id, uint64_t generation) {
  Fiber* found = find_fiber(id);
  if (found == nullptr) return;
  Fiber& f = *found;
  if (f.state != Fiber::State::parked || f.park_generation != generation) return;  // stale timer
  wake(f, WakeReason::timed_out);
}

void FiberScheduler::wake(Fiber& f, WakeReason reason) {
  SAMSA_ASSERT(f.state == Fiber::State::parked);
  f.state = Fiber::State::runnable;
  f.wake = reason;
  ++f.park_generation;  // any armed timer is now stale
  make_runnable(f.id);
}

FiberScheduler::Fiber& FiberScheduler::current_fiber() {
  SAMSA_ASSERT_MSG(in_fiber(), "called outside a fiber");
  Fiber* f = find_fiber(current_);
  SAMSA_ASSERT(f != nullptr);
  return *f;
}

NodeId FiberScheduler::current_node() const {
  SAMSA_ASSERT(in_fiber());
  const Fiber* f = find_fiber(current_);
  SAMSA_ASSERT(f != nullptr);
  return f->node;
}

FiberScheduler::Fiber* FiberScheduler::find_fiber(FiberId id) const {
  auto it = index_.find(id.value);
  return it == index_.end() ? nullptr : it->second;
}

Status FiberScheduler::park(Deadline deadline) { return park_impl(deadline, true); }

Status FiberScheduler::park_uncancellable(Deadline deadline) { return park_impl(deadline, false); }

Status FiberScheduler::park_impl(Deadline deadline, bool cancellable) {
  Fiber& f = current_fiber();
  if (cancellable && f.cancelled) return Errc::cancelled;
  if (!deadline.is_never() && clock_now() >= deadline.at) return Errc::timed_out;
  f.state = Fiber::State::parked;
  f.park_cancellable = cancellable;
  f.wake = WakeReason::none;
  if (!deadline.is_never()) arm_timer(deadline.at, f.id, f.park_generation);
  switch_to_scheduler(f);
  SAMSA_ASSERT(f.state == Fiber::State::running);
  switch (f.wake) {
    case WakeReason::unparked: return Status{};
    case WakeReason::timed_out: return Errc::timed_out;
    case WakeReason::cancelled: return Errc::cancelled;
    case WakeReason::none: break;
  }
  SAMSA_UNREACHABLE();
}

void FiberScheduler::unpark(FiberId id) {
  Fiber* f = find_fiber(id);
  if (f == nullptr) return;
  if (f->state == Fiber::State::parked) wake(*f, WakeReason::unparked);
}

void FiberScheduler::yield() {
  Fiber& f = current_fiber();
  f.state = Fiber::State::runnable;
  make_runnable(f.id);
  switch_to_scheduler(f);
}

Status FiberScheduler::sleep_until(Deadline deadline) {
  for (;;) {
    Status s = park(deadline);
    if (s.code() == Errc::timed_out) return Status{};
    if (s.code() == Errc::cancelled) return s;
  }
}

Status FiberScheduler::join(FiberId id, Deadline deadline) {
  Fiber& self = current_fiber();
  SAMSA_ASSERT_MSG(id != self.id, "a fiber cannot join itself");
  while (Fiber* target = find_fiber(id)) {
    target->joiners.push_back(self.id);
    Status s = park(deadline);
    if (Fiber* still = find_fiber(id)) {
      auto& j = still->joiners;
      j.erase(std::remove(j.begin(), j.end(), self.id), j.end());
    }
    if (!s.ok() && alive(id)) return s;
  }
  return Status{};
}

void FiberScheduler::cancel(FiberId id) {
  Fiber* found = find_fiber(id);
  if (found == nullptr) return;
  Fiber& f = *found;
  f.cancelled = true;
  if (f.state == Fiber::State::parked && f.park_cancellable) wake(f, WakeReason::cancelled);
}

bool FiberScheduler::cancelled() const {
  SAMSA_ASSERT(in_fiber());
  const Fiber* f = find_fiber(current_);
  SAMSA_ASSERT(f != nullptr);
  return f->cancelled;
}

NodeId FiberScheduler::node_of(FiberId id) const {
  const Fiber* f = find_fiber(id);
  return f == nullptr ? NodeId{-1} : f->node;
}

size_t FiberScheduler::fiber_count(NodeId node) const {
  size_t n = 0;
  for (const auto& [id, f] : fibers_) n += f->node == node ? 1 : 0;
  return n;
}

}  // namespace samsa
