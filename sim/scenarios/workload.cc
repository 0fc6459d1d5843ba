#include "sim/scenarios/workload.h"

#include <fmt/format.h>

#include "client/admin.h"
#include "client/compression.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "sim/scenarios/scenario_util.h"

namespace samsa::sim {

namespace {

std::string as_string(const std::optional<std::vector<std::byte>>& b) {
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string();
}

// A unique value `tag` padded to `bytes` with letters from a cheap generator, so compression
// has something to chew on but cannot make an oversize batch small.
std::string make_value(const std::string& tag, size_t bytes, uint64_t& noise) {
  std::string v = tag;
  v.reserve(std::max(bytes, tag.size()));
  v += '.';
  while (v.size() < bytes) {
    noise = noise * 6364136223846793005ULL + 1442695040888963407ULL;
    v += static_cast<char>('a' + (noise >> 59));
  }
  return v;
}

// The value's tag: what comes before the first '.' (values are checked by identity).
std::string tag_of(const std::string& v) { return v.substr(0, v.find('.')); }

Duration pause(Runtime& rt, const WorkloadProfile& w) {
  return Duration{in_range(rt.random_u64(), w.pause_min.count(), w.pause_max.count())};
}

// All acknowledged: ok. None appended for sure (every report a definite error): failed.
// Anything else (a lost answer, a retry after one, some records in and some out): unknown.
SendRecord::Outcome classify(const Result<std::vector<client::DeliveryReport>>& r, SendRecord& s) {
  if (!r.ok() || r->size() != s.values.size()) return SendRecord::Outcome::indeterminate;
  bool all_ok = true, any_ok = false, any_ambiguous = false;
  for (const client::DeliveryReport& d : *r) {
    all_ok = all_ok && d.error == kafka::Error::none;
    any_ok = any_ok || d.error == kafka::Error::none;
    any_ambiguous = any_ambiguous || d.ambiguous;
    s.retried_after_ambiguous = s.retried_after_ambiguous || d.resent_after_ambiguous;
  }
  if (all_ok) {
    for (const client::DeliveryReport& d : *r) s.offsets.push_back(d.offset);
    return SendRecord::Outcome::ok;
  }
  return any_ok || any_ambiguous ? SendRecord::Outcome::indeterminate : SendRecord::Outcome::failed;
}

// One send of the library producer: a batch of many records to one partition. Recorded before
// anything is sent (a client crash leaves it indeterminate) and completed in place. The library
// may legally split it into several batches (buggify), so it is not atomic.
void send_batch(Runtime& rt, client::Producer& producer, const WorkloadProfile& w, int id, QueueHistory& h) {
  uint64_t& seq = h.next_seq[id];
  const size_t at = h.sends.size();
  h.sends.push_back(SendRecord{});
  SendRecord s;
  s.producer = id;
  s.invoked = rt.now();
  s.partition = static_cast<int32_t>(bounded(rt.random_u64(), static_cast<uint64_t>(w.partitions)));
  const bool oversize = chance(rt.random_u64(), static_cast<uint64_t>(w.oversize_per_mille), 1000);
  const int n = oversize ? 1 : static_cast<int>(in_range(rt.random_u64(), 1, w.records_max));
  uint64_t noise = rt.random_u64();
  // Stores the send in the history, keeping a resend the producer's hook reported meanwhile.
  auto record = [&] {
    s.retried_after_ambiguous = s.retried_after_ambiguous || h.sends[at].retried_after_ambiguous;
    h.sends[at] = s;
  };
  size_t total = 0;
  for (int i = 0; i < n; ++i) {
    size_t bytes = static_cast<size_t>(in_range(rt.random_u64(), w.value_bytes_min, w.value_bytes_max));
    if (oversize) bytes = w.batch_bytes_max + 1024;
    if (!oversize && i > 0 && total + bytes + 64 > w.batch_bytes_max) break;  // stay under the broker's limit
    total += bytes + 64;
    const std::string value = make_value(fmt::format("p{}-{}", id, seq++), bytes, noise);
    std::optional<std::string> key;
    if (chance(rt.random_u64(), static_cast<uint64_t>(w.key_percent), 100)) key = fmt::format("k{}", seq % 17);
    std::vector<RecordHeader> headers;
    if (chance(rt.random_u64(), static_cast<uint64_t>(w.header_percent), 100)) {
      headers.push_back({"trace", std::vector<std::byte>(3, std::byte{'x'})});
    }
    std::optional<ConstBytes> key_bytes;
    if (key) key_bytes = as_bytes(*key);
    s.values.push_back(tag_of(value));
    record();  // what may reach the broker from here on (send() may already send)
    if (!producer.send(w.topic, s.partition, key_bytes, as_bytes(value), -1, headers).ok()) {
      s.values.pop_back();  // never queued
      break;
    }
  }
  Result<std::vector<client::DeliveryReport>> r = producer.flush();
  s.completed = rt.now();
  s.outcome = classify(r, s);
  record();
}

}  // namespace

void WorkloadProfile::pace(int sends_per_s) {
  if (sends_per_s <= 0) return;
  pause_min = pause_max = Duration{1'000'000'000 / sends_per_s};
}

WorkloadProfile WorkloadProfile::draw(Simulator& sim, std::vector<Address> bootstrap, int32_t partitions,
                                      uint32_t batch_bytes_max) {
  WorkloadProfile w;
  w.bootstrap = std::move(bootstrap);
  w.partitions = partitions;
  w.batch_bytes_max = batch_bytes_max;
  static constexpr int kRecordsMax[] = {1, 4, 16, 100};
  w.records_max = kRecordsMax[sim.in_range(0, 3)];
  w.value_bytes_min = static_cast<int>(sim.in_range(4, 64));
  w.value_bytes_max = w.value_bytes_min + static_cast<int>(sim.in_range(0, sim.chance(1, 4) ? 4000 : 300));
  w.oversize_per_mille = sim.chance(1, 3) ? static_cast<int>(sim.in_range(1, 20)) : 0;
  w.key_percent = static_cast<int>(sim.in_range(0, 100));
  w.header_percent = sim.chance(1, 2) ? static_cast<int>(sim.in_range(0, 50)) : 0;
  w.pause_min = sim.random_duration(std::chrono::milliseconds(2), std::chrono::milliseconds(20));
  w.pause_max = w.pause_min + sim.random_duration(std::chrono::milliseconds(0), std::chrono::milliseconds(60));
  w.codecs = {Compression::none};
  for (Compression c : {Compression::gzip, Compression::snappy, Compression::lz4, Compression::zstd}) {
    if (sim.chance(1, 3)) w.codecs.push_back(c);
  }
  return w;
}

std::vector<std::string> WorkloadProfile::describe() const {
  static constexpr const char* kCodecNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  std::string names;
  for (Compression c : codecs) names += fmt::format("{}{}", names.empty() ? "" : "+", kCodecNames[static_cast<int>(c)]);
  return {fmt::format("partitions={} rf={}", partitions, replication_factor),
          fmt::format("records/send<={} value bytes {}..{} oversize={}/1000", records_max, value_bytes_min, value_bytes_max,
                      oversize_per_mille),
          fmt::format("keys={}% headers={}% codecs={}", key_percent, header_percent, names)};
}

void ensure_topic(Runtime& rt, const WorkloadProfile& w, const std::string& client_id) {
  client::Cluster cluster(rt, scenario_client(w.bootstrap, client_id));
  client::Admin admin(cluster);
  for (;;) {
    Result<client::AdminResult> r = admin.create_topic(w.topic, w.partitions, w.replication_factor, w.topic_configs);
    if (r.ok() && (r->error == kafka::Error::none || r->error == kafka::Error::topic_already_exists)) return;
    if (!rt.sleep(std::chrono::milliseconds(200)).ok()) return;
  }
}

void producer_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h) {
  ensure_topic(rt, w, fmt::format("producer-{}-admin", id));
  client::Cluster cluster(rt, scenario_client(w.bootstrap, fmt::format("producer-{}", id)));
  client::ProducerConfig pc;
  pc.acks = w.acks;
  pc.retries = 2;
  pc.batch_bytes = SIZE_MAX;  // one batch per flush: a send is one batch
  pc.compression = w.codecs[bounded(rt.random_u64(), w.codecs.size())];
  // A resend is recorded when it happens: if this client crashes before flush() returns, the
  // history still knows its records may be in the log twice.
  size_t current = SIZE_MAX;
  pc.on_resend_after_ambiguous = [&h, &current](const std::string&, int32_t) {
    if (current < h.sends.size()) h.sends[current].retried_after_ambiguous = true;
  };
  client::Producer producer(cluster, pc);
  for (;;) {
    current = h.sends.size();  // the index send_batch is about to take
    send_batch(rt, producer, w, id, h);
    if (!rt.sleep(pause(rt, w)).ok()) return;
  }
}

}  // namespace samsa::sim

