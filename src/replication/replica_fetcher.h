// ReplicaFetcher: the follower side of partition replication (Kafka's ReplicaFetcherThread).
// For each broker that leads some partition this broker follows, one fiber fetches from it
// with the follower's replica id: every followed partition from its log end, with its current
// leader epoch and the epoch of its last batch, and (Fetch v15, KIP-903) its broker epoch, with
// topics named by id where the leader speaks v13+. The answer's records are appended keeping the
// leader's offsets and epochs; a diverging epoch (KIP-279) truncates the log to where it and the
// leader's agree (never to the high watermark: KIP-101); an offset below the leader's log start
// restarts the log there; the follower's high watermark becomes min(the leader's, its log end).
//
// Contract: refresh() after every change of the partition table (the broker's metadata
// reconciliation calls it); a fiber whose leader no partition follows any more ends by itself.
// stop() before destruction, unless the node crashed (a destructor must not suspend).
//
// Threading: fibers of the broker's node.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "model/ids.h"
#include "protocol/messages.h"
#include "replication/partition.h"
#include "runtime/runtime.h"

namespace samsa::replication {

// How a follower reaches its leaders: the node implements it over client connections to the
// brokers' listeners (src/replication knows no sockets). fetch() may suspend; an error means the
// request had no answer (the connection broke, or the broker is unknown or unreachable now).
class LeaderChannel {
 public:
  virtual ~LeaderChannel() = default;
  virtual Result<kafka::FetchResponse> fetch(int32_t leader, kafka::FetchRequest& request, int16_t version,
                                             Deadline deadline) = 0;
};

class ReplicaFetcher {
 public:
  // v15: topic ids, ReplicaState (replica id and broker epoch), last fetched and diverging
  // epochs; the channel lowers it to what the leader serves.
  static constexpr int16_t kFetchVersion = 15;
  static constexpr int32_t kFetchMaxWaitMs = 500;
  static constexpr int32_t kPartitionBytesMax = 1 << 20;
  static constexpr int32_t kResponseBytesMax = 8 << 20;
  static constexpr Duration kRetryBackoff = std::chrono::milliseconds(200);
  static constexpr Duration kRequestTimeout = std::chrono::seconds(5);

  ReplicaFetcher(Runtime& rt, model::BrokerId self, PartitionTable& partitions, LeaderChannel& channel);
  ~ReplicaFetcher();
  ReplicaFetcher(const ReplicaFetcher&) = delete;
  ReplicaFetcher& operator=(const ReplicaFetcher&) = delete;

  void refresh();
  void stop();
  // The broker epoch of this broker's current registration, sent in every fetch (-1: none yet).
  void set_broker_epoch(int64_t epoch) { broker_epoch_ = epoch; }

  uint64_t records_copied() const { return records_copied_; }
  uint64_t truncations() const { return truncations_; }

 private:
  // What a fetch asked of a partition: its answer applies only if the partition is still so.
  struct Asked {
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch = -1;
    int64_t fetch_offset = -1;
  };

  void fetch_loop(int32_t leader);
  std::vector<std::shared_ptr<Partition>> followed(int32_t leader) const;
  // One Fetch to the leader for `partitions`; each answer applied. Not ok: no answer.
  Status fetch_once(int32_t leader, const std::vector<std::shared_ptr<Partition>>& partitions);
  // Takes the answer's records (moved into the log).
  void apply(Partition& partition, kafka::FetchResponse::Partition& answer);
  void apply_divergence(Partition& partition, PartitionLog& log, const kafka::FetchResponse::Partition& answer);
  void truncate_to_high_watermark(Partition& partition, PartitionLog& log);

  Runtime& rt_;
  model::BrokerId self_;
  PartitionTable& partitions_;
  LeaderChannel& channel_;
  std::map<int32_t, FiberId> fibers_;  // one per leader: at most the cluster's brokers
  // truncate-to-hw only: the leader epoch each partition was last started in (bounded by the
  // partitions this broker follows; never erased, as Kafka's fetcher state is not).
  std::map<model::TopicPartition, int32_t> started_epochs_;
  bool stopped_ = false;
  uint64_t records_copied_ = 0;
  uint64_t truncations_ = 0;
  int64_t broker_epoch_ = -1;
};

}  // namespace samsa::replication
