// Bad input against a live broker in the simulator. RapidCheck generates frames — random bytes,
// valid headers with random or unknown API keys and versions, valid requests of every API and
// version with bytes flipped, cut short or with huge array counts planted, truncated frames,
// oversize and negative sizes — and sends each on its own connection followed by an ApiVersions
// probe. The property: the connection is either closed cleanly or answers the probe (in order);
// it never hangs; the broker stays up and serves a fresh connection; and no single allocation
// during the run exceeds a bound proportional to the frame limit.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "broker/broker.h"
#include "net/framing.h"
#include "protocol/api_versions.h"
#include "sim/simulator.h"

// Largest single allocation while `g_track` is on: measured, not assumed. Not in the sanitizer
// build, whose own operator new must stay in place (there the property checks memory safety).
namespace {
std::atomic<size_t> g_largest_alloc{0};
std::atomic<bool> g_track{false};
}  // namespace

#if !defined(SAMSA_SANITIZE)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  if (g_track.load(std::memory_order_relaxed) && n > g_largest_alloc.load(std::memory_order_relaxed)) g_largest_alloc = n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace samsa::sim {
namespace {

using namespace samsa::kafka;

constexpr uint32_t kFrameLimit = 64 * 1024;
constexpr size_t kAllocationBoundBytes = 1024 * 1024;  // 16x the frame limit

struct FuzzFrame {
  int kind;           // 0 random, 1 header+random body, 2 mutated valid request, 3 truncated, 4 bad size
  int api;            // index into kSupportedApis, or an unknown key
  int version;
  std::vector<uint8_t> bytes;
  std::vector<std::pair<int, int>> mutations;  // (position, value); value 256: plant 0x7fffffff there
};

void showValue(const FuzzFrame& f, std::ostream& os) {
  os << "kind=" << f.kind << " api=" << f.api << " version=" << f.version << " bytes=" << f.bytes.size()
     << " mutations=" << f.mutations.size();
}

}  // namespace
}  // namespace samsa::sim

namespace rc {
template <>
struct Arbitrary<samsa::sim::FuzzFrame> {
  static Gen<samsa::sim::FuzzFrame> arbitrary() {
    using samsa::sim::FuzzFrame;
    return gen::build<FuzzFrame>(
        gen::set(&FuzzFrame::kind, gen::inRange(0, 5)), gen::set(&FuzzFrame::api, gen::inRange(0, 12)),
        gen::set(&FuzzFrame::version, gen::inRange(-2, 16)),
        gen::set(&FuzzFrame::bytes, gen::container<std::vector<uint8_t>>(gen::arbitrary<uint8_t>())),
        gen::set(&FuzzFrame::mutations,
                 gen::container<std::vector<std::pair<int, int>>>(gen::pair(gen::inRange(0, 400), gen::inRange(0, 257)))));
  }
};
}  // namespace rc

