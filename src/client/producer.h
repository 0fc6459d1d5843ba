// Producer: batches records per partition and sends them with Produce (v7 or the highest the
// broker supports), with acks 0/1/all and retries of retriable errors. Partitioning follows
// Kafka's default: murmur2 of the key, else round-robin.
//
// Use: send() queues (and flushes a partition's batch when it reaches batch_bytes); flush()
// sends everything queued and returns once every record is acknowledged or failed.
// Threading: fibers of one node; one fiber at a time.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/cluster.h"
#include "log/record_batch.h"
#include "model/topic_partition.h"
#include "protocol/errors.h"

namespace samsa::client {

struct ProducerConfig {
  int16_t acks = -1;
  size_t batch_bytes = 16 * 1024;
  int retries = 5;
  Duration retry_backoff = std::chrono::milliseconds(100);
  // Kafka's delivery.timeout.ms: no retry starts after this much time since flush() began, so
  // many retries ride through a leader failover (about broker.session.timeout.ms) but not forever.
  Duration delivery_timeout = std::chrono::seconds(120);
  Compression compression = Compression::none;
  // Told, as it happens, that a partition's batch is being sent again after an ambiguous
  // attempt (so it may land twice): a history that must survive the client crashing before
  // flush() returns records it here. Must not suspend.
  std::function<void(const std::string& topic, int32_t partition)> on_resend_after_ambiguous;
};

struct DeliveryReport {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;  // -1 with acks=0
  kafka::Error error = kafka::Error::none;
  // Some attempt ended without a definite answer (timeout, lost connection, storage error), so
  // the record may be in the log even if `error` is set, and may be there twice if it was sent
  // again. False with an error means the broker definitely did not append it.
  bool ambiguous = false;
  // It was sent again after an ambiguous attempt, so it may be in the log more than once.
  bool resent_after_ambiguous = false;
  int attempts = 0;
};

// Whether a produce error leaves it unknown whether the batch was appended. Besides timeouts and
// lost connections: NOT_ENOUGH_REPLICAS_AFTER_APPEND (appended, says so), and
// NOT_LEADER_OR_FOLLOWER, which an acks=all leader answers when it loses the leadership while
// waiting for its ISR, after appending: the new leader may well hold the batch (Kafka's
// DelayedProduce does the same, which is why a non-idempotent producer's retry can duplicate).
bool ambiguous_error(kafka::Error e);

// Kafka's murmur2 (seed 0x9747b28c) as its default partitioner uses it.
int32_t murmur2(ConstBytes data);
int32_t partition_for_key(ConstBytes key, int32_t partitions);

class Producer {
 public:
  Producer(Cluster& cluster, ProducerConfig config) : cluster_(cluster), config_(config) {}

  // partition -1: chosen by key (or round-robin). timestamp -1: now.
  Status send(const std::string& topic, int32_t partition, std::optional<ConstBytes> key, std::optional<ConstBytes> value,
              int64_t timestamp = -1, const std::vector<RecordHeader>& headers = {});
  Result<std::vector<DeliveryReport>> flush();
  size_t queued() const { return queued_; }

 private:
  struct Pending {
    BatchBuilder builder;
    size_t bytes = 0;
  };
  Result<std::vector<DeliveryReport>> send_batches(std::map<model::TopicPartition, Pending> batches);

  Cluster& cluster_;
  ProducerConfig config_;
  std::map<model::TopicPartition, Pending> pending_;
  std::map<std::string, int32_t> round_robin_;
  std::vector<DeliveryReport> done_;
  size_t queued_ = 0;
};

}  // namespace samsa::client
