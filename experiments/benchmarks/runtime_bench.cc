// Runtime micro-benchmarks. Each figure has a baseline measured in the same run, so results are
// read as ratios (see experiments/results/runtime.md for figures and the command).
#include <benchmark/benchmark.h>

#include <functional>
#include <queue>

#include "real/backend/real_runtime.h"
#include "sim/scenarios/demo_scenario.h"
#include "sim/world/simulator.h"

namespace {

using namespace samsa;

// Baseline for a fiber switch: an indirect call that cannot be inlined.
void BM_Baseline_StdFunctionCall(benchmark::State& state) {
  int x = 0;
  std::function<void()> f = [&x] { benchmark::DoNotOptimize(++x); };
  benchmark::DoNotOptimize(f);
  for (auto _ : state) f();
}
BENCHMARK(BM_Baseline_StdFunctionCall);

// Two fibers on the epoll reactor yielding to each other: one iteration is one yield, i.e. a
// switch out of a fiber, a scheduling decision, and a switch into the other fiber.
void BM_FiberYield_Real(benchmark::State& state) {
  real::run_real(real::RealOptions{}, [&](Runtime& rt) {
    bool stop = false;
    FiberId other = rt.spawn("other", [&] {
      while (!stop) rt.yield();
    });
    for (auto _ : state) rt.yield();
    stop = true;
    (void)rt.join(other, Deadline::never());
  });
}
BENCHMARK(BM_FiberYield_Real);

// The same in the simulator, which also draws a random number and folds the trace per switch.
void BM_FiberYield_Sim(benchmark::State& state) {
  sim::Simulator sim(sim::SimOptions{1, LogLevel::error, false, {}});
  bool stop = false, done = false;
  NodeId n = sim.add_node("n1", [&](Runtime& rt) {
    FiberId other = rt.spawn("other", [&] {
      while (!stop) rt.yield();
    });
    for (auto _ : state) rt.yield();
    stop = true;
    (void)rt.join(other, Deadline::never());
    done = true;
  });
  sim.start(n);
  while (!done && sim.step()) {
  }
}
BENCHMARK(BM_FiberYield_Sim);

// Baseline for a simulator event: push and pop a timestamped closure in a priority queue.
void BM_Baseline_PriorityQueueEvent(benchmark::State& state) {
  struct Ev {
    int64_t at;
    std::function<void()> fn;
    bool operator>(const Ev& o) const { return at > o.at; }
  };
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> q;
  int64_t t = 0, fired = 0;
  for (int i = 0; i < 64; ++i) q.push(Ev{i, [&fired] { ++fired; }});
  for (auto _ : state) {
    Ev e = q.top();
    q.pop();
    e.fn();
    q.push(Ev{e.at + 64 + (t++ % 7), std::move(e.fn)});
  }
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_PriorityQueueEvent);

// Simulator steps per second: 64 fibers sleeping random short intervals (timer event + wakeup +
// fiber run per cycle).
void BM_SimulatorSteps(benchmark::State& state) {
  sim::Simulator sim(sim::SimOptions{1, LogLevel::error, false, {}});
  NodeId n = sim.add_node("n1", [](Runtime& rt) {
    for (int i = 0; i < 64; ++i) {
      rt.spawn("sleeper", [&rt] {
        for (;;) {
          if (!rt.sleep(Duration{1000 + static_cast<int64_t>(rt.random_u64() % 1000)}).ok()) return;
        }
      });
    }
    (void)rt.sleep_until(Deadline::never());
  });
  sim.start(n);
  for (auto _ : state) sim.step();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimulatorSteps);

// One whole demo seed (10 s of faults, 5 s quiet) of samsa-sim, for campaign planning.
void BM_DemoSeed(benchmark::State& state) {
  uint64_t seed = 1;
  for (auto _ : state) {
    sim::DemoOptions o;
    o.seed = seed++;
    o.fault_time = std::chrono::seconds(10);
    o.quiet_time = std::chrono::seconds(5);
    o.log_level = LogLevel::error;
    benchmark::DoNotOptimize(sim::run_demo(o).trace_hash);
  }
}
BENCHMARK(BM_DemoSeed)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
