// `samsa console-producer` and `samsa console-consumer`, after Kafka's console tools.
#include <cstdio>
#include <limits>
#include <map>

#include "client/consumer.h"
#include "client/group_consumer.h"
#include "client/producer.h"
#include "real/tools/cli.h"
#include "real/backend/real_runtime.h"
#include "real/backend/signals.h"
#include "real/backend/stdin_lines.h"

namespace samsa::real {

namespace {

constexpr size_t kLinesPerFlushMax = 1000;

std::optional<Compression> codec_named(const std::string& name) {
  if (name.empty() || name == "none") return Compression::none;
  if (name == "gzip") return Compression::gzip;
  if (name == "snappy") return Compression::snappy;
  if (name == "lz4") return Compression::lz4;
  if (name == "zstd") return Compression::zstd;
  return std::nullopt;
}

bool report_failures(const std::vector<client::DeliveryReport>& reports, const std::string& topic) {
  bool ok = true;
  for (const auto& r : reports) {
    if (r.error == kafka::Error::none) continue;
    std::fprintf(stderr, "ERROR Error when sending message to topic %s: %s\n", topic.c_str(), kafka::error_name(r.error));
    ok = false;
  }
  return ok;
}

int producer_main(Runtime& rt, const ProducerArgs& a) {
  std::map<std::string, std::string> props, pprops;
  std::string bad;
  if (!parse_properties(a.properties, &props, &bad) || !parse_properties(a.producer_properties, &pprops, &bad)) {
    std::fprintf(stderr, "Invalid property: %s (expected key=value)\n", bad.c_str());
    return 2;
  }
  Result<std::vector<Address>> servers = client::parse_bootstrap(a.bootstrap);
  if (!servers.ok()) {
    std::fprintf(stderr, "Missing or invalid --bootstrap-server / --broker-list\n");
    return 2;
  }
  client::ProducerConfig pc;
  // As Kafka's producer: retries bounded by delivery.timeout.ms, so a leader failover (the old
  // leader's session must expire first, ~10 s) is ridden through rather than reported.
  pc.retries = std::numeric_limits<int>::max();
  pc.retry_backoff = std::chrono::milliseconds(200);
  if (pprops.count("retries")) pc.retries = std::max(0, std::atoi(pprops["retries"].c_str()));
  if (pprops.count("delivery.timeout.ms")) {
    pc.delivery_timeout = std::chrono::milliseconds(std::max(0, std::atoi(pprops["delivery.timeout.ms"].c_str())));
  }
  const std::string acks = pprops.count("acks") ? pprops["acks"] : a.acks;
  pc.acks = acks == "all" ? int16_t{-1} : static_cast<int16_t>(std::atoi(acks.c_str()));
  std::optional<Compression> codec = codec_named(pprops.count("compression.type") ? pprops["compression.type"] : a.compression);
  if (!codec) {
    std::fprintf(stderr, "Unknown compression codec\n");
    return 2;
  }
  pc.compression = *codec;
  const bool parse_key = props["parse.key"] == "true";
  const std::string separator = props.count("key.separator") ? props["key.separator"] : "\t";
  client::Cluster cluster(rt, client::ClientConfig{*servers, "console-producer"});
  client::Producer producer(cluster, pc);
  StdinLines lines(static_cast<RealRuntime&>(rt).reactor());
  size_t line_no = 0;
  for (;;) {
    Result<std::optional<std::string>> line = lines.next();
    if (!line.ok()) {
      std::fprintf(stderr, "cannot read standard input: %s\n", errc_name(line.error()));
      return 1;
    }
    if (!*line) break;
    ++line_no;
    std::optional<ConstBytes> key;
    std::string value = **line;
    std::string key_text;
    if (parse_key) {
      const size_t at = value.find(separator);
      if (at == std::string::npos) {
        std::fprintf(stderr, "No key separator found on line number %zu: '%s'\n", line_no, value.c_str());
        return 1;
      }
      key_text = value.substr(0, at);
      value = value.substr(at + separator.size());
      key = as_bytes(key_text);
    }
    if (Status s = producer.send(a.topic, -1, key, as_bytes(value)); !s.ok()) {
      std::fprintf(stderr, "ERROR cannot send to topic %s: %s\n", a.topic.c_str(), s.name());
      return 1;
    }
    // Flush whenever input pauses (interactive use) or enough lines have queued.
    if (!lines.line_ready() || producer.queued() >= kLinesPerFlushMax) {
      Result<std::vector<client::DeliveryReport>> reports = producer.flush();
      if (!reports.ok() || !report_failures(*reports, a.topic)) return 1;
    }
  }
  Result<std::vector<client::DeliveryReport>> reports = producer.flush();
  return reports.ok() && report_failures(*reports, a.topic) ? 0 : 1;
}

struct PrintOptions {
  bool key = false, timestamp = false, partition = false, offset = false, value = true;
  std::string key_separator = "\t";
};

void print_record(const client::ConsumedRecord& r, const PrintOptions& p) {
  std::string line;
  auto bytes_text = [](const std::optional<std::vector<std::byte>>& b) {
    return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("null");
  };
  if (p.timestamp) line += "CreateTime:" + std::to_string(r.timestamp) + "\t";
  if (p.partition) line += "Partition:" + std::to_string(r.partition) + "\t";
  if (p.offset) line += "Offset:" + std::to_string(r.offset) + "\t";
  if (p.key) line += bytes_text(r.key) + p.key_separator;
  if (p.value) line += bytes_text(r.value);
  line += "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
}

// Polls, prints, and stops at --max-messages, at --timeout-ms without records, or on a signal.
// after_batch(printed) runs after each non-empty batch with the next offset after what was
// printed per partition (what a group may commit). Returns how many records were printed.
template <typename Poll, typename AfterBatch>
int64_t consume_loop(Runtime& rt, const ConsumerArgs& a, const PrintOptions& p, const bool& interrupted, Poll&& poll,
                     AfterBatch&& after_batch) {
  int64_t processed = 0;
  Instant last_record = rt.now();
  std::map<client::TopicPartition, int64_t> printed;
  while (!interrupted && (!a.max_messages || processed < *a.max_messages)) {
    Result<std::vector<client::ConsumedRecord>> batch = poll(std::chrono::milliseconds(200));
    if (!batch.ok() && batch.error() == Errc::cancelled) break;
    if (batch.ok()) {
      for (const auto& r : *batch) {
        if (a.max_messages && processed >= *a.max_messages) break;
        print_record(r, p);
        printed[{r.topic, r.partition}] = r.offset + 1;
        ++processed;
      }
      std::fflush(stdout);
      if (!batch->empty()) {
        last_record = rt.now();
        after_batch(printed);
      }
    }
    if (a.timeout_ms && rt.now() - last_record >= std::chrono::milliseconds(*a.timeout_ms)) break;
  }
  after_batch(printed);
  return processed;
}

// --group: a group member that commits after each batch it printed (and when it stops).
int group_consumer_main(Runtime& rt, const ConsumerArgs& a, const PrintOptions& p, client::Cluster& cluster,
                        const client::ConsumerConfig& cc, const bool& interrupted) {
  client::GroupConsumerConfig gc;
  gc.group_id = a.group;
  gc.consumer = cc;
  client::GroupConsumer consumer(cluster, gc);
  consumer.subscribe({a.topic});
  const int64_t processed = consume_loop(
      rt, a, p, interrupted, [&](Duration d) { return consumer.poll(d); },
      // Only what was printed counts as processed.
      [&](const std::map<client::TopicPartition, int64_t>& printed) { (void)consumer.commit(printed); });
  (void)consumer.close();
  std::fprintf(stderr, "Processed a total of %lld messages\n", static_cast<long long>(processed));
  return 0;
}

int consumer_main(Runtime& rt, const ConsumerArgs& a, const bool& interrupted) {
  std::map<std::string, std::string> props;
  std::string bad;
  if (!parse_properties(a.properties, &props, &bad)) {
    std::fprintf(stderr, "Invalid property: %s (expected key=value)\n", bad.c_str());
    return 2;
  }
  if (!a.group.empty() && (a.partition || a.offset != "latest")) {
    std::fprintf(stderr, "Options group and partition/offset cannot be specified together.\n");
    return 2;
  }
  if (a.offset != "latest" && !a.partition) {
    std::fprintf(stderr, "The partition is required when offset is specified.\n");
    return 2;
  }
  PrintOptions p;
  p.key = props["print.key"] == "true";
  p.timestamp = props["print.timestamp"] == "true";
  p.partition = props["print.partition"] == "true";
  p.offset = props["print.offset"] == "true";
  p.value = props.count("print.value") == 0 || props["print.value"] == "true";
  if (props.count("key.separator")) p.key_separator = props["key.separator"];
  Result<std::vector<Address>> servers = client::parse_bootstrap(a.bootstrap);
  if (!servers.ok()) {
    std::fprintf(stderr, "Invalid --bootstrap-server: %s\n", a.bootstrap.c_str());
    return 2;
  }
  client::Cluster cluster(rt, client::ClientConfig{*servers, "console-consumer"});
  client::ConsumerConfig cc;
  cc.auto_offset_reset = a.from_beginning ? client::ConsumerConfig::Reset::earliest : client::ConsumerConfig::Reset::latest;
  if (!a.group.empty()) return group_consumer_main(rt, a, p, cluster, cc, interrupted);
  client::Consumer consumer(cluster, cc);
  std::vector<client::TopicPartition> parts;
  if (a.partition) {
    parts.push_back({a.topic, *a.partition});
  } else {
    Result<int32_t> n = cluster.partition_count(a.topic);
    if (!n.ok()) {
      std::fprintf(stderr, "ERROR topic %s: %s\n", a.topic.c_str(), errc_name(n.error()));
      return 1;
    }
    for (int32_t i = 0; i < *n; ++i) parts.push_back({a.topic, i});
  }
  consumer.assign(parts);
  if (a.offset == "earliest") consumer.seek_to(parts[0], client::Consumer::kEarliest).ok();
  else if (a.offset != "latest") consumer.seek(parts[0], std::atoll(a.offset.c_str()));
  const int64_t processed = consume_loop(
      rt, a, p, interrupted, [&](Duration d) { return consumer.poll(d); }, [](const auto&) {});
  std::fprintf(stderr, "Processed a total of %lld messages\n", static_cast<long long>(processed));
  return 0;
}

}  // namespace

int run_console_producer(const ProducerArgs& args) {
  int rc = 0;
  RealOptions options;
  options.log_level = LogLevel::warn;
  run_real(options, [&](Runtime& rt) { rc = producer_main(rt, args); });
  return rc;
}

int run_console_consumer(const ConsumerArgs& args) {
  const int signal_fd = block_termination_signals();
  int rc = 0;
  RealOptions options;
  options.log_level = LogLevel::warn;
  run_real(options, [&](Runtime& rt) {
    bool interrupted = false;
    const FiberId main_fiber = rt.current_fiber();
    FiberId watcher = rt.spawn("signals", [&] {
      if (wait_for_termination(static_cast<RealRuntime&>(rt).reactor(), signal_fd).ok()) {
        interrupted = true;
        rt.cancel(main_fiber);
      }
    });
    rc = consumer_main(rt, args, interrupted);
    rt.cancel(watcher);
  });
  std::fflush(stdout);
  return rc;
}

}  // namespace samsa::real
