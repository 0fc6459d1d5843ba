#include "real/tools/cli_tool.h"

#include <cstdio>

#include "real/backend/real_runtime.h"

namespace samsa::real {

int run_tool(const std::string& bootstrap, const std::string& client_id, const std::function<int(client::Cluster&)>& body) {
  Result<std::vector<Address>> servers = client::parse_bootstrap(bootstrap);
  if (!servers.ok()) {
    std::fprintf(stderr, "Invalid --bootstrap-server: %s\n", bootstrap.c_str());
    return 2;
  }
  int rc = 0;
  RealOptions options;
  options.log_level = LogLevel::warn;
  run_real(options, [&](Runtime& rt) {
    client::Cluster cluster(rt, client::ClientConfig{*servers, client_id});
    rc = body(cluster);
  });
  std::fflush(stdout);
  return rc;
}

int tool_error(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

}  // namespace samsa::real
