// Many clients flood a live broker in the simulator with every kind of object a client can make
// it hold: topics and partitions (past the descriptor budget), groups and members (past their
// limits), ids asked with MEMBER_ID_REQUIRED and never used, connections (past max.connections),
// long-polling fetches, and frames that claim far more than they send. The simulated disk has a
// descriptor limit, as Linux has. The property: every request gets a Kafka answer or its
// connection is closed (none hangs), the broker stays up, a witness that arrives afterwards is
// served, the broker never holds more than its limits, and the heap stays bounded.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include <fmt/format.h>

#include "broker/broker.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "net/framing.h"
#include "protocol/group_messages.h"
#include "sim/world/simulator.h"

// Live heap bytes (allocations less frees) and their peak while `g_track` is on. Not in the
// sanitizer build, whose own allocator must stay in place.
namespace {
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};
}  // namespace

#if !defined(SAMSA_SANITIZE)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  const int64_t live = g_live += static_cast<int64_t>(malloc_usable_size(p));
  if (live > g_peak.load(std::memory_order_relaxed)) g_peak = live;
  return p;
}
void operator delete(void* p) noexcept {
  if (p != nullptr) g_live -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }
#endif

namespace samsa::sim {
namespace {

using namespace samsa::kafka;

constexpr uint64_t kDescriptors = 400;        // the broker node's RLIMIT_NOFILE
constexpr int32_t kConnectionsMax = 60;
constexpr int32_t kConnectionsPerClientMax = 6;  // max.connections.per.ip: one client cannot take them all
constexpr int32_t kGroupsMax = 12;
constexpr int32_t kGroupSizeMax = 6;
constexpr int64_t kHeapGrowthBoundBytes = 192LL << 20;

enum class Flood : int { topics, partitions, groups, members, pending_ids, connections, long_polls, lying_frames };

struct Client {
  Flood kind;
  int count;  // how many objects it tries to make
};

void showValue(const Client& c, std::ostream& os) { os << "kind=" << static_cast<int>(c.kind) << " count=" << c.count; }

}  // namespace
}  // namespace samsa::sim

namespace rc {
template <>
struct Arbitrary<samsa::sim::Client> {
  static Gen<samsa::sim::Client> arbitrary() {
    return gen::build<samsa::sim::Client>(
        gen::set(&samsa::sim::Client::kind, gen::cast<samsa::sim::Flood>(gen::inRange(0, 8))),
        gen::set(&samsa::sim::Client::count, gen::inRange(1, 120)));
  }
};
}  // namespace rc

