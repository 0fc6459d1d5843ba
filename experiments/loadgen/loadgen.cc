// samsa-loadgen: a load generator for produce throughput and latency that is cheap enough not to
// be the bottleneck, speaking three protocols with pre-built requests:
//   kafka  Produce v7 requests, each one pre-built RecordBatch of --batch records of --size bytes
//          (the bytes a client library would build once, not per send)
//   redis  XADD pipelines (--batch XADDs per write), RESP
//   nats   JetStream publishes (one message each, --batch per write), each with its own reply
//          subject for the stream's ack
// and a null sink for Kafka (--null-sink: a server thread in this process that answers every
// Produce at once with a pre-encoded response): the generator's own ceiling, measured in the same
// run as the servers it is compared with. --mode fetch consumes instead (fetch.cc: Kafka Fetch,
// with a null fetch sink and a loopback TCP stream as its baselines).
//
//   samsa-loadgen [--mode produce|fetch] --proto kafka|redis|nats [--host H] [--port P]
//                 [--null-sink] [--loopback] [--conns N] [--window W] [--batch B] [--size S]
//                 [--seconds T] [--rate RPS] [--total-mb MB] [--acks 1|-1] [--topic T]
//                 [--partitions N] [--max-bytes B] [--start-offset O] [--passes N]
//                 [--server-pid PID[,PID...]]
//
// Each connection has a writer thread (sends while fewer than --window requests are unanswered,
// paced to --rate records/s over all connections if given) and a reader thread (matches answers
// to requests in order and records each request's latency). It prints one line of key=value:
// records/s, MB/s of record payload, latency percentiles (us), this process's CPU seconds, and,
// with --server-pid, the server's CPU seconds (utime+stime from /proc/PID/stat, summed over the
// pids given: the brokers of a cluster) over the run and per GB of payload. --total-mb ends the
// run early once that many MB of records were sent (to fill a topic for --mode fetch).
//
// Threads, sockets and clocks are fine here: experiments/ is outside src/'s rules.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen.h"
#include "log/record_batch.h"
#include "protocol/messages.h"
#include "util/endian.h"

namespace loadgen {

using namespace samsa;

void die(const std::string& what) {
  std::fprintf(stderr, "samsa-loadgen: %s\n", what.c_str());
  std::exit(2);
}

int dial(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) die("bad --host (an IPv4 address)");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::send(fd, c, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int serve_loopback(std::function<void(int)> serve) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener, 64) != 0) die("loopback server: bind");
  socklen_t len = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread([listener, serve = std::move(serve)] {
    for (;;) {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      std::thread(serve, fd).detach();
    }
  }).detach();
  return ntohs(a.sin_port);
}

std::vector<char> request_frame(int16_t api_key, int16_t version, const std::vector<std::byte>& body) {
  kafka::RequestHeader h{.api_key = api_key, .api_version = version, .correlation_id = 0, .client_id = "samsa-loadgen"};
  kafka::Writer w;
  h.serde(w, kafka::request_header_version(static_cast<kafka::ApiKey>(api_key), version));
  std::vector<std::byte> head = w.take_bytes();
  std::vector<char> frame(4 + head.size() + body.size());
  put_u32_be(reinterpret_cast<std::byte*>(frame.data()), static_cast<uint32_t>(head.size() + body.size()));
  std::memcpy(frame.data() + 4, head.data(), head.size());
  std::memcpy(frame.data() + 4 + head.size(), body.data(), body.size());
  return frame;
}

void set_correlation(std::vector<char>& frame, int32_t id) { put_u32_be(reinterpret_cast<std::byte*>(frame.data() + 8), static_cast<uint32_t>(id)); }

std::vector<std::byte> record_batch(const Args& a) {
  BatchBuilder b(1'767'225'600'000);
  std::string value(static_cast<size_t>(a.size), 'x');
  for (int i = 0; i < a.batch; ++i) {
    value[0] = static_cast<char>('a' + i % 26);
    b.add(1'767'225'600'000, std::nullopt, as_bytes(value));
  }
  return b.build();
}

double cpu_seconds_of(const std::vector<long>& pids) {
  if (pids.empty()) return -1;
  double total = 0;
  for (long pid : pids) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t close = s.rfind(')');
    if (close == std::string::npos) die("no /proc/" + std::to_string(pid) + "/stat (is --server-pid running?)");
    std::istringstream rest(s.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14 || i == 15) ticks += std::atof(field.c_str());  // utime, stime
    }
    total += ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return total;
}

