// The request framing loop (src/net), on both backends: in-order replies to pipelined frames,
// clean closes on oversize, negative and truncated frames, and a server that goes on serving.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "backend_harness.h"
#include "net/frame_server.h"
#include "net/framing.h"

namespace samsa::test {
namespace {

class Framing : public ::testing::TestWithParam<Backend> {};

// Replies with the frame reversed after a delay that varies per frame, so that a server which
// answered out of order would be caught.
class ReverseHandler final : public FrameHandler {
 public:
  explicit ReverseHandler(Runtime& rt) : rt_(rt) {}
  Response handle(const ConnectionInfo&, FrameBuffer frame) override {
    if (!frame.empty() && frame[0] == std::byte{'!'}) return Response::close();
    (void)rt_.sleep(std::chrono::microseconds(100 * (frame.size() % 7)));
    std::reverse(frame.begin(), frame.end());
    return Response::reply({frame.begin(), frame.end()});
  }

 private:
  Runtime& rt_;
};

ConstBytes bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string string_of(ConstBytes v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size()); }

struct Server {
  explicit Server(Runtime& rt, FrameServerLimits limits = small_limits()) : handler(rt), frames(rt, handler, limits) {
    Status s = frames.start(Address{"127.0.0.1", 0});
    EXPECT_TRUE(s.ok()) << s.name();
  }
  static FrameServerLimits small_limits() {
    FrameServerLimits l;
    l.frame_bytes_max = 1024;
    l.queued_bytes_max = 4096;
    l.queued_frames_max = 4;
    return l;
  }
  ReverseHandler handler;
  FrameServer frames;
};

// The server closed the connection: reads end with EOF or reset, never with data or a timeout.
void expect_closed_by_server(Runtime& rt, Socket& s) {
  std::byte buf[64];
  Result<size_t> n = s.read_some(buf, rt.after(10s));
  EXPECT_FALSE(n.ok());
  EXPECT_TRUE(n.error() == Errc::end_of_file || n.error() == Errc::connection_reset) << errc_name(n.error());
}

TEST_P(Framing, PipelinedFramesAreAnsweredInOrder) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    Server server(rt);
    auto c = rt.connect(server.frames.local_address(), rt.after(10s));
    ASSERT_TRUE(c.ok());
    constexpr int kFrames = 50;  // more than the queue holds: the reader must apply backpressure
    FiberId writer = rt.spawn("writer", [&] {
      for (int i = 0; i < kFrames; ++i) ASSERT_TRUE(write_frame(**c, bytes_of("frame-" + std::to_string(i)), rt.after(10s)).ok());
    });
    for (int i = 0; i < kFrames; ++i) {
      auto reply = read_frame(**c, 1024, rt.after(10s));
      ASSERT_TRUE(reply.ok()) << errc_name(reply.error());
      std::string want = "frame-" + std::to_string(i);
      std::reverse(want.begin(), want.end());
      ASSERT_EQ(string_of(*reply), want);
    }
    ASSERT_TRUE(rt.join(writer, rt.after(10s)).ok());
    EXPECT_EQ(server.frames.stats().frames_handled, static_cast<uint64_t>(kFrames));
    server.frames.stop();
  });
}

// Frames starting with 'd' are answered late (a produce waiting for its fsync or its replicas):
// the worker goes on to the next frames meanwhile, and every answer still comes in order.
class DeferringHandler final : public FrameHandler {
 public:
  explicit DeferringHandler(Runtime& rt) : rt_(rt) {}
  Response handle(const ConnectionInfo&, FrameBuffer frame) override {
    ++handled;
    if (!frame.empty() && frame[0] == std::byte{'!'}) return Response::close();
    std::string text(reinterpret_cast<const char*>(frame.data()), frame.size());
    std::reverse(text.begin(), text.end());
    if (frame.empty() || frame[0] != std::byte{'d'}) return Response::reply(std::vector<std::byte>(frame.begin(), frame.end()));
    return Response::deferred([this, text] {
      (void)rt_.sleep(std::chrono::milliseconds(5));
      handled_when_finished.push_back(handled);
      return Response::reply(std::vector<std::byte>(reinterpret_cast<const std::byte*>(text.data()),
                                                    reinterpret_cast<const std::byte*>(text.data()) + text.size()));
    });
  }
  uint64_t handled = 0;
  std::vector<uint64_t> handled_when_finished;

 private:
  Runtime& rt_;
};