namespace samsa::sim {
namespace {

// A valid request body of each supported API, to mutate.
std::vector<std::byte> sample_body(ApiKey key, int16_t v) {
  switch (key) {
    case ApiKey::metadata: {
      MetadataRequest r;
      r.topics = std::vector<MetadataRequest::Topic>{{.name = "fuzz"}, {.name = "other"}};
      return encode(r, v);
    }
    case ApiKey::produce: {
      ProduceRequest r;
      r.acks = 1;
      BatchBuilder b(1000);
      b.add(1000, as_bytes("k"), as_bytes("value"));
      r.topics.push_back({.name = "fuzz", .partitions = {{.index = 0, .records = RecordsField{.bytes = b.build()}}}});
      return encode(r, v);
    }
    case ApiKey::fetch: {
      FetchRequest r;
      r.max_wait_ms = 10;
      r.topics.push_back({.topic = "fuzz", .partitions = {{.partition = 0, .fetch_offset = 0, .partition_max_bytes = 1024}}});
      return encode(r, v);
    }
    case ApiKey::list_offsets: {
      ListOffsetsRequest r;
      r.topics.push_back({.name = "fuzz", .partitions = {{.partition_index = 0, .timestamp = ListOffsetsRequest::kEarliest}}});
      return encode(r, v);
    }
    case ApiKey::create_topics: {
      CreateTopicsRequest r;
      r.topics.push_back({.name = "made-by-fuzz", .num_partitions = 1, .replication_factor = 1, .configs = {{.name = "retention.ms", .value = "1000"}}});
      return encode(r, v);
    }
    case ApiKey::delete_topics: {
      DeleteTopicsRequest r;
      r.topic_names = {"nothing"};
      return encode(r, v);
    }
    case ApiKey::describe_configs: {
      DescribeConfigsRequest r;
      r.resources.push_back({.resource_type = DescribeConfigsRequest::kTopic, .resource_name = "fuzz"});
      return encode(r, v);
    }
    default: return {};
  }
}

std::vector<std::byte> header(int16_t key, int16_t version, int32_t correlation) {
  RequestHeader h{.api_key = key, .api_version = version, .correlation_id = correlation, .client_id = std::string("fuzz")};
  Writer w;
  h.serde(w, request_header_version(static_cast<ApiKey>(key), version));
  return w.take_bytes();
}

// `size` then `body`, written into a buffer sized once (appending to a 4-byte vector draws a g++ 12
// -O3 array-bounds false positive).
std::vector<std::byte> with_size_prefix(uint32_t size, const std::vector<std::byte>& body) {
  std::vector<std::byte> out(4 + body.size());
  put_u32_be(out.data(), size);
  std::copy(body.begin(), body.end(), out.begin() + 4);
  return out;
}

// The bytes to send (size prefix included) for one generated case.
std::vector<std::byte> build(const FuzzFrame& f) {
  std::vector<std::byte> payload;
  for (uint8_t b : f.bytes) payload.push_back(std::byte{b});
  const int n_apis = static_cast<int>(std::size(kSupportedApis));
  const int16_t key = f.api < n_apis ? static_cast<int16_t>(kSupportedApis[f.api].key) : static_cast<int16_t>(40 + f.api);
  if (f.kind == 1) {
    std::vector<std::byte> h = header(key, static_cast<int16_t>(f.version), 1);
    payload.insert(payload.begin(), h.begin(), h.end());
  } else if (f.kind == 2 || f.kind == 3) {
    const ApiRange& r = kSupportedApis[static_cast<size_t>(f.api % n_apis)];
    const int16_t v = static_cast<int16_t>(r.min_version + std::abs(f.version) % (r.max_version - r.min_version + 1));
    payload = header(static_cast<int16_t>(r.key), v, 1);
    std::vector<std::byte> body = sample_body(r.key, v);
    payload.insert(payload.end(), body.begin(), body.end());
    for (auto [pos, value] : f.mutations) {
      const size_t at = static_cast<size_t>(pos) % (payload.size() + 1);
      if (value == 256 && at + 4 <= payload.size()) put_u32_be(&payload[at], 0x7fffffffu);
      else if (at < payload.size()) payload[at] = std::byte(value);
    }
  }
  uint32_t size = static_cast<uint32_t>(payload.size());
  if (f.kind == 3) size += 1 + static_cast<uint32_t>(f.bytes.size());  // promise more than is sent
  if (f.kind == 4) size = f.version % 2 == 0 ? 0x80000000u + static_cast<uint32_t>(f.bytes.size()) : kFrameLimit + 1;
  return with_size_prefix(size, payload);
}

std::vector<std::byte> probe(int32_t correlation) {
  std::vector<std::byte> h = header(static_cast<int16_t>(ApiKey::api_versions), 0, correlation);
  return with_size_prefix(static_cast<uint32_t>(h.size()), h);
}

enum class Outcome { closed, probe_answered, hung, wrong_order };

Outcome exchange(Runtime& rt, const std::vector<std::byte>& frame, bool truncated) {
  auto s = rt.connect(Address{"broker", 9092}, rt.after(5s));
  if (!s.ok()) return Outcome::hung;
  if (!(*s)->write_all(frame, rt.after(5s)).ok()) return Outcome::closed;
  if (truncated) {
    (*s)->close();  // the frame ends early: the broker must notice EOF and let go
    return Outcome::closed;
  }
  constexpr int32_t kProbe = 0x5AFE;
  if (!(*s)->write_all(probe(kProbe), rt.after(5s)).ok()) return Outcome::closed;
  for (int replies = 0; replies < 3; ++replies) {
    Result<std::vector<std::byte>> r = read_frame(**s, 16 << 20, rt.after(10s));
    if (!r.ok()) return r.error() == Errc::timed_out ? Outcome::hung : Outcome::closed;
    if (r->size() >= 4 && get_i32_be(r->data()) == kProbe) return Outcome::probe_answered;
  }
  return Outcome::wrong_order;
}

RC_GTEST_PROP(ProtocolFuzz, BrokerAnswersOrClosesAndNeverHangsOrCrashes, (uint64_t seed, const std::vector<FuzzFrame>& frames)) {
  Simulator sim(SimOptions{seed, LogLevel::error, false});
  broker::BrokerConfig config;
  config.listener = Address{"broker", 9092};
  config.log_dir = "data";
  config.socket_request_max_bytes = kFrameLimit;
  bool up = false;
  NodeId b = sim.add_node("broker", [&](Runtime& rt) {
    broker::Broker broker(rt, config);
    RC_ASSERT(broker.start().ok());
    up = true;
    (void)rt.sleep_until(Deadline::never());
  });
  std::string failure;
  bool done = false;
  NodeId c = sim.add_node("client", [&](Runtime& rt) {
    for (const FuzzFrame& f : frames) {
      const Outcome o = exchange(rt, build(f), f.kind == 3);
      if (o == Outcome::hung || o == Outcome::wrong_order) {
        failure = (o == Outcome::hung ? "connection hung on " : "replies out of order on ") + std::string("kind ") + std::to_string(f.kind);
        break;
      }
    }
    // The broker still serves a fresh connection.
    if (failure.empty() && exchange(rt, probe(1), false) != Outcome::probe_answered) failure = "broker stopped answering";
    done = true;
  });
  sim.start(b);
  while (!up && sim.step()) {
  }
  g_largest_alloc = 0;
  g_track = true;
  sim.start(c);
  while (!done && sim.step()) {
  }
  g_track = false;
  RC_LOG() << failure << " largest allocation " << g_largest_alloc.load() << "\n";
  RC_ASSERT(done);
  RC_ASSERT(failure.empty());
  RC_ASSERT(sim.up(b));
  RC_ASSERT(g_largest_alloc.load() <= kAllocationBoundBytes);
}

}  // namespace
}  // namespace samsa::sim
