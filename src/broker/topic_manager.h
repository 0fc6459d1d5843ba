// TopicManager: the broker's topics and their partition logs in one log directory.
//
// Topic metadata (name, topic id, partition count, replication factor, per-topic config
// overrides) lives in `<log.dir>/__samsa_topics`, replaced atomically on every change, so it
// survives restarts and crashes. Each topic gets a random UUID at creation (from the runtime's
// randomness), also written into every partition directory as `partition.metadata` in Kafka's
// format (`version: 0`, `topic_id: <base64>`). Creating a topic persists the metadata first, then opens the logs; deleting persists
// first, then removes the directories (a crash in between leaves stray directories that open()
// removes). `meta.properties` records node and cluster ids, as Kafka's does.
//
// Threading: fibers of the broker's node. Creation and deletion serialise on a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/broker_config.h"
#include "broker/config_rules.h"
#include "log/partition_log.h"
#include "model/topic_partition.h"
#include "protocol/wire.h"
#include "protocol/errors.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::broker {

struct TopicInfo {
  std::string name;
  kafka::Uuid topic_id;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> configs;  // overrides only
};

// A config resource: a topic by name, or this broker (by id; its name is not checked here).
struct ConfigResource {
  bool broker = false;
  std::string name;
};

class TopicManager {
 public:
  static constexpr const char* kTopicsFile = "__samsa_topics";
  static constexpr int32_t kPartitionsMax = 10'000;  // per topic
  static constexpr size_t kTopicsMax = 10'000;
  // Descriptors kept for everything but partition logs (connections aside): checkpoint writes,
  // index writes, segments being read, the listener.
  static constexpr uint64_t kDescriptorsReserved = 64;

  // How many partitions this broker admits: max.partitions, or from the descriptor limit (one
  // descriptor per partition: its active segment), leaving room for max.connections.
  int64_t partitions_max() const;
  int64_t partition_count() const;
  static constexpr const char* kPartitionMetadataFile = "partition.metadata";

  TopicManager(Runtime& rt, const BrokerConfig& config);
  ~TopicManager();

  Status open();

  // Kafka's CreateTopics semantics; -1 partitions / replication factor mean the broker defaults.
  kafka::Error create(const std::string& name, int32_t partitions, int16_t replication_factor,
                      const std::map<std::string, std::string>& configs, bool validate_only, std::string* message);
  kafka::Error remove(const std::string& name);
  // KRaft: makes this broker's disk hold `wanted` as the metadata log describes it (its id,
  // partition count and config overrides): creates it, opens partitions added to it, takes new
  // configs, or replaces a same-named topic of another id (deleted and created again). Topics
  // are created here only by the metadata log, so no limit is checked but the image's own.
  Status adopt(const TopicInfo& wanted);
  // CreatePartitions: raises a topic's partition count (INVALID_PARTITIONS unless larger).
  kafka::Error add_partitions(const std::string& name, int32_t count, bool validate_only, std::string* message);
  // Replaces a topic's config overrides (or the broker's dynamic configs) with `configs`,
  // persisted before they apply; a topic's open logs take them at once.
  kafka::Error set_configs(const ConfigResource& resource, const std::map<std::string, std::string>& configs,
                           bool validate_only, std::string* message);
  // The overrides of a topic (nullptr: no such topic) or the broker's dynamic configs.
  const std::map<std::string, std::string>* configs_of(const ConfigResource& resource) const;

  const std::map<std::string, TopicInfo>& topics() const { return topics_; }
  const TopicInfo* find(const std::string& name) const;
  const TopicInfo* find_by_id(const kafka::Uuid& id) const;
  // Shared: a request in flight keeps the log alive while the topic is being deleted.
  // nullptr for an unknown partition, and for one whose log is offline (see partition()).
  std::shared_ptr<PartitionLog> log(const std::string& topic, int32_t partition) const;
  // The partition's log; Errc::not_found if the topic or partition does not exist,
  // Errc::unavailable while its log cannot be used (it failed to open, or a disk error took it
  // offline: maintain() reopens it, running recovery, with a growing backoff).
  Result<std::shared_ptr<PartitionLog>> partition(const std::string& topic, int32_t partition) const;
  const std::string& cluster_id() const { return cluster_id_; }

  // name -> (value, is_override) of every topic-level config, for DescribeConfigs.
  std::vector<std::pair<std::string, std::pair<std::string, bool>>> describe(const TopicInfo& t) const;
  int32_t min_insync_replicas(const TopicInfo& t) const;

  // A read of a file under some partition's directory failed: that log goes offline.
  void report_read_error(const std::string& path, Status cause);
  // Flush by flush.ms and retention; the broker's maintenance fiber calls it.
  void maintain(bool retention_due);
  // Flushes and checkpoints every log (clean shutdown).
  void checkpoint_all();

  static bool valid_topic_name(const std::string& name);

 private:
  kafka::Error remove_locked(const std::string& name);
  Status load_topics();
  Status save_topics(const std::map<std::string, TopicInfo>& topics);
  Status save_topics(const std::map<std::string, TopicInfo>& topics, const std::map<std::string, std::string>& broker);
  kafka::Error validate_configs(const std::map<std::string, std::string>& configs, bool broker, std::string* message) const;
  Status load_meta();
  Status open_logs(const TopicInfo& t);
  // POLICY_VIOLATION unless `more` partitions fit the budget.
  kafka::Error admit_partitions(int64_t more, std::string* message) const;
  // Undoes a creation whose logs could not all be opened: metadata back, directories gone.
  void roll_back_creation(const std::string& name, int32_t partitions);
  void reopen_failed_logs();
  Status write_partition_metadata(const TopicInfo& t, int32_t partition);
  // Replaces dir/name with `text` atomically (temporary file, fsync, rename, fsync of the dir).
  Status write_text_file(const std::string& dir, const std::string& name, const std::string& text);
  Status remove_stray_dirs();
  Status remove_dir_recursive(const std::string& dir);
  LogConfig log_config_for(const TopicInfo& t) const;
  kafka::Uuid new_topic_id();
  std::string partition_dir(const std::string& topic, int32_t partition) const;

  Runtime& rt_;
  const BrokerConfig& config_;
  Mutex mu_;
  std::string cluster_id_;
  std::map<std::string, TopicInfo> topics_;
  std::map<std::string, std::string> broker_configs_;  // dynamic broker configs (AlterConfigs)
  std::map<model::TopicPartition, std::shared_ptr<PartitionLog>> logs_;
  struct Failed {
    Instant retry_at{};
    Duration backoff{};
  };
  // Partitions whose log could not be opened or went offline: served as KAFKA_STORAGE_ERROR,
  // reopened later. One bad partition never keeps the broker from serving the others.
  std::map<model::TopicPartition, Failed> failed_;
  static constexpr Duration kReopenBackoffMin = std::chrono::seconds(1);
  static constexpr Duration kReopenBackoffMax = std::chrono::seconds(4);
};

}  // namespace samsa::broker