namespace samsa::sim {

namespace {

// Two batches for one partition in one record set, as a client that batches by itself sends.
std::vector<std::byte> two_batch_record_set(Runtime& rt, const WorkloadProfile& w, int id, uint64_t& seq,
                                            std::vector<std::string>& tags) {
  std::vector<std::byte> set;
  uint64_t noise = rt.random_u64();
  for (int b = 0; b < 2; ++b) {
    BatchBuilder builder(rt.wall_clock_ms());
    const int n = static_cast<int>(in_range(rt.random_u64(), 1, std::min(w.records_max, 16)));
    for (int i = 0; i < n; ++i) {
      const std::string value = make_value(fmt::format("r{}-{}", id, seq++), static_cast<size_t>(w.value_bytes_min), noise);
      builder.add(rt.wall_clock_ms(), std::nullopt, as_bytes(value));
      tags.push_back(tag_of(value));
    }
    std::vector<std::byte> batch = builder.build();
    set.insert(set.end(), batch.begin(), batch.end());
  }
  return set;
}

// Sends `req` to the partition's leader; the very same request again after an ambiguous
// failure. Returns the outcome and fills base offset / retried flag.
SendRecord::Outcome send_raw(client::Cluster& cluster, kafka::ProduceRequest& req, int32_t partition, SendRecord& s,
                             QueueHistory& h, size_t at) {
  bool ambiguous = false;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (ambiguous) s.retried_after_ambiguous = h.sends[at].retried_after_ambiguous = true;  // survives a crash
    Result<int32_t> leader = cluster.leader(req.topics[0].name, partition);
    Result<client::Connection*> c = leader.ok() ? cluster.node(*leader) : Result<client::Connection*>(Errc::not_found);
    if (!c.ok()) {
      (void)cluster.metadata(std::nullopt, false);
      continue;
    }
    Result<kafka::ProduceResponse> resp = (*c)->call<kafka::ProduceRequest, kafka::ProduceResponse>(
        kafka::ApiKey::produce, 7, req, cluster.request_deadline());
    if (!resp.ok()) {
      ambiguous = true;
      cluster.invalidate(*leader);
      continue;
    }
    if (resp->responses.size() != 1 || resp->responses[0].partitions.size() != 1) return SendRecord::Outcome::indeterminate;
    const auto& p = resp->responses[0].partitions[0];
    const auto e = static_cast<kafka::Error>(p.error_code);
    if (e == kafka::Error::none) {
      for (size_t i = 0; i < s.values.size(); ++i) s.offsets.push_back(p.base_offset + static_cast<int64_t>(i));
      return SendRecord::Outcome::ok;
    }
    if (!client::ambiguous_error(e)) return ambiguous ? SendRecord::Outcome::indeterminate : SendRecord::Outcome::failed;
    ambiguous = true;
    if (e == kafka::Error::not_leader_or_follower) (void)cluster.metadata(std::nullopt, false);
  }
  return ambiguous ? SendRecord::Outcome::indeterminate : SendRecord::Outcome::failed;
}

std::vector<std::pair<int32_t, std::string>> moved_partitions(std::vector<client::PositionMove> moves,
                                                              std::vector<std::pair<int32_t, int64_t>>& corrupt) {
  std::vector<std::pair<int32_t, std::string>> out;
  for (const client::PositionMove& m : moves) {
    out.emplace_back(m.tp.partition, m.why);
    if (m.why == "skipped a corrupt batch") corrupt.emplace_back(m.tp.partition, m.from);
  }
  return out;
}

std::vector<client::TopicPartition> all_partitions(const WorkloadProfile& w) {
  std::vector<client::TopicPartition> tps;
  for (int32_t p = 0; p < w.partitions; ++p) tps.push_back({w.topic, p});
  return tps;
}

}  // namespace

