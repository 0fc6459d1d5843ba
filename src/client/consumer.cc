#include "client/consumer.h"

#include <algorithm>

#include "client/compression.h"
#include "protocol/errors.h"

namespace samsa::client {

using namespace samsa::kafka;

void Consumer::assign(const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, int64_t> next;
  for (const TopicPartition& tp : partitions) {
    auto it = positions_.find(tp);
    next[tp] = it == positions_.end() ? -1 : it->second;
  }
  positions_ = std::move(next);
}

std::optional<int64_t> Consumer::position(const TopicPartition& tp) const {
  auto it = positions_.find(tp);
  if (it == positions_.end() || it->second < 0) return std::nullopt;
  return it->second;
}

Result<int64_t> Consumer::list_offset(const TopicPartition& tp, int64_t timestamp) {
  int32_t leader = 0;
  SAMSA_TRY_ASSIGN(leader, cluster_.leader(tp.topic, tp.partition));
  Connection* c = nullptr;
  SAMSA_TRY_ASSIGN(c, cluster_.node(leader));
  std::optional<int16_t> v = c->version(ApiKey::list_offsets, 7);
  if (!v) return Errc::invalid_argument;
  ListOffsetsRequest req;
  req.topics.push_back({.name = tp.topic, .partitions = {{.partition_index = tp.partition, .timestamp = timestamp}}});
  ListOffsetsResponse resp;
  SAMSA_TRY_ASSIGN(resp, (c->call<ListOffsetsRequest, ListOffsetsResponse>(ApiKey::list_offsets, *v, req, cluster_.request_deadline())));
  if (resp.topics.size() != 1 || resp.topics[0].partitions.size() != 1) return Errc::corrupt;
  const auto& p = resp.topics[0].partitions[0];
  if (p.error_code != 0) {
    // NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, a fenced epoch...: the metadata this client
    // holds is stale (found by the cluster scenario, seed 973: a partition whose reset asked
    // the old leader forever was never read). Refresh it, as the fetch path does.
    (void)cluster_.metadata(std::nullopt, false);
    return Errc::not_found;
  }
  if (*v == 0) return p.old_style_offsets.empty() ? -1 : p.old_style_offsets[0];
  return p.offset;
}

Status Consumer::seek_to(const TopicPartition& tp, int64_t timestamp_or_special) {
  int64_t offset = 0;
  SAMSA_TRY_ASSIGN(offset, list_offset(tp, timestamp_or_special));
  if (offset < 0) {  // no record that late
    SAMSA_TRY_ASSIGN(offset, list_offset(tp, kLatest));
  }
  move(tp, offset, "seek");
  return Status{};
}

void Consumer::move(const TopicPartition& tp, int64_t to, std::string why) {
  epochs_[tp].last_batch = -1;  // what it consumed before the move says nothing of the new position
  int64_t& pos = positions_[tp];
  moves_.push_back(PositionMove{tp, pos, to, std::move(why)});
  pos = to;
}

// A batch that fails its CRC (or whose header does not parse) is skipped whole when its header
// can be trusted to say where it ends, else one offset at a time.
void Consumer::skip_corrupt(const TopicPartition& tp, int64_t& pos, const Result<BatchHeader>& h) {
  const int64_t to = h.ok() && h->next_offset() > pos ? h->next_offset() : pos + 1;
  moves_.push_back(PositionMove{tp, pos, to, "skipped a corrupt batch"});
  pos = to;
}

// Resets positions by auto.offset.reset. A partition whose reset fails (its leader is away, its
// log offline) stays unresolved and is tried again next poll; the others go on.
Status Consumer::resolve_positions() {
  Status first = Status{};
  for (auto& [tp, pos] : positions_) {
    if (pos >= 0) continue;
    if (config_.auto_offset_reset == ConsumerConfig::Reset::none) return Errc::out_of_range;
    const TopicPartition at = tp;
    Status s = seek_to(at, config_.auto_offset_reset == ConsumerConfig::Reset::earliest ? kEarliest : kLatest);
    if (s.ok()) {
      moves_.back().why = "reset by auto.offset.reset";
    } else {
      cluster_.rt().log(LogLevel::debug, "reset of " + at.topic + "-" + std::to_string(at.partition) + " failed: " + s.name());
      if (first.ok()) first = s;
    }
  }
  return first;
}

void Consumer::take_records(const std::string& topic, int32_t partition, ConstBytes data, std::vector<ConsumedRecord>& out) {
  const TopicPartition tp{topic, partition};
  int64_t& pos = positions_[tp];
  size_t at = 0;
  while (data.size() - at >= kBatchHeaderBytes) {
    Result<BatchHeader> h = parse_batch_header(data.subspan(at));
    if (h.ok() && h->total_bytes() > data.size() - at) break;  // a partial batch at the end
    if (h.ok() && h->next_offset() <= pos) {  // before the position: not ours to check
      at += h->total_bytes();
      continue;
    }
    // Kafka's consumers check each batch's CRC (check.crcs): a flipped bit on the broker's disk
    // must not reach the application as a record.
    Result<std::vector<Record>> records = Errc::corrupt;
    if (h.ok() && compute_batch_crc(data.subspan(at, h->total_bytes())) == h->crc) {
      records = h->is_control() ? std::vector<Record>{} : decode_batch_records(data.subspan(at, h->total_bytes()));
    }
    if (!records.ok()) {
      corrupt_ = true;
      if (config_.skip_corrupt_batches) skip_corrupt(tp, pos, h);
      return;
    }
    at += h->total_bytes();
    Epochs& e = epochs_[tp];
    if (e.last_batch != h->leader_epoch) e.last_batch_from = std::max(h->base_offset, pos);
    e.last_batch = h->leader_epoch;
    for (Record& r : *records) {
      if (r.offset < pos) continue;
      out.push_back(ConsumedRecord{topic, partition, r.offset, r.timestamp, std::move(r.key), std::move(r.value), std::move(r.headers)});
    }
    pos = h->next_offset();
  }
}

bool Consumer::validate_position(const TopicPartition& tp, int32_t leader, int32_t epoch) {
  Epochs& e = epochs_[tp];
  if (e.last_batch < 0 || epoch < 0) {  // nothing consumed since the last move: nothing to check
    e.fetched_under = epoch;
    return true;
  }
  Result<Connection*> c = leader < 0 ? Result<Connection*>(Errc::unavailable) : cluster_.node(leader);
  if (!c.ok()) {  // no leader yet, or it is away: learn who leads now
    (void)cluster_.metadata(std::nullopt, false);
    return false;
  }
  std::optional<int16_t> v = (*c)->version(ApiKey::offset_for_leader_epoch, 4);
  if (!v || *v < 2) {  // a broker without KIP-320: no way to check
    e.fetched_under = epoch;
    return true;
  }
  OffsetForLeaderEpochRequest req;
  req.replica_id = -1;  // a consumer
  req.topics.push_back({.topic = tp.topic, .partitions = {{.partition = tp.partition, .current_leader_epoch = epoch, .leader_epoch = e.last_batch}}});
  Result<OffsetForLeaderEpochResponse> resp = (*c)->call<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>(
      ApiKey::offset_for_leader_epoch, *v, req, cluster_.request_deadline());
  if (!resp.ok() || resp->topics.size() != 1 || resp->topics[0].partitions.size() != 1) {
    cluster_.invalidate(leader);
    return false;
  }
  const auto& p = resp->topics[0].partitions[0];
  if (p.error_code != 0) {  // a fenced or unknown epoch: the metadata moved on again
    (void)cluster_.metadata(std::nullopt, false);
    return false;
  }
  const int64_t pos = positions_[tp];
  // Where this log still agrees with what was read: the end of the epoch asked for, and if the
  // leader never had that epoch (it answers an older one), no further than where this consumer
  // began reading it. No epoch at all that old: every record is newer, reset by policy.
  int64_t agreed = p.end_offset;
  if (p.leader_epoch >= 0 && p.leader_epoch < e.last_batch && e.last_batch_from >= 0) agreed = std::min(agreed, e.last_batch_from);
  if (p.end_offset < 0) {
    positions_[tp] = -1;  // resolve_positions() resets it (and logs the move) next poll
  } else if (agreed < pos) {
    cluster_.rt().log(LogLevel::info, tp.topic + "-" + std::to_string(tp.partition) + ": log truncated below the position (" +
                                          std::to_string(pos) + " -> " + std::to_string(agreed) + ")");
    move(tp, agreed, "log truncation detected (KIP-320)");
  }
  e.fetched_under = epoch;
  return true;
}

Status Consumer::fetch_once(Deadline deadline, std::vector<ConsumedRecord>& out) {
  std::map<int32_t, FetchRequest> by_leader;
  // Each Fetch starts one partition further on (KIP-74's rotation), so that a response filled
  // up to max_bytes by the first partitions does not leave the same ones out every time.
  std::vector<std::pair<TopicPartition, int64_t>> order(positions_.begin(), positions_.end());
  if (!order.empty()) {
    std::rotate(order.begin(), order.begin() + static_cast<ptrdiff_t>(fetch_rotation_ % order.size()), order.end());
  }
  ++fetch_rotation_;
  for (const auto& [tp, pos] : order) {
    if (pos < 0) continue;  // not resolved yet
    if (dropped_last_ && tp == positions_.rbegin()->first) continue;
    int32_t leader = 0;
    SAMSA_TRY_ASSIGN(leader, cluster_.leader(tp.topic, tp.partition));
    const int32_t epoch = cluster_.leader_epoch(tp.topic, tp.partition);
    if (epoch != epochs_[tp].fetched_under && !validate_position(tp, leader, epoch)) continue;
    if (positions_[tp] < 0) continue;  // validation found nothing to keep: reset first
    FetchRequest& req = by_leader[leader];
    auto topic = std::find_if(req.topics.begin(), req.topics.end(), [&](const auto& t) { return t.topic == tp.topic; });
    if (topic == req.topics.end()) topic = req.topics.insert(req.topics.end(), {.topic = tp.topic});
    // Legal: a partition budget of one byte still gets one whole batch.
    const int32_t budget = cluster_.rt().buggify("consumer.tiny_fetch") ? 1 : config_.max_partition_fetch_bytes;
    topic->partitions.push_back({.partition = tp.partition, .current_leader_epoch = epoch, .fetch_offset = positions_[tp],
                                            .partition_max_bytes = budget});
  }
  // Every partition waits (no leader, a validation to retry): the caller backs off, it must not spin.
  if (by_leader.empty()) return Errc::unavailable;
  bool stale_metadata = false;
  for (auto& [leader, req] : by_leader) {
    Connection* c = nullptr;
    SAMSA_TRY_ASSIGN(c, cluster_.node(leader));
    std::optional<int16_t> v = c->version(ApiKey::fetch, 12);
    if (!v || *v < 4) return Errc::invalid_argument;  // RecordBatch v2 needs Fetch v4
    const int64_t left_ms = std::max<int64_t>(0, to_ms(deadline.at - cluster_.rt().now()));
    req.max_wait_ms = static_cast<int32_t>(std::min<int64_t>(config_.fetch_max_wait_ms, left_ms));
    req.min_bytes = config_.fetch_min_bytes;
    req.max_bytes = config_.fetch_max_bytes;
    Result<FetchResponse> resp = c->call<FetchRequest, FetchResponse>(ApiKey::fetch, *v, req, cluster_.rt().after(cluster_.config().request_timeout + std::chrono::milliseconds(req.max_wait_ms)));
    if (!resp.ok()) {
      cluster_.invalidate(leader);
      if (cluster_.rt().bug(Bug::client_consumer_rewind)) {
        for (auto& [tp, pos] : positions_) pos = pos > 0 ? pos - 1 : pos;  // silently: no move logged
      }
      dropped_last_ = dropped_last_ || cluster_.rt().bug(Bug::client_consumer_drop_partition);
      return resp.status();
    }
    for (const auto& t : resp->responses) {
      for (const auto& p : t.partitions) {
        if (p.error_code == code(Error::offset_out_of_range)) {
          positions_[{t.topic, p.partition_index}] = -1;  // reset by policy on the next poll
        } else if (p.error_code != 0) {
          stale_metadata = true;
        } else {
          take_records(t.topic, p.partition_index, p.records.data(), out);
        }
      }
    }
  }
  if (!stale_metadata) return Status{};
  // A leader moved (NOT_LEADER, FENCED_LEADER_EPOCH, ...): one refresh, then, as Kafka's
  // consumer waits retry.backoff.ms, the caller backs off instead of asking again at once; the
  // brokers' metadata may lag the controller, so an immediate retry would spin.
  (void)cluster_.metadata(std::nullopt, false);
  return out.empty() ? Status(Errc::unavailable) : Status{};
}

Result<std::vector<ConsumedRecord>> Consumer::poll(Duration timeout) {
  const Deadline deadline = cluster_.rt().after(timeout);
  std::vector<ConsumedRecord> out;
  corrupt_ = false;
  do {
    const Status resolved = resolve_positions();
    bool any = false;
    for (const auto& [tp, pos] : positions_) any = any || pos >= 0;
    if (!any && !resolved.ok()) return resolved;
    if (positions_.empty()) {
      SAMSA_TRY(cluster_.rt().sleep_until(deadline));
      break;
    }
    Status s = fetch_once(deadline, out);
    if (!s.ok() && out.empty()) {
      if (cluster_.rt().now() >= deadline.at) return s;
      SAMSA_TRY(cluster_.rt().sleep(std::chrono::milliseconds(100)));  // broker away: back off
    }
  } while (out.empty() && !corrupt_ && cluster_.rt().now() < deadline.at);
  if (out.empty() && corrupt_ && !config_.skip_corrupt_batches) return Errc::corrupt;
  return out;
}

}  // namespace samsa::client
