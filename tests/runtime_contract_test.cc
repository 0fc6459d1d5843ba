// Contract tests of the runtime interface, written once and run against both backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "backend_harness.h"
#include "runtime/random.h"
#include "runtime/sync.h"

namespace samsa::test {
namespace {

class Contract : public ::testing::TestWithParam<Backend> {};

std::vector<std::byte> pattern(size_t n, uint64_t seed) {
  Prng prng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = std::byte(prng.next_u64() & 0xFF);
  return out;
}

std::vector<std::byte> read_until_eof(Runtime& rt, Socket& s) {
  std::vector<std::byte> got;
  std::byte buf[4096];
  for (;;) {
    Result<size_t> n = s.read_some(buf, rt.after(10s));
    if (!n.ok()) {
      EXPECT_EQ(n.error(), Errc::end_of_file);
      return got;
    }
    got.insert(got.end(), buf, buf + *n);
  }
}

TEST_P(Contract, TimersFireInDeadlineOrder) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    std::vector<int> woke;
    std::vector<FiberId> fibers;
    const int order[] = {7, 2, 9, 0, 5, 3, 8, 1, 6, 4};  // spawn order differs from deadline order
    for (int i : order) {
      fibers.push_back(rt.spawn("t", [&rt, &woke, i] {
        ASSERT_TRUE(rt.sleep(std::chrono::milliseconds(5 + 7 * i)).ok());
        woke.push_back(i);
      }));
    }
    for (FiberId f : fibers) ASSERT_TRUE(rt.join(f, rt.after(10s)).ok());
    std::vector<int> expected(10);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(woke, expected);
  });
}

TEST_P(Contract, SleepAdvancesTheClock) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    const Instant t0 = rt.now();
    ASSERT_TRUE(rt.sleep(25ms).ok());
    EXPECT_GE(rt.now() - t0, 25ms);
    const Instant t1 = rt.now();
    ASSERT_TRUE(rt.sleep_until(Deadline{t1}).ok());  // a past deadline returns at once
    EXPECT_GE(rt.now(), t1);
  });
}

TEST_P(Contract, EchoRoundTrip) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    Result<std::unique_ptr<Listener>> l = rt.listen(Address{"127.0.0.1", 0});
    ASSERT_TRUE(l.ok()) << errc_name(l.error());
    Listener& listener = **l;
    ASSERT_NE(listener.local_address().port, 0);
    FiberId server = rt.spawn("echo", [&] {
      Result<std::unique_ptr<Socket>> s = listener.accept(rt.after(10s));
      ASSERT_TRUE(s.ok());
      std::byte buf[1000];
      for (;;) {
        Result<size_t> n = (*s)->read_some(buf, rt.after(10s));
        if (!n.ok()) break;
        ASSERT_TRUE((*s)->write_all(ConstBytes(buf, *n), rt.after(10s)).ok());
      }
    });
    Result<std::unique_ptr<Socket>> c = rt.connect(listener.local_address(), rt.after(10s));
    ASSERT_TRUE(c.ok()) << errc_name(c.error());
    const std::vector<std::byte> data = pattern(600'000, 7);  // larger than any socket buffer
    std::vector<std::byte> got(data.size());
    FiberId reader = rt.spawn("reader", [&] { ASSERT_TRUE(read_exact(**c, got, rt.after(30s)).ok()); });
    ASSERT_TRUE((*c)->write_all(data, rt.after(30s)).ok());
    ASSERT_TRUE(rt.join(reader, rt.after(30s)).ok());
    EXPECT_TRUE(got == data);
    (*c)->close();
    ASSERT_TRUE(rt.join(server, rt.after(10s)).ok());
  });
}

TEST_P(Contract, ReadTimesOutAtItsDeadline) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    auto l = rt.listen(Address{"127.0.0.1", 0});
    ASSERT_TRUE(l.ok());
    auto c = rt.connect((*l)->local_address(), rt.after(10s));
    ASSERT_TRUE(c.ok());
    auto s = (*l)->accept(rt.after(10s));
    ASSERT_TRUE(s.ok());
    std::byte buf[16];
    const Instant t0 = rt.now();
    Result<size_t> n = (*s)->read_some(buf, rt.after(40ms));
    EXPECT_EQ(n.error(), Errc::timed_out);
    EXPECT_GE(rt.now() - t0, 40ms);
  });
}

TEST_P(Contract, ConnectToClosedPortIsRefused) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    auto l = rt.listen(Address{"127.0.0.1", 0});
    ASSERT_TRUE(l.ok());
    const Address addr = (*l)->local_address();
    (*l)->close();
    l = Errc::closed;  // destroy it
    auto c = rt.connect(addr, rt.after(5s));
    EXPECT_EQ(c.error(), Errc::connection_refused);
  });
}

TEST_P(Contract, SendFileDeliversExactlyTheRequestedBytes) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    const std::vector<std::byte> content = pattern(300'000, 11);
    auto f = rt.open_file(dir + "/segment", OpenMode::create_new);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->pwrite(0, content).ok());
    auto l = rt.listen(Address{"127.0.0.1", 0});
    ASSERT_TRUE(l.ok());
    constexpr uint64_t kOffset = 12'345, kLength = 200'001;
    FiberId server = rt.spawn("sender", [&] {
      auto s = (*l)->accept(rt.after(10s));
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE(rt.send_file(**s, **f, kOffset, kLength, rt.after(30s)).ok());
      (*s)->close();
    });
    auto c = rt.connect((*l)->local_address(), rt.after(10s));
    ASSERT_TRUE(c.ok());
    std::vector<std::byte> got = read_until_eof(rt, **c);
    ASSERT_EQ(got.size(), kLength);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), content.begin() + kOffset));
    ASSERT_TRUE(rt.join(server, rt.after(10s)).ok());
  });
}