TEST_P(Framing, DeferredAnswersKeepRequestOrderWhileLaterRequestsAreHandled) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    DeferringHandler handler(rt);
    FrameServer frames(rt, handler, Server::small_limits());
    ASSERT_TRUE(frames.start(Address{"127.0.0.1", 0}).ok());
    auto c = rt.connect(frames.local_address(), rt.after(10s));
    ASSERT_TRUE(c.ok());
    const std::vector<std::string> sent{"now-0", "d-1", "now-2", "d-3", "d-4", "now-5", "!"};
    for (const std::string& f : sent) ASSERT_TRUE(write_frame(**c, bytes_of(f), rt.after(10s)).ok());
    for (size_t i = 0; i + 1 < sent.size(); ++i) {
      auto reply = read_frame(**c, 1024, rt.after(10s));
      ASSERT_TRUE(reply.ok()) << i << ": " << errc_name(reply.error());
      std::string want = sent[i];
      if (want[0] == 'd') std::reverse(want.begin(), want.end());
      EXPECT_EQ(string_of(*reply), want);
    }
    expect_closed_by_server(rt, **c);  // the close comes after every earlier answer
    // The first deferred answer (frame 1) was finished after the worker had handled more frames.
    ASSERT_EQ(handler.handled_when_finished.size(), 3u);
    EXPECT_GT(handler.handled_when_finished[0], 2u);
    EXPECT_EQ(frames.stats().responses_deferred, 3u);
    frames.stop();
  });
}

TEST_P(Framing, OversizeAndNegativeFramesCloseOnlyThatConnection) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    Server server(rt);
    for (uint32_t bad_size : {1025u, 0x80000000u, 0xFFFFFFFFu}) {
      auto c = rt.connect(server.frames.local_address(), rt.after(10s));
      ASSERT_TRUE(c.ok());
      std::byte header[4];
      put_u32_be(header, bad_size);
      ASSERT_TRUE((*c)->write_all(header, rt.after(10s)).ok());
      expect_closed_by_server(rt, **c);
    }
    EXPECT_EQ(server.frames.stats().frames_rejected, 3u);
    // The server is still alive for well-behaved clients.
    auto good = rt.connect(server.frames.local_address(), rt.after(10s));
    ASSERT_TRUE(good.ok());
    ASSERT_TRUE(write_frame(**good, bytes_of("abc"), rt.after(10s)).ok());
    auto reply = read_frame(**good, 1024, rt.after(10s));
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(string_of(*reply), "cba");
    server.frames.stop();
  });
}

TEST_P(Framing, TruncatedFrameIsCountedAndClosed) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    Server server(rt);
    auto c = rt.connect(server.frames.local_address(), rt.after(10s));
    ASSERT_TRUE(c.ok());
    std::byte partial[4 + 10] = {};
    put_u32_be(partial, 100);  // promises 100 bytes, sends 10, then closes
    ASSERT_TRUE((*c)->write_all(partial, rt.after(10s)).ok());
    (*c)->close();
    for (int i = 0; i < 1000 && server.frames.stats().frames_truncated == 0; ++i) (void)rt.sleep(1ms);
    EXPECT_EQ(server.frames.stats().frames_truncated, 1u);
    for (int i = 0; i < 1000 && server.frames.connection_count() > 0; ++i) (void)rt.sleep(1ms);
    EXPECT_EQ(server.frames.connection_count(), 0u);
    server.frames.stop();
  });
}

TEST_P(Framing, HandlerCanCloseAndConnectionLimitHolds) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    FrameServerLimits limits = Server::small_limits();
    limits.connections_max = 2;
    Server server(rt, limits);
    auto a = rt.connect(server.frames.local_address(), rt.after(10s));
    auto b = rt.connect(server.frames.local_address(), rt.after(10s));
    ASSERT_TRUE(a.ok() && b.ok());
    for (auto* s : {&*a, &*b}) {  // make sure both are accepted before the third arrives
      ASSERT_TRUE(write_frame(**s, bytes_of("x"), rt.after(10s)).ok());
      ASSERT_TRUE(read_frame(**s, 1024, rt.after(10s)).ok());
    }
    auto third = rt.connect(server.frames.local_address(), rt.after(10s));
    ASSERT_TRUE(third.ok());
    expect_closed_by_server(rt, **third);
    EXPECT_EQ(server.frames.stats().connections_refused, 1u);
    ASSERT_TRUE(write_frame(**a, bytes_of("!close"), rt.after(10s)).ok());
    expect_closed_by_server(rt, **a);
    server.frames.stop();
  });
}

// 100 connections each claim a 100 MB frame and send a few bytes of it (under 2 KB in all). The
// server's budget holds only what arrived (no claimed-size allocation, no zero-filling), keeps answering
// another client at once, and closes the stalled connections after the stall timeout.
TEST_P(Framing, ClaimedHugeFramesCostOnlyWhatArrivesAndStallOut) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    FrameServerLimits limits;
    limits.stall_timeout = 2s;
    limits.queued_bytes_total_max = 1 << 20;
    Server server(rt, limits);
    std::vector<std::unique_ptr<Socket>> liars;
    for (int i = 0; i < 100; ++i) {
      auto s = rt.connect(server.frames.local_address(), rt.after(10s));
      ASSERT_TRUE(s.ok());
      std::byte claim[4 + 8] = {};
      put_u32_be(claim, 100u << 20);
      ASSERT_TRUE((*s)->write_all(claim, rt.after(10s)).ok());
      liars.push_back(std::move(*s));
    }
    (void)rt.sleep(200ms);
    EXPECT_LE(server.frames.queued_bytes_total(), 100u * (kFrameChunkMinBytes + 8)) << "budget follows arrivals, not claims";
    auto honest = rt.connect(server.frames.local_address(), rt.after(10s));
    ASSERT_TRUE(honest.ok());
    ASSERT_TRUE(write_frame(**honest, bytes_of("abc"), rt.after(10s)).ok());
    auto reply = read_frame(**honest, 1024, rt.after(10s));
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(string_of(*reply), "cba");
    EXPECT_EQ(server.frames.stats().frames_stalled, 0u) << "the honest client was answered only after the liars timed out";
    EXPECT_EQ(server.frames.stats().budget_waits, 0u);
    for (auto& s : liars) expect_closed_by_server(rt, *s);
    EXPECT_EQ(server.frames.stats().frames_stalled, 100u);
    EXPECT_EQ(server.frames.queued_bytes_total(), 0u);
    server.frames.stop();
  });
}

