// Produce/consume throughput and produce latency through librdkafka's public C API.
//
//   rdkafka_bench --bootstrap HOST:PORT --topic T --records N --size BYTES [--acks all|1|0]
//   rdkafka_bench --tcp-baseline --records N --size BYTES
//       the same bytes through a plain loopback TCP connection (a sink thread reading as fast
//       as it can): the transport ceiling, measured in the same run as the baseline.
//
// Prints one line of key=value results: produce MB/s and records/s, p50/p99 produce latency
// (enqueue to delivery report), consume MB/s and records/s.
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string bootstrap;
  std::string topic = "bench";
  long records = 100000;
  long size = 100;
  std::string acks = "all";
  bool mock = false;
  bool tcp_baseline = false;
  long rate = 0;  // records per second; 0: as fast as the client accepts them
};

struct LatencyLog {
  std::vector<Clock::time_point> sent;
  std::vector<double> latency_us;
  long failed = 0;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* log = static_cast<LatencyLog*>(opaque);
  if (m->err) {
    ++log->failed;
    return;
  }
  const auto i = reinterpret_cast<intptr_t>(m->_private);
  log->latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - log->sent[static_cast<size_t>(i)]).count());
}

rd_kafka_conf_t* base_conf(const Args& a) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "%s: %s\n", k, err);
      std::exit(2);
    }
  };
  if (a.mock) set("test.mock.num.brokers", "1"); else set("bootstrap.servers", a.bootstrap);
  return conf;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Returns the mock cluster's bootstrap address when --mock (the consumer must join the same one).
std::string produce(const Args& a, double* seconds, LatencyLog& log, rd_kafka_t** mock_owner) {
  char err[512];
  rd_kafka_conf_t* conf = base_conf(a);
  rd_kafka_conf_set(conf, "acks", a.acks.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "linger.ms", a.rate > 0 ? "0" : "5", err, sizeof err);
  rd_kafka_conf_set(conf, "queue.buffering.max.messages", "1000000", err, sizeof err);
  rd_kafka_conf_set_opaque(conf, &log);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "producer: %s\n", err);
    std::exit(1);
  }
  std::string payload(static_cast<size_t>(a.size), 'x');
  log.sent.resize(static_cast<size_t>(a.records));
  const auto t0 = Clock::now();
  for (long i = 0; i < a.records; ++i) {
    if (a.rate > 0) {  // paced: latency without queueing in the client
      const auto due = t0 + std::chrono::nanoseconds(i * 1'000'000'000L / a.rate);
      while (Clock::now() < due) rd_kafka_poll(rk, 0);
    }
    log.sent[static_cast<size_t>(i)] = Clock::now();
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(a.topic.c_str()), RD_KAFKA_V_PARTITION(0),
                             RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(i)),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 10);
    }
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 60000);
  *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string bootstrap = a.bootstrap;
  if (a.mock) {
    // The mock cluster lives inside this producer; report its address for the consumer.
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, nullptr, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->broker_cnt > 0) {
      bootstrap = std::string(md->brokers[0].host) + ":" + std::to_string(md->brokers[0].port);
      rd_kafka_metadata_destroy(md);
    }
    *mock_owner = rk;  // the consumer needs the mock cluster to stay up: destroyed after it
    return bootstrap;
  }
  rd_kafka_destroy(rk);
  return bootstrap;
}

long consume(const Args& a, const std::string& bootstrap, double* seconds, long* bytes) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "rdkafka-bench", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "consumer: %s\n", err);
    std::exit(1);
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, a.topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  long n = 0;
  *bytes = 0;
  const auto t0 = Clock::now();
  auto last = t0;
  while (n < a.records && Clock::now() - last < std::chrono::seconds(10)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (!m->err) {
      ++n;
      *bytes += static_cast<long>(m->len);
      last = Clock::now();
    }
    rd_kafka_message_destroy(m);
  }
  *seconds = std::chrono::duration<double>(last - t0).count();
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return n;
}

// Loopback TCP: N*size bytes in 64 KiB writes to a thread that reads and discards them.
double tcp_baseline_mbps(long records, long size) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listener, 1);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const long total = records * size;
  std::thread sink([listener, total] {
    int c = ::accept(listener, nullptr, nullptr);
    std::vector<char> buf(1 << 16);
    long got = 0;
    while (got < total) {
      const ssize_t n = ::read(c, buf.data(), buf.size());
      if (n <= 0) break;
      got += n;
    }
    ::close(c);
  });
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  std::vector<char> chunk(1 << 16, 'x');
  const auto t0 = Clock::now();
  for (long sent = 0; sent < total;) {
    const ssize_t n = ::write(s, chunk.data(), static_cast<size_t>(std::min<long>(total - sent, static_cast<long>(chunk.size()))));
    if (n <= 0) break;
    sent += n;
  }
  ::shutdown(s, SHUT_WR);
  sink.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(s);
  ::close(listener);
  return static_cast<double>(total) / 1e6 / secs;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--bootstrap") a.bootstrap = next();
    else if (k == "--topic") a.topic = next();
    else if (k == "--records") a.records = std::atol(next().c_str());
    else if (k == "--size") a.size = std::atol(next().c_str());
    else if (k == "--acks") a.acks = next();
    else if (k == "--mock") a.mock = true;
    else if (k == "--tcp-baseline") a.tcp_baseline = true;
    else if (k == "--rate") a.rate = std::atol(next().c_str());
    else {
      std::fprintf(stderr, "usage: rdkafka_bench (--bootstrap HOST:PORT | --mock) [--topic T] [--records N] [--size B] [--acks all|1|0]\n");
      return 2;
    }
  }
  if (a.tcp_baseline) {
    std::printf("target=loopback-tcp size=%ld records=%ld MBps=%.1f\n", a.size, a.records, tcp_baseline_mbps(a.records, a.size));
    return 0;
  }
  LatencyLog log;
  double produce_s = 0, consume_s = 0;
  rd_kafka_t* mock_owner = nullptr;
  const std::string bootstrap = produce(a, &produce_s, log, &mock_owner);
  long consumed_bytes = 0;
  const long consumed = consume(a, bootstrap, &consume_s, &consumed_bytes);
  if (mock_owner != nullptr) rd_kafka_destroy(mock_owner);
  const double mb = static_cast<double>(a.records) * static_cast<double>(a.size) / 1e6;
  std::printf("target=%s rate=%ld size=%ld records=%ld acks=%s produce_MBps=%.1f produce_rps=%.0f p50_us=%.0f p99_us=%.0f "
              "failed=%ld consume_MBps=%.1f consume_rps=%.0f consumed=%ld\n",
              a.mock ? "librdkafka-mock" : "samsa", a.rate, a.size, a.records, a.acks.c_str(), mb / produce_s,
              static_cast<double>(a.records) / produce_s, percentile(log.latency_us, 0.5), percentile(log.latency_us, 0.99),
              log.failed, static_cast<double>(consumed_bytes) / 1e6 / std::max(consume_s, 1e-9),
              static_cast<double>(consumed) / std::max(consume_s, 1e-9), consumed);
  return log.failed == 0 && consumed == a.records ? 0 : 1;
}