double own_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int64_t percentile(std::vector<int64_t>& v, double q) {
  if (v.empty()) return -1;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace loadgen

namespace {

using namespace loadgen;
using namespace samsa;

constexpr size_t kFrameBytesMax = 64 << 20;  // a response larger than this is a protocol error

// Buffered reads off one socket.
class In {
 public:
  explicit In(int fd) : fd_(fd), buf_(1 << 20) {}
  bool fill() {
    if (begin_ > 0 && begin_ == end_) begin_ = end_ = 0;
    if (end_ == buf_.size()) {
      if (begin_ == 0) buf_.resize(buf_.size() * 2);
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    ssize_t r = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
    if (r <= 0) return false;
    end_ += static_cast<size_t>(r);
    return true;
  }
  bool need(size_t n) {
    while (end_ - begin_ < n) {
      if (begin_ + n > buf_.size()) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        if (n > buf_.size()) buf_.resize(n);
      }
      if (!fill()) return false;
    }
    return true;
  }
  // A line ending in \r\n (without it); false when the peer closed.
  bool line(std::string& out) {
    for (;;) {
      const char* s = buf_.data() + begin_;
      const void* nl = std::memchr(s, '\n', end_ - begin_);
      if (nl != nullptr) {
        const size_t len = static_cast<size_t>(static_cast<const char*>(nl) - s);
        out.assign(s, len > 0 && s[len - 1] == '\r' ? len - 1 : len);
        begin_ += len + 1;
        return true;
      }
      if (!need(end_ - begin_ + 1)) return false;
    }
  }
  const char* data() const { return buf_.data() + begin_; }
  void skip(size_t n) { begin_ += n; }

 private:
  int fd_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
};

// --- Kafka -------------------------------------------------------------------------------------

constexpr int16_t kProduceVersion = 7;  // RecordBatch v2, non-flexible (every client speaks it)

std::vector<char> kafka_frame(const Args& a, int conn) {
  kafka::ProduceRequest req;
  req.acks = static_cast<int16_t>(a.acks);
  req.timeout_ms = 30000;
  kafka::ProduceRequest::Topic t;
  t.name = a.topic;
  // Each connection writes its own partition, as several producers would.
  kafka::ProduceRequest::Partition p;
  p.index = conn % a.partitions;
  p.records.bytes = record_batch(a);
  t.partitions.push_back(std::move(p));
  req.topics.push_back(std::move(t));
  return request_frame(0, kProduceVersion, kafka::encode(req, kProduceVersion));
}

// One response: its correlation id, and whether every partition answered without error.
bool kafka_response(In& in, int32_t& correlation, bool& ok) {
  if (!in.need(4)) return false;
  const uint32_t n = get_u32_be(reinterpret_cast<const std::byte*>(in.data()));
  if (n < 4 || n > kFrameBytesMax) die("bad response frame length " + std::to_string(n));
  in.skip(4);
  if (!in.need(n)) return false;
  correlation = get_i32_be(reinterpret_cast<const std::byte*>(in.data()));
  Result<kafka::ProduceResponse> r = kafka::decode<kafka::ProduceResponse>(
      ConstBytes(reinterpret_cast<const std::byte*>(in.data()) + 4, n - 4), kProduceVersion);
  ok = r.ok();
  if (r.ok()) {
    for (const auto& t : r->responses) {
      for (const auto& p : t.partitions) ok = ok && p.error_code == 0;
    }
  }
  in.skip(n);
  return true;
}

// The null sink: answers every Produce at once, with no error, without looking at the records.
int start_null_sink() {
  return serve_loopback([](int fd) {
    In in(fd);
    std::vector<char> out;
    for (;;) {
      if (!in.need(12)) break;
      const uint32_t n = get_u32_be(reinterpret_cast<const std::byte*>(in.data()));
      const int32_t correlation = get_i32_be(reinterpret_cast<const std::byte*>(in.data() + 8));
      in.skip(4);
      if (!in.need(n)) break;
      in.skip(n);
      // Produce v7 response: one topic, one partition, no error (sizes of the fields below).
      kafka::ProduceResponse resp;
      kafka::ProduceResponse::Topic t;
      t.name = "bench";
      t.partitions.push_back({});
      resp.responses.push_back(std::move(t));
      std::vector<std::byte> body = kafka::encode(resp, kProduceVersion);
      out.resize(8 + body.size());
      put_u32_be(reinterpret_cast<std::byte*>(out.data()), static_cast<uint32_t>(4 + body.size()));
      put_u32_be(reinterpret_cast<std::byte*>(out.data() + 4), static_cast<uint32_t>(correlation));
      std::memcpy(out.data() + 8, body.data(), body.size());
      if (!write_all(fd, out.data(), out.size())) break;
    }
    ::close(fd);
  });
}

// --- Redis -------------------------------------------------------------------------------------

std::string redis_pipeline(const Args& a, int conn) {
  const std::string key = a.topic + "-" + std::to_string(conn % a.partitions);
  const std::string value(static_cast<size_t>(a.size), 'x');
  std::string one = "*5\r\n$4\r\nXADD\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n$1\r\n*\r\n$1\r\nv\r\n$" +
                    std::to_string(value.size()) + "\r\n" + value + "\r\n";
  std::string all;
  for (int i = 0; i < a.batch; ++i) all += one;
  return all;
}

// One reply of a pipeline: an id ($N + data) or an error (-...).
bool redis_reply(In& in, bool& ok) {
  std::string l;
  if (!in.line(l)) return false;
  if (l.empty()) die("redis: empty reply line");
  ok = l[0] == '$' || l[0] == '+';
  if (l[0] == '$') {
    const long n = std::atol(l.c_str() + 1);
    if (n >= 0) {
      if (!in.need(static_cast<size_t>(n) + 2)) return false;
      in.skip(static_cast<size_t>(n) + 2);
    }
  } else if (l[0] == '-') {
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) std::fprintf(stderr, "samsa-loadgen: redis error: %s\n", l.c_str());
  }
  return true;
}

// --- NATS --------------------------------------------------------------------------------------

// CONNECT, then a subscription for this connection's acks; the server's INFO line first.
void nats_handshake(int fd, In& in, int conn) {
  std::string l;
  if (!in.line(l) || l.rfind("INFO", 0) != 0) die("nats: no INFO from the server");
  const std::string hello = "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,\"name\":\"samsa-loadgen\"}\r\nSUB _ack." +
                            std::to_string(conn) + ".* 1\r\nPING\r\n";
  if (!write_all(fd, hello.data(), hello.size())) die("nats: write");
  while (in.line(l) && l != "PONG") {
    if (l.rfind("-ERR", 0) == 0) die("nats: " + l);
  }
}

// The stream the publishes land in (file storage, one replica), created before the run; a stream
// that exists already is fine (a repeated run).
void nats_create_stream(int fd, In& in, const Args& a) {
  const std::string config = "{\"name\":\"" + a.topic + "\",\"subjects\":[\"" + a.topic +
                             ".>\"],\"storage\":\"file\",\"retention\":\"limits\",\"num_replicas\":1}";
  const std::string req = "PUB $JS.API.STREAM.CREATE." + a.topic + " _ack.0.create " + std::to_string(config.size()) + "\r\n" +
                          config + "\r\n";
  if (!write_all(fd, req.data(), req.size())) die("nats: write");
  std::string l;
  while (in.line(l) && l.rfind("MSG ", 0) != 0) {
    if (l.rfind("-ERR", 0) == 0) die("nats: " + l);
  }
  const long n = std::atol(l.c_str() + l.rfind(' ') + 1);
  if (!in.need(static_cast<size_t>(n) + 2)) die("nats: no answer to the stream's creation");
  const std::string answer(in.data(), static_cast<size_t>(n));
  in.skip(static_cast<size_t>(n) + 2);
  if (answer.find("\"error\"") != std::string::npos && answer.find("already in use") == std::string::npos) {
    die("nats: creating the stream: " + answer + " (is nats-server running with -js?)");
  }
}

std::string nats_pipeline(const Args& a, int conn) {
  const std::string value(static_cast<size_t>(a.size), 'x');
  std::string all;
  for (int i = 0; i < a.batch; ++i) {
    all += "PUB " + a.topic + "." + std::to_string(conn % a.partitions) + " _ack." + std::to_string(conn) + ".x " +
           std::to_string(value.size()) + "\r\n" + value + "\r\n";
  }
  return all;
}

// One ack (MSG _ack.C.x 1 N + {"stream":...,"seq":...} or an error JSON); PINGs answered.
bool nats_reply(int fd, In& in, bool& ok) {
  std::string l;
  for (;;) {
    if (!in.line(l)) return false;
    if (l == "PING") {
      if (!write_all(fd, "PONG\r\n", 6)) return false;
      continue;
    }
    if (l.rfind("-ERR", 0) == 0) die("nats: " + l);
    if (l.rfind("MSG ", 0) == 0) break;
  }
  const long n = std::atol(l.c_str() + l.rfind(' ') + 1);
  if (!in.need(static_cast<size_t>(n) + 2)) return false;
  ok = std::string_view(in.data(), static_cast<size_t>(n)).find("\"error\"") == std::string_view::npos;
  if (!ok) {
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) std::fprintf(stderr, "samsa-loadgen: nats: %.*s\n", static_cast<int>(n), in.data());
  }
  in.skip(static_cast<size_t>(n) + 2);
  return true;
}

