// samsa-loadgen --mode fetch: consume of caught-up data with Kafka Fetch requests, and the two
// baselines it is read against in the same run:
//   (server)    --port P: --conns connections, connection i fetching partition i % --partitions of
//               --topic from --start-offset, one Fetch (v11) in flight each (as a Kafka consumer
//               has toward one broker), --max-bytes per response and per partition; each
//               response's record batches are walked by their headers only (baseOffset,
//               batchLength, lastOffsetDelta, recordCount; no record is decoded) to count their
//               bytes and find the next offset. A connection stops at its partition's high
//               watermark, or with --passes N starts again from --start-offset until it reached
//               it N times (the data stays in the page cache: the same caught-up read, for
//               longer); the run stops after --seconds or when every connection is done (stopped=).
//   --null-sink a server thread per connection in this process answering every Fetch at once
//               with one pre-built response of the size the broker's would have (whole batches
//               of --batch records of --size bytes up to --max-bytes): the generator's own ceiling.
//   --loopback  a server thread per connection streaming that same response over loopback TCP as
//               fast as it can, unasked, read by the same read loop: the loopback TCP figure.
// Prints one line of key=value: MB/s of record batches, records/s, fetch latency percentiles,
// this process's CPU seconds and, with --server-pid, the server's CPU seconds per GB consumed.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loadgen.h"
#include "protocol/messages.h"
#include "util/endian.h"

namespace loadgen {
namespace {

using namespace samsa;

constexpr int16_t kFetchVersion = 11;  // the last before the flexible versions: a fixed layout
constexpr uint32_t kFrameBytesMax = 1U << 30;
constexpr size_t kBatchHeaderBytes = 61;  // RecordBatch v2, up to the first record

const std::byte* bytes(const char* p) { return reinterpret_cast<const std::byte*>(p); }

// One size-prefixed frame at a time, read whole (MSG_WAITALL) into a buffer that grows as
// needed and is never zero-filled.
class Frame {
 public:
  bool read(int fd) {
    char head[4];
    if (!recv_all(fd, head, sizeof head)) return false;
    size_ = get_u32_be(bytes(head));
    if (size_ < 8 || size_ > kFrameBytesMax) die("bad frame length " + std::to_string(size_));
    if (size_ > capacity_) {
      buf_ = std::make_unique_for_overwrite<char[]>(size_);
      capacity_ = size_;
    }
    return recv_all(fd, buf_.get(), size_);
  }
  const char* data() const { return buf_.get(); }
  size_t size() const { return size_; }

