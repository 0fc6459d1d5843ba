// Produce, Fetch and ListOffsets: the data path of RequestHandler.
#include <algorithm>

#include "broker/request_handler.h"
#include "log/record_batch.h"
#include "runtime/log.h"

namespace samsa::broker {

using namespace samsa::kafka;

namespace {

// Why a partition cannot be served: it does not exist, or its log is offline.

Error produce_error(Errc e) {
  switch (e) {
    case Errc::too_large: return Error::message_too_large;
    case Errc::corrupt:
    case Errc::invalid_argument: return Error::corrupt_message;
    case Errc::io_error:
    case Errc::no_space:
    case Errc::unavailable: return Error::kafka_storage_error;
    default: return Error::unknown_server_error;
  }
}
}  // namespace

ProduceResponse::Partition RequestHandler::produce_append(const std::string& topic, ProduceRequest::Partition& p, int16_t acks,
                                                         ProduceWait* wait) {
  ProduceResponse::Partition out;
  out.index = p.index;
  auto fail = [&](Error e) {
    out.error_code = code(e);
    return out;
  };
  std::shared_ptr<replication::Partition> partition;
  std::shared_ptr<PartitionLog> log;
  if (Error e = serving(topic, p.index, &partition, &log); e != Error::none) return fail(e);
  if (acks != 0 && acks != 1 && acks != -1) return fail(Error::invalid_required_acks);
  const ConstBytes records = p.records.data();
  if (p.records.null || records.size() < kBatchHeaderBytes) return fail(Error::corrupt_message);
  if (static_cast<int8_t>(records[batch_field::magic]) != kMagicV2) return fail(Error::unsupported_for_message_format);
  // acks=all needs min.insync.replicas in sync before the append, and the batch replicated to
  // the whole ISR (the high watermark past it) before the answer.
  if (acks == -1 && !partition->enough_in_sync()) return fail(Error::not_enough_replicas);
  const int32_t epoch = partition->leader_epoch().value;
  DurableWait durable;
  Result<AppendResult> r = rt_.bug(Bug::broker_interleave_appends) ? append_one_by_one(*log, records, epoch)
                                                                    : log->append(records, epoch, &durable);
  if (!r.ok()) {
    logf(rt_, LogLevel::debug, "produce to {}-{} failed: {}", topic, p.index, errc_name(r.error()));
    return fail(produce_error(r.error()));
  }
  if (r->records >= 5 && rt_.bug(Bug::broker_error_after_append)) return fail(Error::corrupt_message);
  (void)partition->advance_high_watermark();  // a lone replica's moves at once
  partition->appended();
  out.base_offset = r->base_offset;
  out.log_start_offset = log->log_start_offset();
  if (durable.needed() || acks == -1) *wait = ProduceWait{0, 0, partition, log, durable, r->last_offset, epoch, acks == -1};
  return out;
}

void RequestHandler::produce_finish(const ProduceWait& wait, Deadline deadline, ProduceResponse::Partition& out) {
  auto fail = [&](Error e) {  // as produce_append answers a failure: nothing but the error
    const int32_t index = out.index;
    out = ProduceResponse::Partition{};
    out.index = index;
    out.error_code = code(e);
  };
  if (wait.durable.needed()) {
    if (Status s = wait.log->wait_durable(wait.durable); !s.ok()) return fail(produce_error(s.code()));
    (void)wait.replica->advance_high_watermark();  // with flush.messages=1, only durable data counts
    wait.replica->appended();
  }
  if (wait.replicated) {
    const Status s = wait.replica->wait_for_high_watermark(wait.last_offset, model::LeaderEpoch{wait.epoch}, deadline);
    if (s.code() == Errc::cancelled) return fail(Error::request_timed_out);
    if (s.code() == Errc::timed_out) {
      return fail(wait.replica->enough_in_sync() ? Error::request_timed_out : Error::not_enough_replicas_after_append);
    }
    if (!s.ok()) return fail(Error::not_leader_or_follower);  // leadership moved: the client retries
  }
  out.log_start_offset = wait.log->log_start_offset();
}

// The planted interleave-appends bug: each batch of a record set takes the log on its own, so
// another producer's batch can land between them.
Result<AppendResult> RequestHandler::append_one_by_one(PartitionLog& log, ConstBytes record_set, int32_t epoch) {
  std::vector<ConstBytes> batches;
  SAMSA_TRY_ASSIGN(batches, split_batches(record_set, kBatchBytesReadMax));
  std::optional<AppendResult> total;
  for (ConstBytes b : batches) {
    Result<AppendResult> r = log.append(b, epoch);
    if (!r.ok()) return r;
    if (total) total->records += r->records; else total = *r;
    rt_.yield();
  }
  if (!total) return Errc::invalid_argument;
  return *total;
}

// Appends every partition's batches, then answers; when some wait (an fsync, replicas), the
// answer is deferred, so that this connection's next request is appended meanwhile and shares
// the fsync or the replication round. acks=0 has no answer to defer and waits here.
Response RequestHandler::produce(const RequestHeader& h, ProduceRequest& req) {
  ProduceResponse resp;
  const Deadline deadline = rt_.after(std::chrono::milliseconds(std::clamp(req.timeout_ms, 0, kProduceTimeoutMsMax)));
  std::vector<ProduceWait> waits;
  for (size_t t = 0; t < req.topics.size(); ++t) {
    ProduceResponse::Topic out{req.topics[t].name, {}};
    for (ProduceRequest::Partition& p : req.topics[t].partitions) {
      ProduceWait wait;
      out.partitions.push_back(produce_append(out.name, p, req.acks, &wait));
      if (wait.log == nullptr) continue;
      wait.topic = t;
      wait.partition = out.partitions.size() - 1;
      waits.push_back(std::move(wait));
    }
    resp.responses.push_back(std::move(out));
  }
  auto finish = [this, deadline](const std::vector<ProduceWait>& pending, ProduceResponse& answer) {
    for (const ProduceWait& w : pending) produce_finish(w, deadline, answer.responses[w.topic].partitions[w.partition]);
  };
  if (req.acks == 0) {
    finish(waits, resp);
    return Response::no_reply();
  }
  if (waits.empty()) return produce_reply(h, resp);
  return Response::deferred([this, h, finish, waits = std::move(waits), resp = std::move(resp)]() mutable {
    finish(waits, resp);
    return produce_reply(h, resp);
  });
}

Response RequestHandler::produce_reply(const RequestHeader& h, ProduceResponse& resp) {
  // Legal: the answer may come late (a slow network, a busy broker); the client's timeout decides.
  if (rt_.buggify("produce.delay_response") && !rt_.sleep(std::chrono::milliseconds(rt_.random_u64() % 500)).ok()) {
    return Response::close();
  }
  return make_reply(h, resp, h.api_version);
}

// Reads what each partition has from its fetch offset; returns the record bytes gathered.
// KIP-74: the response's max_bytes and each partition's limit hold, except that the first batch
// of the first partition with data is returned whole even when it is larger, so that a consumer
// can always make progress; later partitions get only batches that fit what is left.
uint64_t RequestHandler::fill_fetch(FetchRequest& req, FetchResponse& resp) {
  resp.responses.clear();
  uint64_t total = 0;
  // Legal: a budget of one byte still returns the first batch of the first partition with data.
  const uint64_t response_max = rt_.buggify("fetch.tiny_budget") ? 1 : req.max_bytes > 0 ? static_cast<uint64_t>(req.max_bytes) : 0;
  for (FetchRequest::Topic& t : req.topics) {
    FetchResponse::Topic out{.topic = t.topic, .topic_id = t.topic_id};
    for (FetchRequest::Partition& p : t.partitions) {
      FetchResponse::Partition part;
      part.partition_index = p.partition;
      part.aborted_transactions.emplace();
      if (t.topic.empty() && t.topic_id != Uuid{}) {  // v13+: an id no topic has (any more)
        part.error_code = code(Error::unknown_topic_id);
        out.partitions.push_back(std::move(part));
        continue;
      }
      std::shared_ptr<replication::Partition> partition;
      std::shared_ptr<PartitionLog> log;
      Error e = serving(t.topic, p.partition, &partition, &log, p.current_leader_epoch);
      // By id (v13+): the partition held under this name must be that topic's, not an older
      // topic of the same name that this broker has not yet replaced (KIP-516's point).
      if (e == Error::none && t.topic_id != Uuid{} && partition->topic_uuid() != t.topic_id) {
        e = Error::unknown_topic_id;
      }
      if (e != Error::none) {
        part.error_code = code(e);
        out.partitions.push_back(std::move(part));
        continue;
      }
      const bool follower = req.replica_id >= 0;
      if (follower && !follower_fetch(req.replica_id, req.replica_state.replica_epoch, *partition, *log, p, part)) {
        out.partitions.push_back(std::move(part));  // diverged or out of range: no records
        continue;
      }
      part.high_watermark = part.last_stable_offset = partition->high_watermark();
      part.log_start_offset = log->log_start_offset();
      const uint64_t budget = total >= response_max ? 0 : std::min<uint64_t>(response_max - total, static_cast<uint64_t>(std::max(p.partition_max_bytes, 0)));
      // Consumers read up to the high watermark; followers copy everything the leader has.
      const int64_t visible = follower || rt_.bug(Bug::broker_read_past_hw) ? log->log_end_offset() : partition->high_watermark();
      if (budget > 0) {
        Result<LogSlice> slice = log->read_slice(p.fetch_offset, budget, visible, /*at_least_one_batch=*/total == 0);
        if (!slice.ok()) {
          logf(rt_, LogLevel::debug, "fetch {}-{} at {} failed: {}", t.topic, p.partition, p.fetch_offset, errc_name(slice.error()));
          part.error_code = code(error_from(slice.error()));
        } else if (slice->length > 0) {
          part.records = RecordsField{false, {}, slice->file, slice->position, slice->length};
          total += slice->length;
        }
      } else if (p.fetch_offset < log->log_start_offset() || p.fetch_offset > log->log_end_offset()) {
        part.error_code = code(Error::offset_out_of_range);
      }
      out.partitions.push_back(std::move(part));
    }
    resp.responses.push_back(std::move(out));
  }
  return total;
}

bool RequestHandler::follower_fetch(int32_t replica_id, int64_t replica_epoch, replication::Partition& partition,
                                    PartitionLog& log, const FetchRequest::Partition& p, FetchResponse::Partition& part) {
  part.high_watermark = partition.high_watermark();
  part.log_start_offset = log.log_start_offset();
  const std::vector<int32_t>& replicas = partition.state().replicas;
  if (replica_id == config_.node_id || std::find(replicas.begin(), replicas.end(), replica_id) == replicas.end()) {
    part.error_code = code(Error::not_leader_or_follower);  // not a follower of this partition
    return false;
  }
  if (p.last_fetched_epoch >= 0) {
    // The largest epoch <= the follower's last, and where it ends in this log.
    // A follower's epoch older than every epoch here (its leader lost what it wrote then) ends
    // where this log's first epoch starts; the follower cuts its log there or lower.
    const std::pair<int32_t, int64_t> e = log.epochs()
                                              .end_offset_or_first_start(p.last_fetched_epoch, log.log_end_offset())
                                              .value_or(std::pair{p.last_fetched_epoch, log.log_start_offset()});
    // Before KIP-279 only the offsets were compared: a follower kept batches of an epoch this
    // log never had, below the end of the epoch this log has there.
    const bool naive = rt_.bug(Bug::replication_naive_epoch_answer);
    if ((!naive && e.first != p.last_fetched_epoch) || e.second < p.fetch_offset) {
      part.diverging_epoch = {.epoch = e.first, .end_offset = e.second};
      return false;
    }
  }
  if (p.fetch_offset < log.log_start_offset() || p.fetch_offset > log.log_end_offset()) {
    part.error_code = code(Error::offset_out_of_range);
    return false;
  }
  // What the follower asks from is what it holds: its log matches this one up to there.
  if (partition.record_follower_fetch(model::BrokerId{replica_id}, p.fetch_offset, replica_epoch)) partition.appended();
  return true;
}

Response RequestHandler::fetch(const RequestHeader& h, FetchRequest& req) {
  FetchResponse resp;
  // v15 (KIP-903): a follower names itself and its broker epoch in ReplicaState.
  if (h.api_version >= 15) req.replica_id = req.replica_state.replica_id;
  // v13+ (KIP-516): topics by id. An unknown id keeps an empty name and is answered
  // UNKNOWN_TOPIC_ID (fill_fetch).
  if (h.api_version >= 13) {
    for (FetchRequest::Topic& t : req.topics) t.topic = topic_name_by_id(t.topic_id).value_or("");
  }
  int32_t wait_ms = std::clamp(req.max_wait_ms, 0, kFetchMaxWaitMsMax);
  if (rt_.buggify("fetch.skip_long_poll")) wait_ms = 0;  // legal: an early, possibly empty answer
  const Deadline deadline = rt_.after(std::chrono::milliseconds(wait_ms));
  // Watched before the first read, so an append while a read suspends is never missed.
  replication::AppendWatch watch(rt_);
  if (wait_ms > 0) {
    for (const FetchRequest::Topic& t : req.topics) {
      for (const FetchRequest::Partition& p : t.partitions) {
        if (auto partition = partitions_.find({t.topic, p.partition})) watch.watch(std::move(partition));
      }
    }
  }
  for (;;) {
    watch.rearm();
    const uint64_t bytes = fill_fetch(req, resp);
    bool any_error = false;
    for (const auto& t : resp.responses) {
      for (const auto& p : t.partitions) any_error = any_error || p.error_code != 0;
    }
    if (bytes >= static_cast<uint64_t>(std::max(req.min_bytes, 1)) || any_error || rt_.now() >= deadline.at) break;
    // Long poll: wait for an append to one of these partitions (or the deadline), then read again.
    Status s = watch.wait(deadline);
    if (s.code() == Errc::cancelled) return Response::close();
    if (!s.ok()) {
      (void)fill_fetch(req, resp);
      break;
    }
    ++stats_.fetch_wakeups;
  }
  if (rt_.buggify("fetch.delay_response") && !rt_.sleep(std::chrono::milliseconds(rt_.random_u64() % 300)).ok()) {
    return Response::close();
  }
  return make_reply(h, resp, h.api_version);
}

Response RequestHandler::list_offsets(const RequestHeader& h, ListOffsetsRequest& req) {
  ListOffsetsResponse resp;
  for (const ListOffsetsRequest::Topic& t : req.topics) {
    ListOffsetsResponse::Topic out{.name = t.name};
    for (const ListOffsetsRequest::Partition& p : t.partitions) {
      std::shared_ptr<replication::Partition> partition;
      std::shared_ptr<PartitionLog> log;
      const Error serving_error = serving(t.name, p.partition_index, &partition, &log, p.current_leader_epoch);
      ListOffsetsResponse::Partition part = list_offset(log.get(), partition ? partition->high_watermark() : 0, p, h.api_version);
      if (serving_error != Error::none) {
        part.error_code = code(serving_error);
      } else if (p.timestamp != ListOffsetsRequest::kEarliest && partition->high_watermark() < partition->epoch_start_offset()) {
        part = {.partition_index = p.partition_index, .error_code = code(Error::offset_not_available)};
      }
      if (part.error_code == 0 && part.offset >= 0) part.leader_epoch = partition->leader_epoch().value;
      out.partitions.push_back(std::move(part));
    }
    resp.topics.push_back(std::move(out));
  }
  return make_reply(h, resp, h.api_version);
}

// Kafka's answer: the requested epoch, if it is this leader's, ends at the log end; an older
// one ends where the next epoch starts, answered with the largest epoch at or below it; one
// older than every epoch here ends where the first starts; a newer one is unknown (-1, -1).
Response RequestHandler::offset_for_leader_epoch(const RequestHeader& h, OffsetForLeaderEpochRequest& req) {
  OffsetForLeaderEpochResponse resp;
  for (const OffsetForLeaderEpochRequest::Topic& t : req.topics) {
    OffsetForLeaderEpochResponse::Topic out{.topic = t.topic};
    for (const OffsetForLeaderEpochRequest::Partition& p : t.partitions) {
      OffsetForLeaderEpochResponse::Partition part{.partition = p.partition};
      std::shared_ptr<replication::Partition> partition;
      std::shared_ptr<PartitionLog> log;
      if (Error e = serving(t.topic, p.partition, &partition, &log, p.current_leader_epoch); e != Error::none) {
        part.error_code = code(e);
        out.partitions.push_back(part);
        continue;
      }
      // This leader's own epoch is its latest even before its first append wrote it to the cache.
      const int32_t current = partition->leader_epoch().value;
      if (p.leader_epoch == current) {
        part.leader_epoch = current;
        part.end_offset = log->log_end_offset();
      } else if (p.leader_epoch >= 0 && p.leader_epoch < current) {
        const std::pair<int32_t, int64_t> e = log->epochs()
                                                  .end_offset_or_first_start(p.leader_epoch, log->log_end_offset())
                                                  .value_or(std::pair{p.leader_epoch, log->log_start_offset()});
        part.leader_epoch = e.first;
        part.end_offset = e.second;
      }
      out.partitions.push_back(part);
    }
    resp.topics.push_back(std::move(out));
  }
  return make_reply(h, resp, h.api_version);
}

ListOffsetsResponse::Partition RequestHandler::list_offset(PartitionLog* log, int64_t high_watermark,
                                                           const ListOffsetsRequest::Partition& p, int16_t version) {
  ListOffsetsResponse::Partition part;
  part.partition_index = p.partition_index;
  if (log == nullptr) {
    part.error_code = code(Error::unknown_topic_or_partition);
  } else if (p.timestamp == ListOffsetsRequest::kEarliest) {
    part.offset = log->log_start_offset();
  } else if (p.timestamp == ListOffsetsRequest::kLatest) {
    part.offset = high_watermark;
  } else if (p.timestamp == ListOffsetsRequest::kMaxTimestamp && version >= 7) {
    Result<std::optional<TimestampAndOffset>> m = log->max_timestamp_offset();
    if (!m.ok()) {
      part.error_code = code(error_from(m.error()));
    } else if (*m && (*m)->offset < high_watermark) {
      part.offset = (*m)->offset;
      part.timestamp = (*m)->timestamp;
    }
  } else {
    Result<int64_t> o = log->offset_for_timestamp(p.timestamp);
    if (!o.ok()) {
      part.error_code = code(error_from(o.error()));
    } else if (*o < high_watermark) {
      part.offset = *o;
      part.timestamp = p.timestamp;
    }
  }
  if (part.error_code == 0 && part.offset >= 0) part.old_style_offsets = {part.offset};
  return part;
}

}  // namespace samsa::broker
