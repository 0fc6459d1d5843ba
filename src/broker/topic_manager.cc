#include "broker/topic_manager.h"

#include <fmt/format.h>

#include <charconv>

#include "broker/config_rules.h"
#include "log/checkpoint_file.h"
#include "runtime/log.h"
#include "util/strings.h"

namespace samsa::broker {

namespace {

// Percent-encodes spaces and '%' so that a config value fits one whitespace-separated field.
std::string encode_field(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == ' ' || ch == '%' || ch == '\n' || ch == '\t') out += fmt::format("%{:02X}", static_cast<unsigned char>(ch));
    else out += ch;
  }
  return out.empty() ? "%" : out;  // a lone '%' stands for the empty string
}

std::string decode_field(const std::string& s) {
  if (s == "%") return {};
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_ws(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string::npos) j = line.size();
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

TopicManager::TopicManager(Runtime& rt, const BrokerConfig& config, LogManager& logs, replication::PartitionTable& partitions)
    : rt_(rt), config_(config), logs_(logs), partitions_(partitions), mu_(rt) {}
TopicManager::~TopicManager() = default;

bool TopicManager::valid_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status TopicManager::open() {
  SAMSA_TRY(load_topics());
  SAMSA_TRY(logs_.remove_strays([&](const model::TopicPartition& tp) {
    const TopicInfo* t = find(tp.topic);
    return t != nullptr && tp.partition < t->partitions;
  }));
  for (const auto& [name, t] : topics_) (void)open_logs(t);  // failures are retried by the LogManager
  return Status{};
}

Status TopicManager::open_meta() {
  SAMSA_TRY(logs_.create_log_dir());
  Result<std::vector<std::byte>> data = read_file(rt_, config_.log_dir + "/meta.properties", 64 * 1024);
  if (data.ok()) {
    std::string text(reinterpret_cast<const char*>(data->data()), data->size());
    size_t at = text.find("cluster.id=");
    if (at != std::string::npos) {
      size_t end = text.find('\n', at);
      cluster_id_ = text.substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11);
    }
    if (!cluster_id_.empty()) return Status{};
  }
  cluster_id_ = fmt::format("samsa-{:016x}", rt_.random_u64());
  return logs_.replace_file(config_.log_dir, "meta.properties",
                         fmt::format("version=1\nnode.id={}\ncluster.id={}\n", config_.node_id, cluster_id_));
}

Status TopicManager::load_topics() {
  Result<std::vector<std::string>> lines = read_checkpoint(rt_, config_.log_dir, kTopicsFile);
  if (lines.error() == Errc::not_found) return Status{};
  if (!lines.ok()) return lines.status();
  bool missing_ids = false;
  for (const std::string& line : *lines) {
    std::vector<std::string> f = split_ws(line);
    int64_t partitions = 0, rf = 0;
    if ((f.size() == 4 || f.size() == 5) && f[0] == "topic" && parse_int(f[2], &partitions) && parse_int(f[3], &rf) &&
        valid_topic_name(f[1]) && partitions > 0 && partitions <= kPartitionsMax) {
      TopicInfo t{.name = f[1], .partitions = static_cast<int32_t>(partitions), .replication_factor = static_cast<int16_t>(rf)};
      std::optional<kafka::Uuid> id = f.size() == 5 ? kafka::Uuid::parse(f[4]) : std::nullopt;
      if (f.size() == 5 && !id) {
        logf(rt_, LogLevel::error, "{}/{}: bad topic id in '{}'", config_.log_dir, kTopicsFile, line);
        return Errc::corrupt;
      }
      t.topic_id = id ? *id : new_topic_id();  // written before topic ids existed
      missing_ids = missing_ids || !id;
      topics_[f[1]] = std::move(t);
    } else if (f.size() == 4 && f[0] == "config" && topics_.count(f[1]) != 0) {
      topics_[f[1]].configs[decode_field(f[2])] = decode_field(f[3]);
    } else if (f.size() == 3 && f[0] == "broker-config") {
      broker_configs_[decode_field(f[1])] = decode_field(f[2]);
    } else {
      logf(rt_, LogLevel::error, "{}/{}: malformed line '{}'", config_.log_dir, kTopicsFile, line);
      return Errc::corrupt;
    }
  }
  return missing_ids ? save_topics(topics_) : Status{};
}

kafka::Uuid TopicManager::new_topic_id() {
  const uint64_t hi = rt_.random_u64();
  return kafka::Uuid::from_random(hi, rt_.random_u64());
}

Status TopicManager::save_topics(const std::map<std::string, TopicInfo>& topics) { return save_topics(topics, broker_configs_); }

