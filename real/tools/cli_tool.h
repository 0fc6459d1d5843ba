// What the admin tools share: a client on the real runtime for --bootstrap-server, and Kafka's
// way of reporting a failed command.
#pragma once

#include <functional>
#include <string>

#include "client/cluster.h"

namespace samsa::real {

// Parses `bootstrap` (exit code 2 if it is malformed), runs `body` with a Cluster on the real
// runtime, and returns its exit code.
int run_tool(const std::string& bootstrap, const std::string& client_id, const std::function<int(client::Cluster&)>& body);

// Prints "Error: <message>" to stderr; returns 1.
int tool_error(const std::string& message);

}  // namespace samsa::real
