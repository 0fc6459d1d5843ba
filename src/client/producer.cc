#include "client/producer.h"

#include "client/compression.h"

namespace samsa::client {

using namespace samsa::kafka;

int32_t murmur2(ConstBytes data) {
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const size_t len = data.size();
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(len);
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t k = std::to_integer<uint32_t>(data[i]) | (std::to_integer<uint32_t>(data[i + 1]) << 8) |
                 (std::to_integer<uint32_t>(data[i + 2]) << 16) | (std::to_integer<uint32_t>(data[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (len - i) {
    case 3: h ^= std::to_integer<uint32_t>(data[i + 2]) << 16; [[fallthrough]];
    case 2: h ^= std::to_integer<uint32_t>(data[i + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= std::to_integer<uint32_t>(data[i]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(ConstBytes key, int32_t partitions) {
  return static_cast<int32_t>((static_cast<uint32_t>(murmur2(key)) & 0x7fffffffu) % static_cast<uint32_t>(partitions));
}

Status Producer::send(const std::string& topic, int32_t partition, std::optional<ConstBytes> key,
                      std::optional<ConstBytes> value, int64_t timestamp, const std::vector<RecordHeader>& headers) {
  if (partition < 0) {
    int32_t n = 0;
    SAMSA_TRY_ASSIGN(n, cluster_.partition_count(topic));
    partition = key ? partition_for_key(*key, n) : (round_robin_[topic]++ % n);
  }
  if (timestamp < 0) timestamp = cluster_.rt().wall_clock_ms();
  auto it = pending_.find({topic, partition});
  if (it == pending_.end()) it = pending_.emplace(model::TopicPartition{topic, partition}, Pending{BatchBuilder(timestamp), 0}).first;
  it->second.builder.add(timestamp, key, value, headers);
  it->second.bytes += (key ? key->size() : 0) + (value ? value->size() : 0) + 16;
  ++queued_;
  if (it->second.bytes >= config_.batch_bytes || cluster_.rt().buggify("producer.single_record_batches")) {
    std::map<model::TopicPartition, Pending> one;
    one.emplace(it->first, std::move(it->second));
    pending_.erase(it);
    std::vector<DeliveryReport> reports;
    SAMSA_TRY_ASSIGN(reports, send_batches(std::move(one)));
    done_.insert(done_.end(), reports.begin(), reports.end());
  }
  return Status{};
}

Result<std::vector<DeliveryReport>> Producer::flush() {
  std::vector<DeliveryReport> reports;
  SAMSA_TRY_ASSIGN(reports, send_batches(std::move(pending_)));
  pending_.clear();
  reports.insert(reports.begin(), done_.begin(), done_.end());
  done_.clear();
  queued_ = 0;
  return reports;
}

bool ambiguous_error(Error e) {
  return e == Error::network_exception || e == Error::request_timed_out || e == Error::kafka_storage_error ||
         e == Error::unknown_server_error || e == Error::not_enough_replicas_after_append ||
         e == Error::not_leader_or_follower;
}

namespace {
bool retriable(Error e) {
  return e == Error::not_leader_or_follower || e == Error::leader_not_available || e == Error::request_timed_out ||
         e == Error::network_exception || e == Error::kafka_storage_error || e == Error::not_enough_replicas ||
         e == Error::not_enough_replicas_after_append || e == Error::fenced_leader_epoch ||
         e == Error::unknown_leader_epoch || e == Error::unknown_topic_or_partition;
}
}  // namespace

Result<std::vector<DeliveryReport>> Producer::send_batches(std::map<model::TopicPartition, Pending> batches) {
  std::vector<DeliveryReport> reports;
  std::map<model::TopicPartition, std::pair<std::vector<std::byte>, size_t>> todo;  // batch, record count
  std::map<model::TopicPartition, bool> ambiguous, resent;
  for (auto& [tp, p] : batches) {
    std::vector<std::byte> b;
    SAMSA_TRY_ASSIGN(b, compress_batch(p.builder.build(), config_.compression));
    todo[tp] = {std::move(b), p.builder.count()};
  }
  auto report = [&](const model::TopicPartition& tp, int64_t offset, Error e, int attempt) {
    reports.push_back(DeliveryReport{tp.topic, tp.partition, offset, e, ambiguous[tp], resent[tp], attempt + 1});
  };
  const Instant give_up_at = cluster_.rt().now() + config_.delivery_timeout;
  for (int attempt = 0; !todo.empty(); ++attempt) {
    std::map<int32_t, ProduceRequest> by_leader;
    std::map<model::TopicPartition, Error> errors;
    for (auto& [tp, batch] : todo) {
      if (ambiguous[tp]) {  // this attempt follows an ambiguous one
        resent[tp] = true;
        if (config_.on_resend_after_ambiguous) config_.on_resend_after_ambiguous(tp.topic, tp.partition);
      }
      Result<int32_t> leader = cluster_.leader(tp.topic, tp.partition);
      if (!leader.ok()) {
        errors[tp] = Error::unknown_topic_or_partition;
        continue;
      }
      ProduceRequest& req = by_leader[*leader];
      req.acks = config_.acks;
      req.timeout_ms = static_cast<int32_t>(to_ms(cluster_.config().request_timeout));
      if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}});
      req.topics.back().partitions.push_back({tp.partition, RecordsField{false, batch.first, nullptr, 0, 0}});
    }
    for (auto& [leader, req] : by_leader) {
      Result<Connection*> c = cluster_.node(leader);
      std::optional<int16_t> v = c.ok() ? (*c)->version(ApiKey::produce, 9) : std::nullopt;
      auto mark_all = [&](Error e) {
        for (const auto& t : req.topics) {
          for (const auto& p : t.partitions) errors[{t.name, p.index}] = e;
        }
      };
      if (!c.ok() || !v || *v < 3) {
        mark_all(Error::network_exception);
        continue;
      }
      if (config_.acks == 0) {
        Status s = (*c)->send_only(ApiKey::produce, *v, req, cluster_.request_deadline());
        mark_all(s.ok() ? Error::none : Error::network_exception);
        continue;
      }
      Result<ProduceResponse> resp = (*c)->call<ProduceRequest, ProduceResponse>(ApiKey::produce, *v, req, cluster_.request_deadline());
      if (!resp.ok()) {
        cluster_.invalidate(leader);
        mark_all(Error::network_exception);
        continue;
      }
      for (const auto& t : resp->responses) {
        for (const auto& p : t.partitions) {
          const model::TopicPartition tp{t.name, p.index};
          errors[tp] = static_cast<Error>(p.error_code);
          auto it = todo.find(tp);
          if (p.error_code == 0 && it != todo.end()) {
            for (size_t i = 0; i < it->second.second; ++i) report(tp, p.base_offset + static_cast<int64_t>(i), Error::none, attempt);
            todo.erase(it);
          }
        }
      }
    }
    for (auto it = todo.begin(); it != todo.end();) {
      auto e = errors.find(it->first);
      const Error err = e == errors.end() ? Error::network_exception : e->second;
      if (ambiguous_error(err)) ambiguous[it->first] = true;
      if (err == Error::none) {  // acks=0
        for (size_t i = 0; i < it->second.second; ++i) report(it->first, -1, Error::none, attempt);
        it = todo.erase(it);
      } else if (!retriable(err) || attempt >= config_.retries || cluster_.rt().now() >= give_up_at) {
        for (size_t i = 0; i < it->second.second; ++i) report(it->first, -1, err, attempt);
        it = todo.erase(it);
      } else {
        ++it;
      }
    }
    if (!todo.empty()) {
      SAMSA_TRY(cluster_.rt().sleep(config_.retry_backoff));
      (void)cluster_.metadata(std::nullopt, false);
    }
  }
  return reports;
}

}  // namespace samsa::client