Status TopicManager::save_topics(const std::map<std::string, TopicInfo>& topics, const std::map<std::string, std::string>& broker) {
  std::vector<std::string> lines;
  for (const auto& [k, v] : broker) lines.push_back(fmt::format("broker-config {} {}", encode_field(k), encode_field(v)));
  for (const auto& [name, t] : topics) {
    lines.push_back(fmt::format("topic {} {} {} {}", name, t.partitions, t.replication_factor, t.topic_id.to_string()));
    for (const auto& [k, v] : t.configs) lines.push_back(fmt::format("config {} {} {}", name, encode_field(k), encode_field(v)));
  }
  return write_checkpoint(rt_, config_.log_dir, kTopicsFile, lines);
}

Status TopicManager::open_logs(const TopicInfo& t) {
  Status first = Status{};
  const std::string id = t.topic_id.to_string();
  const LogConfig log_config = topic_log_config(config_, t.configs);
  const model::BrokerId self{config_.node_id};
  for (int32_t p = 0; p < t.partitions; ++p) {
    Result<std::shared_ptr<PartitionLog>> log = logs_.open_log({t.name, p}, id, log_config);
    if (!log.ok() && first.ok()) first = log.status();
    partitions_.put({t.name, p}, replication::PartitionState{.topic_id = id, .leader = self, .replicas = {self.value},
                                                             .isr = {self.value},
                                                             .min_insync_replicas = topic_min_insync_replicas(config_, t.configs)});
  }
  return first;
}

void TopicManager::drop_partitions(const std::string& name, int32_t partitions) {
  for (int32_t p = 0; p < partitions; ++p) {
    partitions_.remove({name, p});
    (void)logs_.remove_log({name, p});  // what is left is removed at the next start
  }
}