void raw_producer_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h) {
  ensure_topic(rt, w, fmt::format("raw-producer-{}-admin", id));
  client::Cluster cluster(rt, scenario_client(w.bootstrap, fmt::format("raw-producer-{}", id)));
  uint64_t& seq = h.next_seq[id];
  for (;;) {
    SendRecord s;
    s.producer = id;
    s.atomic = true;
    s.partition = static_cast<int32_t>(bounded(rt.random_u64(), static_cast<uint64_t>(w.partitions)));
    kafka::ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 2000;
    kafka::ProduceRequest::Partition part;
    part.index = s.partition;
    part.records.bytes = two_batch_record_set(rt, w, id, seq, s.values);
    req.topics.push_back({.name = w.topic, .partitions = {std::move(part)}});
    s.invoked = rt.now();
    const size_t at = h.sends.size();
    h.sends.push_back(s);
    s.outcome = send_raw(cluster, req, s.partition, s, h, at);
    s.completed = rt.now();
    h.sends[at] = std::move(s);
    if (!rt.sleep(pause(rt, w) * 4).ok()) return;
  }
}

void consumer_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h) {
  client::Cluster cluster(rt, scenario_client(w.bootstrap, fmt::format("consumer-{}", id)));
  client::ConsumerConfig cc;
  cc.fetch_max_wait_ms = 200;
  cc.auto_offset_reset = client::ConsumerConfig::Reset::earliest;
  cc.skip_corrupt_batches = true;
  if (chance(rt.random_u64(), 1, 3)) cc.max_partition_fetch_bytes = static_cast<int32_t>(in_range(rt.random_u64(), 1, 8192));
  client::Consumer consumer(cluster, cc);
  consumer.assign(all_partitions(w));
  for (;;) {
    const Instant invoked = rt.now();
    Result<std::vector<client::ConsumedRecord>> batch = consumer.poll(std::chrono::milliseconds(500));
    PollRecord p;
    p.consumer = id;
    p.at = rt.now();
    p.invoked = invoked;
    p.moved = moved_partitions(consumer.take_moves(), p.corrupt);
    if (batch.ok()) {
      for (const auto& r : *batch) p.records.push_back(Observation{r.partition, r.offset, tag_of(as_string(r.value))});
    }
    if (!p.records.empty() || !p.moved.empty()) h.polls.push_back(std::move(p));
    if (!batch.ok() && !rt.sleep(std::chrono::milliseconds(100)).ok()) return;
  }
}

}  // namespace samsa::sim

