#include "log/log_manager.h"

#include <fmt/format.h>

#include <charconv>

#include "runtime/log.h"

namespace samsa {

std::optional<model::TopicPartition> parse_partition_dir(const std::string& name) {
  const size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= name.size()) return std::nullopt;
  int32_t p = 0;
  const char* first = name.data() + dash + 1;
  const char* last = name.data() + name.size();
  auto [end, ec] = std::from_chars(first, last, p);
  if (ec != std::errc{} || end != last || p < 0) return std::nullopt;
  return model::TopicPartition{name.substr(0, dash), p};
}

LogManager::LogManager(Runtime& rt, std::string log_dir) : rt_(rt), log_dir_(std::move(log_dir)) {}
LogManager::~LogManager() = default;

Status LogManager::create_log_dir() { return create_dirs(rt_, log_dir_); }

std::string LogManager::partition_dir(const model::TopicPartition& tp) const { return log_dir_ + "/" + tp.to_string(); }

Result<std::shared_ptr<PartitionLog>> LogManager::open_log(const model::TopicPartition& tp, const std::string& topic_id,
                                                           const LogConfig& config, bool reopen) {
  auto it = entries_.find(tp);
  if (it != entries_.end() && it->second.topic_id != topic_id) {
    logf(rt_, LogLevel::info, "{} belonged to topic id {}; replacing it", tp.to_string(), it->second.topic_id);
    SAMSA_TRY(remove_log(tp));
    it = entries_.end();
  }
  if (it != entries_.end()) {
    it->second.config = config;
    if (it->second.log == nullptr) return Errc::unavailable;  // maintain() reopens it
    it->second.log->set_config(config);
    return it->second.log;
  }
  if (!topic_id.empty()) {
    std::optional<std::string> on_disk = topic_id_on_disk(tp);
    if (on_disk && *on_disk != topic_id) {
      logf(rt_, LogLevel::info, "{} on disk belongs to topic id {}, not {}; removing it", tp.to_string(), *on_disk, topic_id);
      SAMSA_TRY(remove_dir_recursive(partition_dir(tp)));
    }
    if (entries_.count(tp) != 0) return Errc::not_found;  // opened meanwhile by another caller
  }
  entries_[tp] = Entry{.topic_id = topic_id, .config = config, .reopen = reopen, .opening = true};
  ++version_;
  ++opens_;
  Result<std::unique_ptr<PartitionLog>> log = PartitionLog::open(rt_, partition_dir(tp), config);
  // The open suspended: another caller may have removed or replaced the entry meanwhile.
  it = entries_.find(tp);
  if (it == entries_.end() || it->second.topic_id != topic_id || it->second.log != nullptr) return Errc::not_found;
  SAMSA_ASSERT(it->second.opening);
  it->second.opening = false;
  if (!log.ok()) {
    note_failed_open(tp, log.error());
    logf(rt_, LogLevel::error, "cannot open {}: {} (retrying; the other partitions are served)", tp.to_string(),
         errc_name(log.error()));
    schedule_reopen(it->second, true);
    return log.error();
  }
  std::shared_ptr<PartitionLog> opened = std::move(*log);
  it->second.log = opened;
  ++version_;
  if (!topic_id.empty()) SAMSA_TRY(write_partition_metadata(tp, topic_id));
  return opened;
}

// Under FailurePolicy::halt a disk error failing an open fails the dir; its recovery's fsyncs may
// be what failed, so writes may have been lost.
void LogManager::note_failed_open(const model::TopicPartition& tp, Errc error) {
  if (policy_ != FailurePolicy::halt || error != Errc::io_error || failed_) return;
  failed_ = tp;
  failed_with_loss_ = true;
}

bool LogManager::failed_with_loss() const {
  if (failed_with_loss_) return true;
  for (const auto& [tp, e] : entries_) {
    if (e.log != nullptr && e.log->sync_failed()) return true;
  }
  return false;
}

