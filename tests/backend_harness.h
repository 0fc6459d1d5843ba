// Runs one test body against both runtime backends, so each contract test is written once.
// The body gets the runtime and a directory it may use (a fresh temporary directory on Linux,
// a directory on the simulated disk).
#pragma once

#include <functional>
#include <string>

#include "runtime/runtime.h"

namespace samsa::test {

enum class Backend { real, sim };
const char* backend_name(Backend b);

using Body = std::function<void(Runtime& rt, const std::string& dir)>;

// Runs body as a node's main fiber and returns when it finishes.
void run_on(Backend backend, const Body& body, uint64_t seed = 1);

// Runs `before`, crashes the node (Linux: SIGKILL of a forked child that ran `before`; simulator:
// Simulator::crash with its disk model), then runs `after` on the same directory.
void run_with_crash(Backend backend, const Body& before, const Body& after, uint64_t seed = 1);

}  // namespace samsa::test
