#include "backend_harness.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "real/backend/real_runtime.h"
#include "sim/world/simulator.h"

namespace samsa::test {

const char* backend_name(Backend b) { return b == Backend::real ? "real" : "sim"; }

namespace {

std::string make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "samsa-test-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  return made;
}

constexpr const char* kSimDir = "testdir";

void run_sim_node(sim::Simulator& sim, NodeId id) {
  sim.start(id);
  while (!sim.node(id).main_finished && sim.step()) {
  }
}

}  // namespace

void run_on(Backend backend, const Body& body, uint64_t seed) {
  if (backend == Backend::real) {
    const std::string dir = make_temp_dir();
    real::RealOptions options;
    options.seed = seed;
    real::run_real(options, [&](Runtime& rt) { body(rt, dir); });
    std::filesystem::remove_all(dir);
    return;
  }
  sim::Simulator sim(sim::SimOptions{seed, LogLevel::error, false, {}});
  NodeId id = sim.add_node("n1", [&](Runtime& rt) {
    ASSERT_TRUE(create_dirs(rt, kSimDir).ok());
    body(rt, kSimDir);
  });
  run_sim_node(sim, id);
  EXPECT_TRUE(sim.node(id).main_finished) << "the simulated node's main never finished";
}

void run_with_crash(Backend backend, const Body& before, const Body& after, uint64_t seed) {
  if (backend == Backend::real) {
    const std::string dir = make_temp_dir();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      real::RealOptions options;
      options.seed = seed;
      real::run_real(options, [&](Runtime& rt) {
        before(rt, dir);
        ::kill(::getpid(), SIGKILL);  // no destructors, no flush: only what the kernel has
      });
      ::_exit(3);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child did not reach the crash point";
    real::RealOptions options;
    options.seed = seed;
    real::run_real(options, [&](Runtime& rt) { after(rt, dir); });
    std::filesystem::remove_all(dir);
    return;
  }
  sim::Simulator sim(sim::SimOptions{seed, LogLevel::error, false, {}});
  bool before_done = false;
  int phase = 0;
  NodeId id = sim.add_node("n1", [&](Runtime& rt) {
    if (phase == 0) {
      ASSERT_TRUE(create_dirs(rt, kSimDir).ok());
      before(rt, kSimDir);
      before_done = true;
      (void)rt.sleep_until(Deadline::never());  // stay up until the crash
    } else {
      after(rt, kSimDir);
    }
  });
  sim.start(id);
  while (!before_done && sim.step()) {
  }
  ASSERT_TRUE(before_done);
  sim.crash(id);
  phase = 1;
  run_sim_node(sim, id);
  EXPECT_TRUE(sim.node(id).main_finished);
}

}  // namespace samsa::test
