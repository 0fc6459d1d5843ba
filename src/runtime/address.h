// Network addresses as host:port, the form Kafka's `listeners` and `bootstrap.servers` use.
// The simulator resolves host names to simulated nodes; the real backend to IPv4/IPv6.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/status.h"

namespace samsa {

struct Address {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const;
  // Accepts "host:port" and "[v6]:port"; rejects a missing or out-of-range port.
  static Result<Address> parse(std::string_view text);
  friend auto operator<=>(const Address&, const Address&) = default;
};

}  // namespace samsa