const TopicInfo* TopicManager::find(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicInfo* TopicManager::find_by_id(const kafka::Uuid& id) const {
  if (id.is_zero()) return nullptr;
  for (const auto& [name, t] : topics_) {
    if (t.topic_id == id) return &t;
  }
  return nullptr;
}

kafka::Error TopicManager::create(const std::string& name, int32_t partitions, int16_t replication_factor,
                                  const std::map<std::string, std::string>& configs, bool validate_only,
                                  std::string* message) {
  using kafka::Error;
  if (!valid_topic_name(name)) {
    *message = "Topic name \"" + name + "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
    return Error::invalid_topic_exception;
  }
  if (name == "__consumer_offsets" || name == "__cluster_metadata") {
    // Their directories belong to the group coordinator's log and to the metadata quorum.
    *message = "Topic '" + name + "' is an internal topic and cannot be created";
    return Error::invalid_request;
  }
  if (partitions == -1) partitions = config_.num_partitions;
  if (replication_factor == -1) replication_factor = config_.default_replication_factor;
  if (partitions <= 0 || partitions > kPartitionsMax) {
    *message = "Number of partitions must be larger than 0.";
    return Error::invalid_partitions;
  }
  if (replication_factor <= 0) {
    *message = "Replication factor must be larger than 0.";
    return Error::invalid_replication_factor;
  }
  if (replication_factor > 1) {  // one broker: samsa has no replication yet
    *message = fmt::format("Replication factor: {} larger than available brokers: 1.", replication_factor);
    return Error::invalid_replication_factor;
  }
  if (Error e = validate_configs(configs, /*broker=*/false, message); e != Error::none) return e;
  if (!mu_.lock(Deadline::never()).ok()) return Error::request_timed_out;  // cancelled
  LockGuard guard(mu_);
  if (topics_.count(name) != 0) {
    *message = "Topic '" + name + "' already exists.";
    return Error::topic_already_exists;
  }
  if (topics_.size() >= kTopicsMax) {
    *message = fmt::format("This broker holds its limit of {} topics", kTopicsMax);
    return Error::policy_violation;
  }
  if (Error e = admit_partitions(partitions, message); e != Error::none) return e;
  if (validate_only) return Error::none;
  TopicInfo t{.name = name, .topic_id = new_topic_id(), .partitions = partitions, .replication_factor = replication_factor,
              .configs = configs};
  std::map<std::string, TopicInfo> next = topics_;
  next[name] = t;
  if (Status s = save_topics(next); !s.ok()) {
    *message = std::string("cannot persist topic metadata: ") + s.name();
    return Error::kafka_storage_error;
  }
  topics_ = std::move(next);
  if (Status s = open_logs(t); !s.ok()) {
    roll_back_creation(name, partitions);
    *message = std::string("cannot create the partition logs (the creation was rolled back): ") + s.name();
    return Error::kafka_storage_error;
  }
  logf(rt_, LogLevel::info, "created topic {} with {} partitions", name, partitions);
  return Error::none;
}

int64_t TopicManager::partition_count() const {
  int64_t n = 0;
  for (const auto& [name, t] : topics_) n += t.partitions;
  return n;
}

int64_t TopicManager::partitions_max() const {
  if (config_.max_partitions > 0) return config_.max_partitions;
  const uint64_t fds = rt_.open_files_max();
  const uint64_t reserved = std::min<uint64_t>(static_cast<uint64_t>(config_.max_connections), fds / 2) + kDescriptorsReserved;
  return fds > reserved ? static_cast<int64_t>(fds - reserved) : 0;
}

kafka::Error TopicManager::admit_partitions(int64_t more, std::string* message) const {
  const int64_t have = partition_count(), limit = partitions_max();
  if (have + more <= limit) return kafka::Error::none;
  *message = fmt::format("{} more partitions would exceed this broker's limit of {} (it holds {}; max.partitions, or the "
                         "file descriptor limit {} less max.connections)",
                         more, limit, have, rt_.open_files_max());
  return kafka::Error::policy_violation;
}

void TopicManager::roll_back_creation(const std::string& name, int32_t partitions) {
  std::map<std::string, TopicInfo> previous = topics_;
  previous.erase(name);
  if (!save_topics(previous).ok()) {
    logf(rt_, LogLevel::error, "creating {} failed and its metadata could not be rolled back; removed at the next start", name);
  }
  topics_ = std::move(previous);
  drop_partitions(name, partitions);
}

kafka::Error TopicManager::validate_configs(const std::map<std::string, std::string>& configs, bool broker,
                                            std::string* message) const {
  for (const auto& [k, v] : configs) {
    std::optional<std::string> bad = broker ? check_dynamic_broker_config(k, v) : check_topic_config(k, v);
    if (bad) {
      *message = std::move(*bad);
      return kafka::Error::invalid_config;
    }
  }
  return kafka::Error::none;
}

kafka::Error TopicManager::add_partitions(const std::string& name, int32_t count, bool validate_only, std::string* message) {
  using kafka::Error;
  if (!mu_.lock(Deadline::never()).ok()) return Error::request_timed_out;  // cancelled
  LockGuard guard(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    *message = "Topic '" + name + "' does not exist.";
    return Error::unknown_topic_or_partition;
  }
  if (count <= it->second.partitions || count > kPartitionsMax) {
    *message = count <= it->second.partitions
                   ? fmt::format("Topic currently has {} partitions, which is higher than the requested {}.", it->second.partitions, count)
                   : fmt::format("Number of partitions must be at most {}.", kPartitionsMax);
    return Error::invalid_partitions;
  }
  if (Error e = admit_partitions(count - it->second.partitions, message); e != Error::none) return e;
  if (validate_only) return Error::none;
  std::map<std::string, TopicInfo> next = topics_;
  next[name].partitions = count;
  if (Status s = save_topics(next); !s.ok()) {
    *message = std::string("cannot persist topic metadata: ") + s.name();
    return Error::kafka_storage_error;
  }
  topics_ = std::move(next);
  if (Status s = open_logs(topics_.at(name)); !s.ok()) {
    *message = std::string("cannot create the partition logs: ") + s.name();
    return Error::kafka_storage_error;
  }
  logf(rt_, LogLevel::info, "topic {} now has {} partitions", name, count);
  return Error::none;
}

kafka::Error TopicManager::set_configs(const ConfigResource& resource, const std::map<std::string, std::string>& configs,
                                       bool validate_only, std::string* message) {
  using kafka::Error;
  const bool broker = resource.broker;
  if (Error e = validate_configs(configs, broker, message); e != Error::none) {
    return e;
  }
  if (!mu_.lock(Deadline::never()).ok()) return Error::request_timed_out;  // cancelled
  LockGuard guard(mu_);
  if (!broker && topics_.count(resource.name) == 0) {
    *message = "Topic " + resource.name + " does not exist";
    return Error::unknown_topic_or_partition;
  }
  if (validate_only) return Error::none;
  std::map<std::string, TopicInfo> next = topics_;
  std::map<std::string, std::string> next_broker = broker_configs_;
  (broker ? next_broker : next[resource.name].configs) = configs;
  if (Status s = save_topics(next, next_broker); !s.ok()) {
    *message = std::string("cannot persist configs: ") + s.name();
    return Error::kafka_storage_error;
  }
  topics_ = std::move(next);
  broker_configs_ = std::move(next_broker);
  if (!broker) (void)open_logs(topics_.at(resource.name));  // the open logs take the new settings
  return Error::none;
}

const std::map<std::string, std::string>* TopicManager::configs_of(const ConfigResource& resource) const {
  if (resource.broker) return &broker_configs_;
  const TopicInfo* t = find(resource.name);
  return t != nullptr ? &t->configs : nullptr;
}

kafka::Error TopicManager::remove(const std::string& name) {
  if (!mu_.lock(Deadline::never()).ok()) return kafka::Error::request_timed_out;  // cancelled
  LockGuard guard(mu_);
  return remove_locked(name);
}

kafka::Error TopicManager::remove_locked(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return kafka::Error::unknown_topic_or_partition;
  std::map<std::string, TopicInfo> next = topics_;
  next.erase(name);
  if (!save_topics(next).ok()) return kafka::Error::kafka_storage_error;
  const int32_t partitions = it->second.partitions;
  topics_ = std::move(next);
  drop_partitions(name, partitions);
  logf(rt_, LogLevel::info, "deleted topic {}", name);
  return kafka::Error::none;
}

}  // namespace samsa::broker