namespace samsa::sim {

namespace {

int64_t odd_offset(Runtime& rt, const QueueHistory& h, int32_t partition) {
  int64_t high = 0;
  for (const SendRecord& s : h.sends) {
    if (s.partition == partition && s.outcome == SendRecord::Outcome::ok) high = std::max(high, s.offsets.back() + 1);
  }
  switch (bounded(rt.random_u64(), 5)) {
    case 0: return -in_range(rt.random_u64(), 1, 3);  // before any log start
    case 1: return high;                              // the end
    case 2: return high + in_range(rt.random_u64(), 1, 1000);  // past it
    default: return in_range(rt.random_u64(), 0, std::max<int64_t>(high, 0));  // anywhere, mid-batch too
  }
}

// Every whole batch of a fetched record set: CRC-checked, decoded, observed.
void observe_records(ConstBytes data, int32_t partition, PollRecord& p) {
  size_t at = 0;
  while (data.size() - at >= kBatchHeaderBytes) {
    Result<BatchHeader> h = parse_batch_header(data.subspan(at));
    if (h.ok() && h->total_bytes() > data.size() - at) return;  // partial at the end
    if (!h.ok() || compute_batch_crc(data.subspan(at, h->total_bytes())) != h->crc) {
      p.corrupt.emplace_back(partition, h.ok() ? h->base_offset : -1);
      return;
    }
    Result<std::vector<Record>> records = client::decode_batch_records(data.subspan(at, h->total_bytes()));
    if (!records.ok()) {
      p.corrupt.emplace_back(partition, h->base_offset);
      return;
    }
    for (const Record& r : *records) p.records.push_back(Observation{partition, r.offset, tag_of(as_string(r.value))});
    at += h->total_bytes();
  }
}

}  // namespace

void odd_fetcher_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h) {
  client::Cluster cluster(rt, scenario_client(w.bootstrap, fmt::format("odd-fetcher-{}", id)));
  for (;;) {
    if (!rt.sleep(Duration{in_range(rt.random_u64(), 50'000'000, 500'000'000)}).ok()) return;
    const int32_t partition = static_cast<int32_t>(bounded(rt.random_u64(), static_cast<uint64_t>(w.partitions)));
    Result<int32_t> leader = cluster.leader(w.topic, partition);
    Result<client::Connection*> c = leader.ok() ? cluster.node(*leader) : Result<client::Connection*>(Errc::not_found);
    if (!c.ok()) continue;
    kafka::FetchRequest req;
    req.max_wait_ms = static_cast<int32_t>(in_range(rt.random_u64(), 0, 100));
    req.max_bytes = static_cast<int32_t>(in_range(rt.random_u64(), 1, 1 << 20));
    const int32_t partition_max = static_cast<int32_t>(in_range(rt.random_u64(), 1, 1 << 16));
    kafka::FetchRequest::Partition part;
    part.partition = partition;
    part.fetch_offset = odd_offset(rt, h, partition);
    part.partition_max_bytes = partition_max;
    req.topics.push_back({.topic = w.topic, .partitions = {part}});
    const int16_t v = (*c)->version(kafka::ApiKey::fetch, 11).value_or(4);
    const Instant invoked = rt.now();
    Result<kafka::FetchResponse> resp = (*c)->call<kafka::FetchRequest, kafka::FetchResponse>(
        kafka::ApiKey::fetch, v, req, rt.after(std::chrono::seconds(3)));
    if (!resp.ok()) {
      cluster.invalidate(*leader);
      continue;
    }
    PollRecord p;
    p.consumer = id;
    p.at = rt.now();
    p.invoked = invoked;
    p.ordered = false;
    for (const auto& t : resp->responses) {
      for (const auto& answer : t.partitions) {
        if (answer.error_code == 0 && answer.partition_index == partition) observe_records(answer.records.data(), partition, p);
      }
    }
    if (!p.records.empty() || !p.corrupt.empty()) h.polls.push_back(std::move(p));
  }
}

