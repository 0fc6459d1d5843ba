// Runs the samsa-sim binary (SAMSA_SIM_BINARY, set by tests/CMakeLists.txt) in another process
// and picks lines out of its output: for the tests that compare runs across processes.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace samsa::testing {

inline std::string run_sim_binary(const std::string& args) {
  const std::string cmd = std::string(SAMSA_SIM_BINARY) + " " + args;
  FILE* p = ::popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  if (p == nullptr) return {};
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ::pclose(p);
  return out;
}

// The first line of `out` that contains `key`, from `key` on; empty if none.
inline std::string line_with(const std::string& out, const std::string& key) {
  const size_t at = out.find(key);
  if (at == std::string::npos) return {};
  return out.substr(at, out.find('\n', at) - at);
}

}  // namespace samsa::testing