void LogManager::schedule_reopen(Entry& e, bool first) {
  e.backoff = first ? kReopenBackoffMin : std::min(e.backoff * 2, kReopenBackoffMax);
  e.retry_at = rt_.now() + e.backoff;
}

// Kafka's partition.metadata; rewritten when absent or naming another id.
Status LogManager::write_partition_metadata(const model::TopicPartition& tp, const std::string& topic_id) {
  const std::string dir = partition_dir(tp);
  const std::string text = fmt::format("version: 0\ntopic_id: {}\n", topic_id);
  Result<std::vector<std::byte>> current = read_file(rt_, dir + "/" + kPartitionMetadataFile, kPartitionMetadataBytesMax);
  if (current.ok() && std::string(reinterpret_cast<const char*>(current->data()), current->size()) == text) return Status{};
  if (current.ok()) logf(rt_, LogLevel::warn, "{}: {} names another topic id; rewriting", dir, kPartitionMetadataFile);
  return replace_file(dir, kPartitionMetadataFile, text);
}

Status LogManager::replace_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string tmp = dir + "/" + name + ".tmp";
  std::unique_ptr<File> f;
  SAMSA_TRY_ASSIGN(f, rt_.open_file(tmp, OpenMode::create));
  SAMSA_TRY(f->truncate(0));
  SAMSA_TRY(f->pwrite(0, std::as_bytes(std::span(text.data(), text.size()))));
  SAMSA_TRY(f->sync());
  SAMSA_TRY(rt_.rename(tmp, dir + "/" + name));
  return rt_.sync_dir(dir);
}

Status LogManager::remove_log(const model::TopicPartition& tp) {
  entries_.erase(tp);  // requests in flight keep the log alive until they finish
  ++version_;
  Status s = remove_dir_recursive(partition_dir(tp));
  if (!s.ok()) logf(rt_, LogLevel::warn, "deleting {}: {} (removed at next start)", tp.to_string(), s.name());
  return s;
}

Status LogManager::remove_strays(const std::function<bool(const model::TopicPartition&)>& wanted) {
  std::vector<std::string> names;
  SAMSA_TRY_ASSIGN(names, rt_.list_dir(log_dir_));
  for (const std::string& name : names) {
    std::optional<model::TopicPartition> tp = parse_partition_dir(name);
    if (!tp || entries_.count(*tp) != 0 || wanted(*tp)) continue;
    if (tp->topic.rfind("__cluster_metadata", 0) == 0) continue;  // the KRaft metadata log (src/raft's)
    logf(rt_, LogLevel::info, "removing {}, which no topic holds", name);
    SAMSA_TRY(remove_dir_recursive(log_dir_ + "/" + name));
  }
  return Status{};
}

Status LogManager::remove_dir_recursive(const std::string& dir) {
  std::vector<std::string> names;
  Result<std::vector<std::string>> listed = rt_.list_dir(dir);
  if (listed.error() == Errc::not_found) return Status{};
  SAMSA_TRY_ASSIGN(names, std::move(listed));
  for (const std::string& n : names) {
    Status s = rt_.remove_file(dir + "/" + n);
    if (!s.ok() && s.code() != Errc::not_found) return s;
  }
  SAMSA_TRY(rt_.remove_dir(dir));
  return rt_.sync_dir(log_dir_);
}

std::optional<std::string> LogManager::topic_id_on_disk(const model::TopicPartition& tp) const {
  Result<std::vector<std::byte>> data = read_file(rt_, partition_dir(tp) + "/" + kPartitionMetadataFile, kPartitionMetadataBytesMax);
  if (!data.ok()) return std::nullopt;
  const std::string text(reinterpret_cast<const char*>(data->data()), data->size());
  const size_t at = text.find("topic_id: ");
  if (at == std::string::npos) return std::nullopt;
  const size_t end = text.find('\n', at);
  return text.substr(at + 10, end == std::string::npos ? std::string::npos : end - at - 10);
}