void final_read_main(Runtime& rt, const WorkloadProfile& w, QueueHistory& h) {
  for (int32_t p = 0; p < w.partitions; ++p) h.final_incomplete.insert(p);
  {
    client::Cluster cluster(rt, scenario_client(w.bootstrap, "final-reader"));
    client::ConsumerConfig cc;
    cc.skip_corrupt_batches = true;
    // From the start, always: a seek that fails (a leader moving) must not leave the position to
    // a reset to the end, which would count the partition as read without reading it.
    cc.auto_offset_reset = client::ConsumerConfig::Reset::earliest;
    client::Consumer consumer(cluster, cc);
    std::map<int32_t, int64_t> end;  // partitions whose end is known: the ones read
    // Recovery may take a while; a partition still unavailable after a minute is left out.
    const Instant ends_by = rt.now() + std::chrono::seconds(60);
    while (rt.now() < ends_by && static_cast<int32_t>(end.size()) < w.partitions) {
      for (int32_t p = 0; p < w.partitions; ++p) {
        if (end.count(p) != 0) continue;
        Result<int64_t> e = consumer.list_offset({w.topic, p}, client::Consumer::kLatest);
        if (e.ok()) end[p] = *e;
      }
      (void)rt.sleep(std::chrono::milliseconds(200));
    }
    std::vector<client::TopicPartition> readable;
    for (const auto& [p, e] : end) readable.push_back({w.topic, p});

    consumer.assign(readable);
    for (const auto& tp : readable) {
      while (!consumer.seek_to(tp, client::Consumer::kEarliest).ok() && rt.now() < ends_by) {
        (void)rt.sleep(std::chrono::milliseconds(200));
      }
    }
    // In the simulator final_read's give_up ends it first; on Linux this bound does.
    while (!readable.empty() && rt.now() < ends_by + std::chrono::seconds(60)) {
      for (const auto& [p, e] : end) {
        if (consumer.position({w.topic, p}).value_or(0) >= e) h.final_incomplete.erase(p);
      }
      if (h.final_incomplete.empty()) break;
      Result<std::vector<client::ConsumedRecord>> batch = consumer.poll(std::chrono::milliseconds(500));
      for (const client::PositionMove& m : consumer.take_moves()) {
        if (m.why == "skipped a corrupt batch") h.final_corrupt.emplace_back(m.tp.partition, m.from);
      }

      if (!batch.ok()) continue;
      for (const auto& r : *batch) h.final_read.push_back(Observation{r.partition, r.offset, tag_of(as_string(r.value))});
    }
  }
}

void final_read(Simulator& sim, const WorkloadProfile& w, QueueHistory& h, Duration give_up) {
  bool done = false;
  NodeId reader = sim.add_node(fmt::format("final-reader-{}", sim.nodes().size()), [&](Runtime& rt) {
    final_read_main(rt, w, h);
    done = true;
  });
  sim.start(reader);
  const Instant stop = sim.now() + give_up;
  while (!done && sim.now() < stop && sim.step()) {
  }
  sim.crash(reader);
}

}  // namespace samsa::sim