 private:
  static bool recv_all(int fd, char* p, size_t n) {
    while (n > 0) {
      const ssize_t r = ::recv(fd, p, n, MSG_WAITALL);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  std::unique_ptr<char[]> buf_;
  size_t size_ = 0, capacity_ = 0;
};

// Bounds-checked big-endian reads off a response.
struct Cursor {
  const char* p;
  const char* end;
  bool ok = true;
  const char* take(size_t n) {
    if (!ok || static_cast<size_t>(end - p) < n) {
      ok = false;
      return nullptr;
    }
    const char* at = p;
    p += n;
    return at;
  }
  int16_t i16() { const char* at = take(2); return at ? get_i16_be(bytes(at)) : 0; }
  int32_t i32() { const char* at = take(4); return at ? get_i32_be(bytes(at)) : 0; }
  int64_t i64() { const char* at = take(8); return at ? get_i64_be(bytes(at)) : 0; }
};

struct Fetched {
  int16_t error = 0;
  int64_t high_watermark = -1;
  int64_t next_offset = -1;  // after the last whole batch; -1 when there was none
  uint64_t bytes = 0;  // of whole record batches
  uint64_t records = 0;
};

// The record batches of one partition: whole batches are counted, a partial one at the end (a
// broker may cut the last batch at max_bytes) is left for the next fetch.
void walk_batches(const char* p, size_t n, Fetched& f) {
  size_t pos = 0;
  while (pos + kBatchHeaderBytes <= n) {
    const int64_t base_offset = get_i64_be(bytes(p + pos));
    const int32_t length = get_i32_be(bytes(p + pos + 8));
    if (length < static_cast<int32_t>(kBatchHeaderBytes - 12) || pos + 12 + static_cast<size_t>(length) > n) break;
    if (p[pos + 16] != 2) die("a record batch of magic " + std::to_string(p[pos + 16]) + " (expected 2)");
    f.next_offset = base_offset + get_i32_be(bytes(p + pos + 23)) + 1;  // lastOffsetDelta
    f.records += static_cast<uint32_t>(get_i32_be(bytes(p + pos + 57)));  // recordCount
    f.bytes += 12 + static_cast<size_t>(length);
    pos += 12 + static_cast<size_t>(length);
  }
}

// A Fetch v11 response body after its correlation id, read field by field from the protocol
// guide's layout; every partition's batches are walked.
Fetched parse_fetch(const char* p, size_t n) {
  Cursor c{p, p + n};
  Fetched f;
  c.i32();  // throttle_time_ms
  f.error = c.i16();
  c.i32();  // session_id
  for (int32_t topics = c.i32(); c.ok && topics > 0; --topics) {
    c.take(static_cast<size_t>(std::max<int16_t>(c.i16(), 0)));  // name
    for (int32_t parts = c.i32(); c.ok && parts > 0; --parts) {
      c.i32();  // partition_index
      const int16_t error = c.i16();
      if (f.error == 0) f.error = error;
      f.high_watermark = c.i64();
      c.i64();  // last_stable_offset
      c.i64();  // log_start_offset
      const int32_t aborted = c.i32();
      c.take(aborted > 0 ? 16 * static_cast<size_t>(aborted) : 0);  // producer_id, first_offset
      c.i32();  // preferred_read_replica
      const int32_t length = c.i32();
      const char* records = c.take(length > 0 ? static_cast<size_t>(length) : 0);
      if (records != nullptr && length > 0) walk_batches(records, static_cast<size_t>(length), f);
    }
  }
  if (!c.ok) die("a malformed Fetch response");
  return f;
}

std::vector<char> fetch_request(const Args& a, int partition, int64_t offset, int32_t correlation) {
  kafka::FetchRequest req;
  req.max_wait_ms = 500;
  req.min_bytes = 1;
  req.max_bytes = a.max_bytes;
  req.topics.push_back({.topic = a.topic, .partitions = {{.partition = partition, .fetch_offset = offset, .partition_max_bytes = a.max_bytes}}});
  std::vector<char> frame = request_frame(1, kFetchVersion, kafka::encode(req, kFetchVersion));
  set_correlation(frame, correlation);
  return frame;
}

// The sinks' answer: as many whole batches as the broker would put in --max-bytes (at least
// one), their offsets consecutive, under a high watermark no fetch reaches. Correlation id 0.
std::vector<char> prebuilt_response(const Args& a) {
  const std::vector<std::byte> one = record_batch(a);
  const size_t count = std::max<size_t>(1, static_cast<size_t>(a.max_bytes) / one.size());
  kafka::FetchResponse::Partition part;
  part.high_watermark = part.last_stable_offset = std::numeric_limits<int64_t>::max();
  part.log_start_offset = 0;
  part.aborted_transactions.emplace();
  for (size_t i = 0; i < count; ++i) {
    part.records.bytes.insert(part.records.bytes.end(), one.begin(), one.end());
    put_u64_be(part.records.bytes.data() + i * one.size(), i * static_cast<uint64_t>(a.batch));  // baseOffset
  }
  kafka::FetchResponse resp;
  resp.responses.push_back({.topic = a.topic, .partitions = {std::move(part)}});
  const std::vector<std::byte> body = kafka::encode(resp, kFetchVersion);
  std::vector<char> frame(8 + body.size());
  put_u32_be(reinterpret_cast<std::byte*>(frame.data()), static_cast<uint32_t>(4 + body.size()));
  std::memcpy(frame.data() + 8, body.data(), body.size());
  return frame;
}

int start_null_fetch_sink(const Args& a) {
  return serve_loopback([frame = prebuilt_response(a)](int fd) {
    std::vector<char> out = frame;
    Frame req;
    while (req.read(fd)) {
      std::memcpy(out.data() + 4, req.data() + 4, 4);  // the request's correlation id
      if (!write_all(fd, out.data(), out.size())) break;
    }
    ::close(fd);
  });
}

int start_loopback_stream(const Args& a) {
  return serve_loopback([frame = prebuilt_response(a)](int fd) {
    while (write_all(fd, frame.data(), frame.size())) {
    }
    ::close(fd);
  });
}

struct Consumer {
  int fd = -1;
  uint64_t fetches = 0, empty = 0, bytes = 0, records = 0;
  int passes = 0;  // times the partition's high watermark was reached
  std::vector<int64_t> latency_us;
};

void consume(const Args& a, Consumer& c, int index, const std::atomic<bool>& stop) {
  const int partition = index % a.partitions;
  int64_t offset = a.start_offset;
  Frame frame;
  for (int32_t correlation = 0; !stop; ++correlation) {
    const auto sent = Clock::now();
    if (!a.loopback) {
      const std::vector<char> req = fetch_request(a, partition, offset, correlation);
      if (!write_all(c.fd, req.data(), req.size())) die("write failed (server closed the connection)");
    }
    if (!frame.read(c.fd)) die("the server closed the connection");
    if (!a.loopback && get_i32_be(bytes(frame.data())) != correlation) die("a response out of order");
    const Fetched f = parse_fetch(frame.data() + 4, frame.size() - 4);
    c.latency_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count());
    if (f.error != 0) die("Fetch error " + std::to_string(f.error) + " on partition " + std::to_string(partition));
    ++c.fetches;
    c.bytes += f.bytes;
    c.records += f.records;
    if (f.next_offset >= 0) {
      offset = f.next_offset;
    } else {
      ++c.empty;
    }
    if (offset >= f.high_watermark) {
      if (++c.passes >= a.passes) return;
      offset = a.start_offset;
    }
  }
}

}  // namespace

int run_fetch(const Args& a) {
  const int port = a.loopback ? start_loopback_stream(a) : a.null_sink ? start_null_fetch_sink(a) : a.port;
  const std::string host = a.loopback || a.null_sink ? "127.0.0.1" : a.host;
  std::vector<Consumer> consumers(static_cast<size_t>(a.conns));
  for (Consumer& c : consumers) c.fd = dial(host, port);
  std::atomic<bool> stop{false};
  std::atomic<int> done{0};
  const double server_cpu0 = cpu_seconds_of(a.server_pids);
  const double own_cpu0 = own_cpu_seconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < a.conns; ++i) {
    threads.emplace_back([&, i] {
      consume(a, consumers[static_cast<size_t>(i)], i, stop);
      ++done;
    });
  }
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  while (Clock::now() < end && done < a.conns) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stop = true;
  for (std::thread& t : threads) t.join();  // each after the fetch it has in flight
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu = a.server_pids.empty() ? -1 : cpu_seconds_of(a.server_pids) - server_cpu0;
  const double own_cpu = own_cpu_seconds() - own_cpu0;
  uint64_t fetches = 0, empty = 0, total = 0, records = 0;
  int at_end = 0, passes = a.passes;
  std::vector<int64_t> lat;
  for (Consumer& c : consumers) {
    fetches += c.fetches;
    empty += c.empty;
    total += c.bytes;
    records += c.records;
    at_end += c.passes >= a.passes ? 1 : 0;
    passes = std::min(passes, c.passes);
    lat.insert(lat.end(), c.latency_us.begin(), c.latency_us.end());
  }
  const double gb = static_cast<double>(total) / 1e9;
  const std::string target = a.loopback ? "loopback" : a.null_sink ? "null-sink" : a.host + ":" + std::to_string(a.port);
  std::printf("mode=fetch proto=kafka target=%s conns=%d max_bytes=%d seconds=%.2f stopped=%s at_end=%d passes=%d fetches=%llu "
              "empty_fetches=%llu records=%llu bytes=%llu records_per_s=%.0f MBps=%.1f p50_us=%lld p99_us=%lld "
              "loadgen_cpu_s=%.2f server_cpu_s=%.2f server_cpu_s_per_GB=%.2f\n",
              target.c_str(), a.conns, a.max_bytes, wall, at_end == a.conns ? "end" : "time", at_end, passes,
              static_cast<unsigned long long>(fetches), static_cast<unsigned long long>(empty),
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(total),
              static_cast<double>(records) / wall, static_cast<double>(total) / wall / 1e6,
              static_cast<long long>(percentile(lat, 0.5)), static_cast<long long>(percentile(lat, 0.99)), own_cpu,
              server_cpu, server_cpu >= 0 && gb > 0 ? server_cpu / gb : -1);
  std::fflush(stdout);
  std::_Exit(total > 0 ? 0 : 1);  // the sinks' detached threads still block in accept/send
}

}  // namespace loadgen
