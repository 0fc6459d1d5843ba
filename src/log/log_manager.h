// LogManager: which partition logs exist on this broker's disk, in one log directory — Kafka's
// LogManager. It knows nothing of topics' metadata: whoever holds that (the single broker's
// TopicManager, a cluster broker's metadata image, the group coordinator for its internal log)
// says which partitions it wants, with which topic id and settings, and the log manager opens,
// reconfigures, reopens and removes them.
//
// - A partition lives in `<log.dir>/<topic>-<partition>`, with Kafka's `partition.metadata`
//   (`version: 0`, `topic_id: <id>`) naming the topic id it belongs to, so a log of a deleted
//   topic is never mistaken for a new namesake's.
// - A log that cannot be opened, or that a disk error took offline, is retried with a growing
//   backoff by maintain() (recovery runs on reopen); meanwhile get() answers Errc::unavailable,
//   and the other partitions are served. Logs opened with `reopen = false` (an internal log
//   whose owner halts the broker instead) are left offline.
// - Under FailurePolicy::halt (a KRaft broker: Kafka halts a broker whose only log dir failed,
//   since a replica that lost unsynced data to a failed fsync must not go on serving as if in
//   sync) a log a disk error took offline, or whose open failed with one, is not reopened: it
//   marks the whole dir failed and the owner halts. (An open that failed otherwise is retried.)
// - Requests in flight hold a shared_ptr, so a removed or reopened log stays alive until they
//   finish.
//
// Threading: fibers of the broker's node. Calls that open or remove logs suspend (disk I/O); the
// map is only changed between suspensions, so lookups never see a half-made change.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log/log_config.h"
#include "log/partition_log.h"
#include "model/topic_partition.h"
#include "runtime/runtime.h"

namespace samsa {

class LogManager {
 public:
  static constexpr const char* kPartitionMetadataFile = "partition.metadata";
  static constexpr uint64_t kPartitionMetadataBytesMax = 4096;

  enum class FailurePolicy : uint8_t { reopen, halt };

  LogManager(Runtime& rt, std::string log_dir);
  ~LogManager();
  LogManager(const LogManager&) = delete;
  LogManager& operator=(const LogManager&) = delete;

  const std::string& log_dir() const { return log_dir_; }
  Status create_log_dir();

  // Opens the partition's log with `config` (or, when it is open already for the same topic id,
  // takes the new config), and makes partition.metadata name `topic_id` (empty: an internal log
  // with no topic id). A log open for another topic id, or a directory whose partition.metadata
  // names another id, is removed first: it is a deleted namesake's.
  // On failure the partition is retried by maintain() with the same id and config.
  Result<std::shared_ptr<PartitionLog>> open_log(const model::TopicPartition& tp, const std::string& topic_id,
                                                 const LogConfig& config, bool reopen = true);
  // Closes the log and deletes its directory (what cannot be deleted now is left for
  // remove_strays at the next start).
  Status remove_log(const model::TopicPartition& tp);
  // Deletes every `<name>-<n>` directory of the log dir that is neither open nor wanted.
  Status remove_strays(const std::function<bool(const model::TopicPartition&)>& wanted);

  // The open log; Errc::not_found when this broker holds no such partition, Errc::unavailable
  // while it is offline or failed to open.
  Result<std::shared_ptr<PartitionLog>> get(const model::TopicPartition& tp) const;
  // The open log, offline or not; nullptr when there is none.
  std::shared_ptr<PartitionLog> find(const model::TopicPartition& tp) const;
  // The topic id the partition was opened for (nullptr: not held here).
  const std::string* topic_id(const model::TopicPartition& tp) const;
  // How many times a partition's files were opened (and recovered): each open of a held
  // partition is one too many while another is under way.
  uint64_t opens() const { return opens_; }
  // Every partition held (opened, or waiting to be reopened).
  std::vector<model::TopicPartition> held() const;
  size_t size() const { return entries_.size(); }
  // Changes whenever a partition is added or removed or its log object is replaced: a caller
  // may keep what get() or find() gave it for as long as this stays the same.
  uint64_t version() const { return version_; }

  // Before any log is opened.
  void set_failure_policy(FailurePolicy policy) { policy_ = policy; }
  // Under FailurePolicy::halt: a disk error took a log offline or failed an open; the owner must
  // halt. Names the first such partition.
  const std::optional<model::TopicPartition>& failed_partition() const { return failed_; }
  // Whether a failure may have lost writes a log had acknowledged (a failed segment fsync, or a
  // failed open, whose recovery's fsyncs may be what failed), not only refused new ones: the
  // first failure or any log since, noted or not yet (a log may fail while the owner halts on
  // another error: cluster --cluster-brokers 3 --send-rate 1 --seed 6).
  bool failed_with_loss() const;
  // A read of a file under some partition's directory failed: that log goes offline.
  void report_read_error(const std::string& path, Status cause);
  // Reopens failed logs that are due, then flush.ms and (when due) retention on every log.
  void maintain(bool retention_due);
  // Flushes and checkpoints every log (clean shutdown).
  void checkpoint_all();

  std::string partition_dir(const model::TopicPartition& tp) const;
  // Replaces dir/name with `text` atomically (temporary file, fsync, rename, fsync of the dir).
  Status replace_file(const std::string& dir, const std::string& name, const std::string& text);

 private:
  struct Entry {
    std::string topic_id;
    LogConfig config;
    bool reopen = true;
    std::shared_ptr<PartitionLog> log;  // nullptr while it failed to open, or is opening
    // An open is under way (it suspends): nobody else may open the directory meanwhile, since
    // each open's recovery cuts the files to what it validated, under the other's writes.
    bool opening = false;
    Instant retry_at{};
    Duration backoff{};
  };
  uint64_t opens_ = 0;
  uint64_t version_ = 0;
  FailurePolicy policy_ = FailurePolicy::reopen;
  std::optional<model::TopicPartition> failed_;
  bool failed_with_loss_ = false;
  Instant high_watermarks_checkpointed_at_{};
  static constexpr Duration kHighWatermarkCheckpointInterval = std::chrono::seconds(5);  // Kafka's default
  static constexpr Duration kReopenBackoffMin = std::chrono::seconds(1);
  static constexpr Duration kReopenBackoffMax = std::chrono::seconds(4);

  // The topic id the directory's partition.metadata names (nullopt: none or unreadable).
  std::optional<std::string> topic_id_on_disk(const model::TopicPartition& tp) const;
  Status write_partition_metadata(const model::TopicPartition& tp, const std::string& topic_id);
  Status remove_dir_recursive(const std::string& dir);
  void reopen_failed_logs();
  void note_failed_open(const model::TopicPartition& tp, Errc error);
  void schedule_reopen(Entry& e, bool first);

  Runtime& rt_;
  std::string log_dir_;
  std::map<model::TopicPartition, Entry> entries_;
};

// Parses "topic-3" into a TopicPartition (nullopt for anything else).
std::optional<model::TopicPartition> parse_partition_dir(const std::string& name);

}  // namespace samsa