// --- the run -----------------------------------------------------------------------------------

struct Conn {
  int fd = -1;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Clock::time_point> sent;  // unanswered writes, oldest first
  uint64_t answered = 0, failed = 0;
  std::vector<int64_t> latency_us;
};

void reader(const Args& a, Conn& c, const std::atomic<bool>& stop) {
  In in(c.fd);
  for (;;) {
    bool ok = true;
    int32_t correlation = 0;
    // A Kafka answer covers one write; Redis and NATS answer each command of a write.
    bool got = true;
    if (a.proto == "kafka") {
      got = kafka_response(in, correlation, ok);
    } else {
      for (int i = 0; i < a.batch && got; ++i) {
        bool one = true;
        got = a.proto == "redis" ? redis_reply(in, one) : nats_reply(c.fd, in, one);
        ok = ok && one;
      }
    }
    if (!got) return;
    const auto now = Clock::now();
    std::lock_guard<std::mutex> g(c.mu);
    if (c.sent.empty()) die("an answer to nothing sent");
    c.latency_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent.front()).count());
    c.sent.pop_front();
    ++c.answered;
    c.failed += ok ? 0 : 1;
    c.cv.notify_all();
    if (stop && c.sent.empty()) return;
  }
}

// Sends until stop, or until this connection's share of --total-mb is sent.
void writer(const Args& a, Conn& c, int index, const std::atomic<bool>& stop, Clock::time_point start) {
  std::vector<char> kframe = a.proto == "kafka" ? kafka_frame(a, index) : std::vector<char>{};
  const std::string text = a.proto == "redis" ? redis_pipeline(a, index) : a.proto == "nats" ? nats_pipeline(a, index) : "";
  const double per_conn_rate = a.rate > 0 ? a.rate / a.conns / a.batch : 0;  // writes per second
  const double per_write_mb = static_cast<double>(a.batch) * a.size / 1e6;
  const uint64_t writes_max = a.total_mb > 0 ? static_cast<uint64_t>(std::ceil(a.total_mb / a.conns / per_write_mb)) : UINT64_MAX;
  int32_t correlation = 0;
  for (uint64_t n = 0; !stop && n < writes_max; ++n) {
    if (per_conn_rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(static_cast<double>(n) / per_conn_rate));
      std::this_thread::sleep_until(due);
    }
    {
      std::unique_lock<std::mutex> g(c.mu);
      c.cv.wait(g, [&] { return static_cast<int>(c.sent.size()) < a.window || stop; });
      if (stop) break;
      c.sent.push_back(Clock::now());
    }
    bool written = false;
    if (a.proto == "kafka") {
      set_correlation(kframe, correlation++);
      written = write_all(c.fd, kframe.data(), kframe.size());
    } else {
      written = write_all(c.fd, text.data(), text.size());
    }
    if (!written) die("write failed (server closed the connection)");
  }
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--mode") a.mode = next();
    else if (k == "--proto") a.proto = next();
    else if (k == "--host") a.host = next();
    else if (k == "--port") a.port = std::atoi(next().c_str());
    else if (k == "--null-sink") a.null_sink = true;
    else if (k == "--loopback") a.loopback = true;
    else if (k == "--conns") a.conns = std::atoi(next().c_str());
    else if (k == "--window") a.window = std::atoi(next().c_str());
    else if (k == "--batch") a.batch = std::atoi(next().c_str());
    else if (k == "--size") a.size = std::atoi(next().c_str());
    else if (k == "--seconds") a.seconds = std::atof(next().c_str());
    else if (k == "--rate") a.rate = std::atof(next().c_str());
    else if (k == "--total-mb") a.total_mb = std::atof(next().c_str());
    else if (k == "--acks") a.acks = std::atoi(next().c_str());
    else if (k == "--topic") a.topic = next();
    else if (k == "--partitions") a.partitions = std::atoi(next().c_str());
    else if (k == "--max-bytes") a.max_bytes = std::atoi(next().c_str());
    else if (k == "--start-offset") a.start_offset = std::atoll(next().c_str());
    else if (k == "--passes") a.passes = std::atoi(next().c_str());
    else if (k == "--server-pid") {
      std::istringstream pids(next());
      for (std::string pid; std::getline(pids, pid, ',');) a.server_pids.push_back(std::atol(pid.c_str()));
    }
    else die("unknown flag " + k + " (see the comment at the top of experiments/loadgen/loadgen.cc)");
  }
  if (a.proto != "kafka" && a.proto != "redis" && a.proto != "nats") die("--proto kafka|redis|nats");
  if (a.mode != "produce" && a.mode != "fetch") die("--mode produce|fetch");
  if (a.mode == "fetch" && a.proto != "kafka") die("--mode fetch speaks Kafka only");
  if (a.null_sink && a.proto != "kafka") die("--null-sink answers Kafka only");
  if (a.loopback && a.mode != "fetch") die("--loopback is a baseline of --mode fetch");
  if (!a.null_sink && !a.loopback && a.port <= 0) die("--port (or --null-sink, --loopback)");
  if (a.conns < 1 || a.conns > 256 || a.window < 1 || a.window > 4096 || a.batch < 1 || a.batch > 100000 || a.size < 1 ||
      a.size > (1 << 20) || a.partitions < 1 || a.seconds <= 0 || a.max_bytes < 1 || a.start_offset < 0 || a.total_mb < 0 ||
      a.passes < 1) {
    die("a flag out of range");
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  if (a.mode == "fetch") return run_fetch(a);
  std::atomic<bool> stop{false};
  if (a.null_sink) a.port = start_null_sink();
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < a.conns; ++i) {
    auto c = std::make_unique<Conn>();
    c->fd = dial(a.host, a.port);
    if (a.proto == "nats") {
      In in(c->fd);  // the handshake's lines only: nothing else is sent before it ends
      nats_handshake(c->fd, in, i);
      if (i == 0) nats_create_stream(c->fd, in, a);
    }
    conns.push_back(std::move(c));
  }
  const double server_cpu0 = cpu_seconds_of(a.server_pids);
  const double own_cpu0 = own_cpu_seconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> writers_done{0};
  for (int i = 0; i < a.conns; ++i) {
    threads.emplace_back([&, i] { reader(a, *conns[static_cast<size_t>(i)], stop); });
    threads.emplace_back([&, i] {
      writer(a, *conns[static_cast<size_t>(i)], i, stop, start);
      ++writers_done;
    });
  }
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  while (Clock::now() < end && writers_done < a.conns) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& c : conns) {
    std::lock_guard<std::mutex> g(c->mu);
    c->cv.notify_all();
  }
  // Writers stop at once; readers once their connection's answers are in (or 10 s passed).
  for (size_t i = 1; i < threads.size(); i += 2) threads[i].join();
  for (auto& c : conns) {
    std::unique_lock<std::mutex> g(c->mu);
    c->cv.wait_for(g, std::chrono::seconds(10), [&] { return c->sent.empty(); });
  }
  for (auto& c : conns) ::shutdown(c->fd, SHUT_RDWR);  // a reader waiting for nothing wakes
  for (size_t i = 0; i < threads.size(); i += 2) threads[i].join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double server_cpu = a.server_pids.empty() ? -1 : cpu_seconds_of(a.server_pids) - server_cpu0;
  const double own_cpu = own_cpu_seconds() - own_cpu0;
  uint64_t answered = 0, failed = 0;
  std::vector<int64_t> lat;
  for (auto& c : conns) {
    answered += c->answered;
    failed += c->failed;
    lat.insert(lat.end(), c->latency_us.begin(), c->latency_us.end());
    ::close(c->fd);
  }
  const double records = static_cast<double>(answered) * a.batch;
  const double gb = records * a.size / 1e9;
  std::printf("proto=%s target=%s size=%d batch=%d conns=%d window=%d acks=%d rate=%.0f seconds=%.2f requests=%llu failed=%llu "
              "records_per_s=%.0f MBps=%.1f p50_us=%lld p99_us=%lld p999_us=%lld loadgen_cpu_s=%.2f server_cpu_s=%.2f "
              "server_cpu_s_per_GB=%.2f\n",
              a.proto.c_str(), a.null_sink ? "null-sink" : (a.host + ":" + std::to_string(a.port)).c_str(), a.size, a.batch,
              a.conns, a.window, a.acks, a.rate, wall, static_cast<unsigned long long>(answered),
              static_cast<unsigned long long>(failed), records / wall, records * a.size / wall / 1e6,
              static_cast<long long>(percentile(lat, 0.5)), static_cast<long long>(percentile(lat, 0.99)),
              static_cast<long long>(percentile(lat, 0.999)), own_cpu, server_cpu, server_cpu >= 0 && gb > 0 ? server_cpu / gb : -1);
  std::fflush(stdout);
  std::_Exit(failed == 0 && answered > 0 ? 0 : 1);  // the null sink's detached threads still block in accept/recv
}