namespace samsa::sim {
namespace {

struct Tally {
  uint64_t answered = 0;  // requests that got a Kafka answer (success or error)
  uint64_t closed = 0;    // requests whose connection the broker closed
  uint64_t hung = 0;      // requests that got neither within their deadline
};

client::ClientConfig client_config(const std::string& id) {
  client::ClientConfig c{{Address{"broker", 9092}}, id};
  c.request_timeout = std::chrono::seconds(10);
  c.connect_timeout = std::chrono::seconds(10);
  return c;
}

void count(Tally& t, Status s) {
  const Errc e = s.code();
  if (e == Errc::ok) ++t.answered;
  else if (e == Errc::timed_out) ++t.hung;
  else ++t.closed;
}

// One group request on its own connection: JoinGroup (kind members: a new member each time;
// kind pending_ids: v4 without a member id, never coming back; kind groups: a new group each).
void join(Runtime& rt, Tally& t, const std::string& group, int16_t version) {
  Result<std::unique_ptr<client::Connection>> c =
      client::Connection::open(rt, Address{"broker", 9092}, "flood", rt.after(std::chrono::seconds(10)));
  if (!c.ok()) return count(t, c.status());
  JoinGroupRequest req;
  req.group_id = group;
  req.session_timeout_ms = 60000;
  req.rebalance_timeout_ms = 1000;
  req.protocol_type = "consumer";
  req.protocols = {{.name = "range", .metadata = {}}};
  count(t, (*c)->call<JoinGroupRequest, JoinGroupResponse>(ApiKey::join_group, version, req, rt.after(std::chrono::seconds(20))).status());
}

void flood(Runtime& rt, const Client& job, int index, Tally& t, std::vector<std::unique_ptr<Socket>>& held) {
  client::Cluster cluster(rt, client_config(fmt::format("flood-{}", index)));
  client::Admin admin(cluster);
  for (int i = 0; i < job.count; ++i) {
    switch (job.kind) {
      case Flood::topics: count(t, admin.create_topic(fmt::format("t{}-{}", index, i), 1, 1, {}).status()); break;
      case Flood::partitions: count(t, admin.create_topic(fmt::format("p{}-{}", index, i), 40, 1, {}).status()); break;
      case Flood::groups: join(rt, t, fmt::format("g{}-{}", index, i), 3); break;
      case Flood::members: join(rt, t, fmt::format("shared-{}", index % 2), 3); break;
      case Flood::pending_ids: join(rt, t, "pending", 5); break;
      case Flood::connections:
      case Flood::lying_frames: {
        Result<std::unique_ptr<Socket>> s = rt.connect(Address{"broker", 9092}, rt.after(std::chrono::seconds(10)));
        if (!s.ok()) break;
        if (job.kind == Flood::lying_frames) {
          std::byte claim[4 + 16] = {};
          put_u32_be(claim, 90u << 20);  // claims 90 MB, sends 16 bytes
          (void)(*s)->write_all(claim, rt.after(std::chrono::seconds(5)));
        }
        held.push_back(std::move(*s));
        break;
      }
      case Flood::long_polls: {
        client::ConsumerConfig cc;
        cc.fetch_max_wait_ms = 30000;
        client::Consumer consumer(cluster, cc);
        consumer.assign({{"witness", 0}});
        consumer.seek({"witness", 0}, 1'000'000);  // past the end: waits, or is told out of range
        count(t, consumer.poll(std::chrono::milliseconds(100)).status());
        break;
      }
    }
  }
}

RC_GTEST_PROP(Flood, BrokerStaysUpAnswersAndHoldsNoMoreThanItsLimits, (uint64_t seed, const std::vector<Client>& jobs)) {
  RC_PRE(!jobs.empty() && jobs.size() <= 8);
  Simulator sim(SimOptions{seed, LogLevel::off, false, {}});
  broker::BrokerConfig config;
  config.listener = Address{"broker", 9092};
  config.log_dir = "data";
  config.max_connections = kConnectionsMax;
  config.max_connections_per_ip = kConnectionsPerClientMax;
  config.group_max_count = kGroupsMax;
  config.group_max_size = kGroupSizeMax;
  config.group_initial_rebalance_delay_ms = 0;
  config.queued_max_request_bytes = 1 << 20;
  broker::Broker* live = nullptr;
  const NodeId b = sim.add_node("broker", [&](Runtime& rt) {
    broker::Broker broker(rt, config);
    RC_ASSERT(broker.start().ok());
    live = &broker;
    (void)rt.sleep_until(Deadline::never());
  });
  sim.node(b).open_fds_max = kDescriptors;
  sim.start(b);
  while (live == nullptr && sim.step()) {
  }
  RC_ASSERT(live != nullptr);
  const int64_t heap_before = g_live.load();
  g_peak = heap_before;
  Tally tally;
  std::vector<std::unique_ptr<Socket>> held;  // connections the flood keeps open (all nodes die with the sim)
  int finished = 0;
  for (size_t k = 0; k < jobs.size(); ++k) {
    sim.start(sim.add_node(fmt::format("client{}", k), [&, k](Runtime& rt) {
      if (k == 0) {
        client::Cluster setup(rt, client_config("setup"));
        (void)client::Admin(setup).create_topic("witness", 1, 1, {});
      }
      flood(rt, jobs[k], static_cast<int>(k), tally, held);
      ++finished;
      (void)rt.sleep_until(Deadline::never());  // keep what it opened
    }));
  }
  const Instant give_up = sim.now() + std::chrono::minutes(10);
  while (finished < static_cast<int>(jobs.size()) && sim.now() < give_up && sim.step()) {
  }
  RC_ASSERT(finished == static_cast<int>(jobs.size()));
  // A witness arriving now is served: metadata, a produce and a fetch on its own topic.
  bool served = false;
  sim.start(sim.add_node("witness", [&](Runtime& rt) {
    client::Cluster cluster(rt, client_config("witness"));
    client::Producer producer(cluster, client::ProducerConfig{});
    if (!producer.send("witness", 0, std::nullopt, as_bytes("w")).ok()) return;
    Result<std::vector<client::DeliveryReport>> r = producer.flush();
    served = r.ok() && r->size() == 1 && r->front().error == Error::none;
  }));
  const Instant witness_by = sim.now() + std::chrono::seconds(60);
  while (!served && sim.now() < witness_by && sim.step()) {
  }
  if (std::getenv("FLOOD_DEBUG")) fmt::print(stderr, "jobs {} answered {} closed {} hung {} growth {} partitions {}/{} conns {} fds {}\n", jobs.size(), tally.answered, tally.closed, tally.hung, g_peak.load() - heap_before, live->topics().partition_count(), live->topics().partitions_max(), live->server().connection_count(), sim.node(b).open_fds);
  RC_LOG() << "answered " << tally.answered << " closed " << tally.closed << " hung " << tally.hung << " heap growth "
           << (g_peak.load() - heap_before) << "\n";
  RC_ASSERT(sim.up(b) && !sim.node(b).main_finished);
  RC_ASSERT(tally.hung == 0u);
  RC_ASSERT(served);
  RC_ASSERT(live->topics().partition_count() <= live->topics().partitions_max());
  RC_ASSERT(live->server().connection_count() <= static_cast<size_t>(kConnectionsMax));
  RC_ASSERT(sim.node(b).open_fds <= kDescriptors);
#if !defined(SAMSA_SANITIZE)
  RC_ASSERT(g_peak.load() - heap_before <= kHeapGrowthBoundBytes);
#endif
}

}  // namespace
}  // namespace samsa::sim