Result<std::shared_ptr<PartitionLog>> LogManager::get(const model::TopicPartition& tp) const {
  auto it = entries_.find(tp);
  if (it == entries_.end()) return Errc::not_found;
  if (it->second.log == nullptr || it->second.log->offline()) return Errc::unavailable;
  return it->second.log;
}

std::shared_ptr<PartitionLog> LogManager::find(const model::TopicPartition& tp) const {
  auto it = entries_.find(tp);
  return it == entries_.end() ? nullptr : it->second.log;
}

const std::string* LogManager::topic_id(const model::TopicPartition& tp) const {
  auto it = entries_.find(tp);
  return it == entries_.end() ? nullptr : &it->second.topic_id;
}

std::vector<model::TopicPartition> LogManager::held() const {
  std::vector<model::TopicPartition> out;
  for (const auto& [tp, e] : entries_) out.push_back(tp);
  return out;
}

void LogManager::reopen_failed_logs() {
  std::vector<model::TopicPartition> due;
  for (auto& [tp, e] : entries_) {
    if (!e.reopen) continue;
    if (e.log != nullptr && e.log->offline() && policy_ == FailurePolicy::halt) {
      if (!failed_) {
        failed_ = tp;
        failed_with_loss_ = e.log->sync_failed();
      }
      continue;
    }
    if (e.log != nullptr && e.log->offline()) {
      e.log.reset();  // requests in flight keep the offline log alive until they finish
      ++version_;
      schedule_reopen(e, true);
    }
    if (e.log == nullptr && !e.opening && e.retry_at <= rt_.now()) due.push_back(tp);
  }
  for (const model::TopicPartition& tp : due) {
    auto it = entries_.find(tp);
    if (it == entries_.end() || it->second.log != nullptr || it->second.opening) continue;
    const LogConfig config = it->second.config;
    it->second.opening = true;
    ++opens_;
    Result<std::unique_ptr<PartitionLog>> log = PartitionLog::open(rt_, partition_dir(tp), config);
    it = entries_.find(tp);  // the open suspended
    if (it == entries_.end() || it->second.log != nullptr || !it->second.opening) continue;
    it->second.opening = false;
    if (log.ok()) {
      logf(rt_, LogLevel::info, "{} reopened", tp.to_string());
      it->second.log = std::move(*log);
      ++version_;
      if (!it->second.topic_id.empty()) (void)write_partition_metadata(tp, it->second.topic_id);
    } else {
      note_failed_open(tp, log.error());
      logf(rt_, LogLevel::warn, "{} still cannot be opened: {}", tp.to_string(), errc_name(log.error()));
      schedule_reopen(it->second, false);
    }
  }
}

void LogManager::maintain(bool retention_due) {
  reopen_failed_logs();
  std::vector<std::shared_ptr<PartitionLog>> logs;
  for (const auto& [tp, e] : entries_) {
    if (e.log != nullptr) logs.push_back(e.log);
  }
  const bool checkpoint_due = rt_.now() - high_watermarks_checkpointed_at_ >= kHighWatermarkCheckpointInterval;
  if (checkpoint_due) high_watermarks_checkpointed_at_ = rt_.now();
  for (const auto& log : logs) {
    (void)log->maybe_flush();
    if (retention_due) (void)log->apply_retention();
    if (checkpoint_due) (void)log->checkpoint_high_watermark();
  }
}

void LogManager::report_read_error(const std::string& path, Status cause) {
  for (const auto& [tp, e] : entries_) {
    if (e.log == nullptr) continue;
    const std::string& dir = e.log->dir();
    if (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/') {
      e.log->take_offline(cause);
      return;
    }
  }
}

void LogManager::checkpoint_all() {
  std::vector<std::shared_ptr<PartitionLog>> logs;
  for (const auto& [tp, e] : entries_) {
    if (e.log != nullptr) logs.push_back(e.log);
  }
  for (const auto& log : logs) {
    (void)log->checkpoint();
    (void)log->checkpoint_high_watermark();
  }
}

}  // namespace samsa
