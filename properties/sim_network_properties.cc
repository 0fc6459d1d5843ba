// RapidCheck properties run in the simulator. A failing case shrinks to a small schedule; the
// counterexample printed includes the simulator seed, so `seed` replays it exactly.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "net/frame_server.h"
#include "net/framing.h"
#include "sim/world/sim_network.h"
#include "sim/world/simulator.h"

namespace samsa::sim {
namespace {

enum class FaultKind { partition, block_1to2, block_2to1, clog, latency, heal };

struct Fault {
  int at_ms;
  FaultKind kind;
  int duration_ms;
};

struct Schedule {
  uint64_t seed;
  std::vector<int> chunk_sizes;
  std::vector<Fault> faults;
};

// Found by RapidCheck through ADL to print a counterexample.
void showValue(const Schedule& s, std::ostream& os) {
  os << "seed=" << s.seed << " chunks=" << s.chunk_sizes.size() << " faults=[";
  for (const Fault& f : s.faults) os << "(" << f.at_ms << "ms kind=" << static_cast<int>(f.kind) << " " << f.duration_ms << "ms) ";
  os << "]";
}

}  // namespace
}  // namespace samsa::sim

namespace rc {
template <>
struct Arbitrary<samsa::sim::Fault> {
  static Gen<samsa::sim::Fault> arbitrary() {
    using namespace samsa::sim;
    return gen::build<Fault>(gen::set(&Fault::at_ms, gen::inRange(0, 20'000)),
                             gen::set(&Fault::kind, gen::cast<FaultKind>(gen::inRange(0, 6))),
                             gen::set(&Fault::duration_ms, gen::inRange(1, 8'000)));
  }
};
template <>
struct Arbitrary<samsa::sim::Schedule> {
  static Gen<samsa::sim::Schedule> arbitrary() {
    using namespace samsa::sim;
    return gen::build<Schedule>(gen::set(&Schedule::seed, gen::arbitrary<uint64_t>()),
                                gen::set(&Schedule::chunk_sizes, gen::container<std::vector<int>>(gen::inRange(1, 30'000))),
                                gen::set(&Schedule::faults, gen::container<std::vector<Fault>>(gen::arbitrary<Fault>())));
  }
};
}  // namespace rc

namespace samsa::sim {
namespace {

void apply(Simulator& sim, NodeId a, NodeId b, const Fault& f) {
  SimNetwork& net = sim.network();
  const Duration d = std::chrono::milliseconds(f.duration_ms);
  switch (f.kind) {
    case FaultKind::partition: net.partition(a, b); break;
    case FaultKind::block_1to2: net.block(a, b); break;
    case FaultKind::block_2to1: net.block(b, a); break;
    case FaultKind::clog: net.clog(a, b, d); break;
    case FaultKind::latency: net.set_latency(a, b, 1ms, 1ms + d / 10); break;
    case FaultKind::heal: net.heal(a, b); break;
  }
}

RC_GTEST_PROP(SimNetworkProperties, StreamsArriveCompleteAndInOrderUnderAnyFaultSchedule, (const Schedule& schedule)) {
  Simulator sim(SimOptions{schedule.seed, LogLevel::error, false, {}});
  std::vector<std::byte> sent, received;
  bool reset = false, finished = false;
  NodeId n1 = sim.add_node("n1", [&](Runtime& rt) {
    auto l = rt.listen(Address{"n1", 9});
    RC_ASSERT(l.ok());
    auto s = (*l)->accept(Deadline::never());
    RC_ASSERT(s.ok());
    std::byte buf[8192];
    for (;;) {
      auto n = (*s)->read_some(buf, Deadline::never());
      if (!n.ok()) {
        reset = n.error() == Errc::connection_reset;
        finished = true;
        return;
      }
      received.insert(received.end(), buf, buf + *n);
    }
  });
  NodeId n2 = sim.add_node("n2", [&](Runtime& rt) {
    Result<std::unique_ptr<Socket>> s = Errc::timed_out;
    while (!s.ok()) s = rt.connect(Address{"n1", 9}, rt.after(5s));
    uint8_t next = 0;
    for (int size : schedule.chunk_sizes) {
      std::vector<std::byte> chunk(static_cast<size_t>(size));
      for (auto& b : chunk) b = std::byte{next++};
      if (!(*s)->write_all(chunk, Deadline::never()).ok()) return;
      sent.insert(sent.end(), chunk.begin(), chunk.end());
      (void)rt.sleep(Duration{in_range(rt.random_u64(), 0, 50'000'000)});
    }
    (*s)->close();
  });
  sim.start(n1);
  sim.start(n2);
  for (const Fault& f : schedule.faults) sim.schedule_at(Instant{0} + std::chrono::milliseconds(f.at_ms), [&, f] { apply(sim, n2, n1, f); });
  sim.schedule_at(Instant{0} + 25s, [&] { sim.network().heal_all(); });
  sim.run_until(Instant{0} + 600s);
  RC_ASSERT(finished);
  RC_ASSERT(received.size() <= sent.size());
  RC_ASSERT(std::equal(received.begin(), received.end(), sent.begin()));  // a prefix, in order
  if (!reset) RC_ASSERT(received.size() == sent.size());                  // and complete
}

// Frames as a client might send them: well-formed, oversize, negative or cut short.
struct WireFrame {
  int kind;  // 0..5 well-formed, 6 oversize, 7 negative size, 8 truncated then close
  std::vector<uint8_t> body;
};

}  // namespace
}  // namespace samsa::sim

namespace rc {
template <>
struct Arbitrary<samsa::sim::WireFrame> {
  static Gen<samsa::sim::WireFrame> arbitrary() {
    using samsa::sim::WireFrame;
    return gen::build<WireFrame>(gen::set(&WireFrame::kind, gen::inRange(0, 9)),
                                 gen::set(&WireFrame::body, gen::container<std::vector<uint8_t>>(gen::arbitrary<uint8_t>())));
  }
};
}  // namespace rc

namespace samsa::sim {
namespace {

class EchoHandler final : public FrameHandler {
 public:
  Response handle(const ConnectionInfo&, FrameBuffer frame) override { return Response::reply({frame.begin(), frame.end()}); }
};

RC_GTEST_PROP(FramingProperties, WellFormedPrefixIsAnsweredInOrderThenTheConnectionCloses,
              (uint64_t seed, const std::vector<WireFrame>& frames)) {
  constexpr uint32_t kFrameMax = 512;
  Simulator sim(SimOptions{seed, LogLevel::error, false, {}});
  EchoHandler handler;
  std::vector<std::vector<std::byte>> expected, replies;
  bool server_ok = false, client_done = false;
  NodeId server = sim.add_node("server", [&](Runtime& rt) {
    FrameServerLimits limits;
    limits.frame_bytes_max = kFrameMax;
    limits.queued_bytes_max = 1024;
    limits.queued_frames_max = 3;
    FrameServer fs(rt, handler, limits);
    server_ok = fs.start(Address{"server", 1}).ok();
    (void)rt.sleep_until(Deadline::never());
  });
  NodeId client = sim.add_node("client", [&](Runtime& rt) {
    auto s = rt.connect(Address{"server", 1}, rt.after(5s));
    RC_ASSERT(s.ok());
    FiberId reader = rt.spawn("reader", [&] {
      for (;;) {
        auto r = read_frame(**s, 1 << 20, rt.after(60s));
        if (!r.ok()) return;
        replies.emplace_back(r->begin(), r->end());
      }
    });
    for (const WireFrame& f : frames) {
      std::vector<std::byte> body(f.body.size());
      std::transform(f.body.begin(), f.body.end(), body.begin(), [](uint8_t b) { return std::byte{b}; });
      std::byte header[4];
      const bool good = f.kind <= 5 && body.size() <= kFrameMax;
      put_u32_be(header, f.kind == 6 ? kFrameMax + 1 + static_cast<uint32_t>(body.size())
                         : f.kind == 7 ? 0x80000000u | static_cast<uint32_t>(body.size())
                                       : static_cast<uint32_t>(body.size() + (f.kind == 8 ? 1 : 0)));
      if (!(*s)->write_all(header, rt.after(60s)).ok()) break;
      if (!body.empty() && !(*s)->write_all(body, rt.after(60s)).ok()) break;
      if (!good) break;  // after a bad frame the server closes; nothing more counts
      expected.push_back(std::move(body));
    }
    (*s)->close();
    (void)rt.join(reader, rt.after(120s));
    client_done = true;
  });
  sim.start(server);
  sim.start(client);
  while (!client_done && sim.step()) {
  }
  RC_ASSERT(server_ok);
  RC_ASSERT(client_done);
  // Replies never exceed what was well-formed; they match it in order. (Closing the client
  // socket early may cut the tail, so a prefix is what is guaranteed.)
  RC_ASSERT(replies.size() <= expected.size());
  for (size_t i = 0; i < replies.size(); ++i) RC_ASSERT(replies[i] == expected[i]);
  RC_ASSERT(sim.up(server));
}

}  // namespace
}  // namespace samsa::sim