TEST_P(Contract, SyncedDataSurvivesACrash) {
  const std::vector<std::byte> synced = pattern(10'000, 3);
  run_with_crash(
      GetParam(),
      [&](Runtime& rt, const std::string& dir) {
        auto f = rt.open_file(dir + "/log", OpenMode::create_new);
        ASSERT_TRUE(f.ok());
        ASSERT_TRUE((*f)->pwrite(0, synced).ok());
        ASSERT_TRUE((*f)->sync().ok());
        ASSERT_TRUE(rt.sync_dir(dir).ok());
        ASSERT_TRUE((*f)->pwrite(synced.size(), pattern(5'000, 4)).ok());  // unsynced: may go
      },
      [&](Runtime& rt, const std::string& dir) {
        auto data = read_file(rt, dir + "/log", 1 << 20);
        ASSERT_TRUE(data.ok()) << errc_name(data.error());
        ASSERT_GE(data->size(), synced.size());
        EXPECT_TRUE(std::equal(synced.begin(), synced.end(), data->begin()));
      });
}

TEST_P(Contract, FileAndDirectoryOperations) {
  run_on(GetParam(), [](Runtime& rt, const std::string& dir) {
    EXPECT_EQ(rt.open_file(dir + "/missing", OpenMode::read_only).error(), Errc::not_found);
    ASSERT_TRUE(rt.create_dir(dir + "/sub").ok());
    EXPECT_EQ(rt.create_dir(dir + "/sub").code(), Errc::already_exists);
    for (const char* name : {"b", "a", "c"}) ASSERT_TRUE(rt.open_file(dir + "/sub/" + name, OpenMode::create).ok());
    EXPECT_EQ(rt.open_file(dir + "/sub/a", OpenMode::create_new).error(), Errc::already_exists);
    ASSERT_TRUE(rt.rename(dir + "/sub/c", dir + "/sub/d").ok());
    ASSERT_TRUE(rt.remove_file(dir + "/sub/b").ok());
    auto names = rt.list_dir(dir + "/sub");
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"a", "d"}));
    auto f = rt.open_file(dir + "/sub/a", OpenMode::read_write);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->pwrite(100, pattern(10, 1)).ok());
    EXPECT_EQ(*(*f)->size(), 110u);
    auto appended_at = (*f)->append(pattern(5, 2));
    ASSERT_TRUE(appended_at.ok());
    EXPECT_EQ(*appended_at, 110u);
    ASSERT_TRUE((*f)->truncate(50).ok());
    EXPECT_EQ(*(*f)->size(), 50u);
    std::vector<std::byte> buf(100);
    EXPECT_EQ(*(*f)->pread(40, buf), 10u);  // short read only at end of file
    ASSERT_TRUE(rt.sync_dir(dir + "/sub").ok());
  });
}

TEST_P(Contract, ChannelMutexEventAndCancellation) {
  run_on(GetParam(), [](Runtime& rt, const std::string&) {
    Channel<int> ch(rt, 4);
    std::vector<int> received;
    FiberId consumer = rt.spawn("consumer", [&] {
      for (;;) {
        Result<int> v = ch.receive(rt.after(10s));
        if (!v.ok()) {
          EXPECT_EQ(v.error(), Errc::closed);
          return;
        }
        received.push_back(*v);
      }
    });
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(ch.send(i, rt.after(10s)).ok());  // waits when full
    ch.close();
    ASSERT_TRUE(rt.join(consumer, rt.after(10s)).ok());
    ASSERT_EQ(received.size(), 100u);
    EXPECT_TRUE(std::is_sorted(received.begin(), received.end()));

    Mutex mu(rt);
    int inside = 0, max_inside = 0;
    std::vector<FiberId> workers;
    for (int w = 0; w < 5; ++w) {
      workers.push_back(rt.spawn("w", [&] {
        for (int i = 0; i < 10; ++i) {
          ASSERT_TRUE(mu.lock(rt.after(10s)).ok());
          LockGuard g(mu);
          max_inside = std::max(max_inside, ++inside);
          rt.yield();
          --inside;
        }
      }));
    }
    for (FiberId f : workers) ASSERT_TRUE(rt.join(f, rt.after(10s)).ok());
    EXPECT_EQ(max_inside, 1);

    Event ev(rt);
    EXPECT_EQ(ev.wait(rt.after(5ms)).code(), Errc::timed_out);
    Status sleeper_status;
    FiberId sleeper = rt.spawn("sleeper", [&] { sleeper_status = rt.sleep(std::chrono::hours(1)); });
    rt.yield();
    rt.cancel(sleeper);
    ASSERT_TRUE(rt.join(sleeper, rt.after(1s)).ok());
    EXPECT_EQ(sleeper_status.code(), Errc::cancelled);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, Contract, ::testing::Values(Backend::real, Backend::sim),
                         [](const auto& p) { return std::string(backend_name(p.param)); });

}  // namespace
}  // namespace samsa::test