// read_frame_body reserves a frame's buffer before its bytes arrive, up to kFrameReserveBytesMax:
// a 1.5 MiB frame lands in one buffer that never moves (no growing copies), and a claim of
// 64 MiB followed by 8 bytes and a close reserves no more than the bound.
TEST_P(Framing, AFrameBufferIsReservedUpToTheBoundNotToTheClaim) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    auto listener = rt.listen(Address{"127.0.0.1", 0});
    ASSERT_TRUE(listener.ok());
    auto client = rt.connect((*listener)->local_address(), rt.after(10s));
    ASSERT_TRUE(client.ok());
    auto served = (*listener)->accept(rt.after(10s));
    ASSERT_TRUE(served.ok());
    const std::vector<std::byte> big(3 * kFrameReserveBytesMax / 4, std::byte{'x'});
    Status written;
    const FiberId writer = rt.spawn("writer", [&] { written = write_frame(**client, big, rt.after(10s)); });
    auto size = read_frame_size(**served, 64u << 20, rt.after(10s));
    ASSERT_TRUE(size.ok());
    FrameBuffer out;
    std::set<const std::byte*> buffers;  // where the bytes went, at every chunk read
    int takes = 0;
    const FrameBudget budget{[&](size_t) { ++takes; buffers.insert(out.data()); return Status{}; }, [](size_t) {}};
    ASSERT_TRUE(read_frame_body(**served, *size, out, [&rt] { return rt.after(10s); }, &budget).ok());
    ASSERT_TRUE(rt.join(writer, rt.after(10s)).ok());
    ASSERT_TRUE(written.ok()) << written.name();
    EXPECT_TRUE(out == FrameBuffer(big.begin(), big.end()));
    EXPECT_GT(takes, 1) << "read in chunks";
    EXPECT_EQ(buffers.size(), 1u) << "the buffer moved while the frame arrived";

    std::byte claim[4 + 8] = {};
    put_u32_be(claim, 64u << 20);
    ASSERT_TRUE((*client)->write_all(claim, rt.after(10s)).ok());
    (*client)->close();
    size = read_frame_size(**served, 64u << 20, rt.after(10s));
    ASSERT_TRUE(size.ok());
    FrameBuffer lie;
    EXPECT_EQ(read_frame_body(**served, *size, lie, [&rt] { return rt.after(10s); }, nullptr).code(), Errc::end_of_file);
    EXPECT_EQ(lie.size(), 8u);
    EXPECT_LE(lie.capacity(), kFrameReserveBytesMax);
  });
}

// Total budget smaller than two frames: two clients each send a frame larger than half of it, in
// interleaved pieces. Neither may deadlock the other: both get answers (one may wait for the
// other's budget), and all budget is returned.
TEST_P(Framing, TotalBudgetNeverDeadlocksReaders) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    FrameServerLimits limits;
    limits.frame_bytes_max = 1 << 20;
    limits.queued_bytes_total_max = 3 * kFrameChunkBytes;
    limits.stall_timeout = 3s;
    Server server(rt, limits);
    const std::vector<std::byte> big(2 * kFrameChunkBytes + 100, std::byte{'x'});
    int answered = 0;
    std::vector<FiberId> clients;
    for (int k = 0; k < 2; ++k) {
      clients.push_back(rt.spawn("client", [&] {
        auto s = rt.connect(server.frames.local_address(), rt.after(10s));
        ASSERT_TRUE(s.ok());
        if (write_frame(**s, big, rt.after(20s)).ok() && read_frame(**s, 1 << 20, rt.after(20s)).ok()) ++answered;
      }));
    }
    for (FiberId f : clients) ASSERT_TRUE(rt.join(f, rt.after(60s)).ok());
    EXPECT_GE(answered, 1);
    EXPECT_EQ(server.frames.queued_bytes_total(), 0u);
    server.frames.stop();
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, Framing, ::testing::Values(Backend::real, Backend::sim),
                         [](const auto& p) { return std::string(backend_name(p.param)); });

}  // namespace
}  // namespace samsa::test
