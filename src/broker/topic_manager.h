// TopicManager: the single broker's topic metadata — what a KRaft cluster keeps in its metadata
// image, this broker keeps in `<log.dir>/__samsa_topics`: topics (name, topic id, partition
// count, replication factor, config overrides) and dynamic broker configs, replaced atomically
// on every change, so they survive restarts and crashes. Each topic gets a random UUID at
// creation (from the runtime's randomness). It asks the LogManager for the partition logs (which
// writes each partition's `partition.metadata`) and publishes every partition to the
// PartitionTable as led by this broker at epoch 0. Creating a topic persists the metadata first,
// then opens the logs; deleting persists first, then removes the directories (a crash in between
// leaves stray directories that open() removes). `meta.properties` records node and cluster ids,
// as Kafka's does. A broker of a KRaft cluster uses only open_meta() and the config of the broker.
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
#include "broker/topic_config.h"
#include "log/log_manager.h"
#include "log/partition_log.h"
#include "model/topic_partition.h"
#include "protocol/wire.h"
#include "protocol/errors.h"
#include "replication/partition.h"
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

  TopicManager(Runtime& rt, const BrokerConfig& config, LogManager& logs, replication::PartitionTable& partitions);
  ~TopicManager();

  // meta.properties only (node and cluster ids).
  Status open_meta();
  // The single broker, after open_meta(): the topics, their logs; stray directories removed.
  Status open();

  // Kafka's CreateTopics semantics; -1 partitions / replication factor mean the broker defaults.
  kafka::Error create(const std::string& name, int32_t partitions, int16_t replication_factor,
                      const std::map<std::string, std::string>& configs, bool validate_only, std::string* message);
  kafka::Error remove(const std::string& name);
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
  const std::string& cluster_id() const { return cluster_id_; }

  static bool valid_topic_name(const std::string& name);

 private:
  kafka::Error remove_locked(const std::string& name);
  Status load_topics();
  Status save_topics(const std::map<std::string, TopicInfo>& topics);
  Status save_topics(const std::map<std::string, TopicInfo>& topics, const std::map<std::string, std::string>& broker);
  kafka::Error validate_configs(const std::map<std::string, std::string>& configs, bool broker, std::string* message) const;
  // Opens every partition log of a topic (one that fails is retried by the LogManager and
  // answered KAFKA_STORAGE_ERROR meanwhile) and publishes the partitions; the first failure.
  Status open_logs(const TopicInfo& t);
  // POLICY_VIOLATION unless `more` partitions fit the budget.
  kafka::Error admit_partitions(int64_t more, std::string* message) const;
  // Undoes a creation whose logs could not all be opened: metadata back, directories gone.
  void roll_back_creation(const std::string& name, int32_t partitions);
  void drop_partitions(const std::string& name, int32_t partitions);
  kafka::Uuid new_topic_id();

  Runtime& rt_;
  const BrokerConfig& config_;
  LogManager& logs_;
  replication::PartitionTable& partitions_;
  Mutex mu_;
  std::string cluster_id_;
  std::map<std::string, TopicInfo> topics_;
  std::map<std::string, std::string> broker_configs_;  // dynamic broker configs (AlterConfigs)
};

}  // namespace samsa::broker
