#include "sim/world/trace_text.h"

#include <fmt/format.h>

namespace samsa::sim {

namespace {

std::string pair_of(uint64_t v) {
  return fmt::format("{} -> {}", static_cast<int32_t>(v >> 32), static_cast<int32_t>(static_cast<uint32_t>(v)));
}

// The codes folded by the world's fault sites (simulator.cc, sim_network.cc, sim_disk.cc): the
// low byte names the fault, the bits above it carry a parameter (a clog's length in ns).
std::string describe_fault(uint64_t a, uint64_t v) {
  static constexpr const char* kOps[] = {"read", "write", "sync"};
  const uint64_t code = a & 0xFF;
  switch (code) {
    case 0xA0: return fmt::format("clock jump {} ms", static_cast<int64_t>(v));
    case 0xA1: return fmt::format("clock drift {} ppm", static_cast<int64_t>(v));
    case 0xB0: return "partition " + pair_of(v);
    case 0xB1: return fmt::format("heal all ({} blocked paths)", v);
    case 0xB2: return fmt::format("clog {} for {} ms", pair_of(v), (a >> 8) / 1'000'000);
    case 0xB3: return "unclog " + pair_of(v);
    case 0xB4: return "heal " + pair_of(v) + " (both ways)";
    case 0xC0: return fmt::format("reset {} connections", v);
    case 0xC1: return "lose in-flight data and reset " + pair_of(v);
    case 0xD0:
    case 0xD1:
    case 0xD2: return fmt::format("EIO on {} ({})", kOps[code - 0xD0], v == 1 ? "drawn" : "aimed");
    case 0xF1: return fmt::format("bit flip at bit {}", v);
    case 0xF2: return fmt::format("misdirected write to {}", v);
    case 0xF3: return fmt::format("bad sector {}", v);
    default: return fmt::format("code {:#x} value {}", code, v);
  }
}

std::string describe_disk(uint64_t a, uint64_t b) {
  static constexpr const char* kOps[] = {"read", "write", "sync", "truncate"};
  static constexpr const char* kNs[] = {"add", "remove", "rename"};
  if (a == 0xD1) return fmt::format("sync dir (path hash {:#x})", b);
  if (a >= 0xD2 && a <= 0xD4) return fmt::format("dir entry {} (path hash {:#x})", kNs[a - 0xD2], b);
  return fmt::format("{} inode {} ({:#x})", kOps[a & 3], a >> 2, b);
}

}  // namespace

const char* trace_kind_name(Trace kind) {
  switch (kind) {
    case Trace::schedule: return "schedule";
    case Trace::event: return "event";
    case Trace::net_segment: return "net-send";
    case Trace::net_deliver: return "net-deliver";
    case Trace::net_reset: return "net-reset";
    case Trace::net_connect: return "net-connect";
    case Trace::disk_op: return "disk";
    case Trace::disk_crash: return "disk-crash";
    case Trace::fault: return "fault";
    case Trace::node_start: return "node-start";
    case Trace::node_crash: return "node-crash";
    case Trace::buggify: return "buggify";
    case Trace::node_pause: return "node-pause";
  }
  return "unknown";
}

std::string describe_trace(const TraceEvent& e) {
  switch (e.kind) {
    case Trace::schedule: return e.label.empty() ? fmt::format("fiber {}", e.a) : fmt::format("fiber {} ({})", e.a, e.label);
    case Trace::event: return e.label.empty() ? "scheduled action" : fmt::format("timer of {}", e.label);
    case Trace::net_segment: return fmt::format("connection {} side {}: {:#x}", e.a / 2, e.a % 2, e.b);
    case Trace::net_deliver: return fmt::format("connection {} side {}: {} bytes", e.a / 2, e.a % 2, e.b);
    case Trace::net_reset: return fmt::format("connection {} side {}", e.a, e.b);
    case Trace::net_connect: return fmt::format("connection {} to node {}", e.a, static_cast<int64_t>(e.b));
    case Trace::disk_op: return describe_disk(e.a, e.b);
    case Trace::disk_crash: return fmt::format("inode {} kept {:#x}", e.a, e.b);
    case Trace::fault: return describe_fault(e.a, e.b);
    case Trace::node_start: return fmt::format("node {} incarnation {}", e.a, e.b);
    case Trace::node_crash:
      return fmt::format("node {} incarnation {} ({})", e.a, e.b >> 1,
                         (e.b & 1) == static_cast<uint64_t>(CrashKind::process) ? "process crash" : "machine crash");
    case Trace::buggify: return fmt::format("site hash {:#x}", e.a);
    case Trace::node_pause: return fmt::format("node {} {}", e.a, e.b == 1 ? "paused" : "resumed");
  }
  return fmt::format("{} {}", e.a, e.b);
}

}  // namespace samsa::sim
