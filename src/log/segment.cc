#include "log/segment.h"

#include <algorithm>
#include <cstdio>

#include "runtime/log.h"
#include "util/endian.h"

namespace samsa {

namespace {
constexpr uint64_t kIndexEntryBytes = 8;
constexpr uint64_t kTimeEntryBytes = 12;
}  // namespace

std::string Segment::file_name(const std::string& dir, int64_t base_offset, const char* suffix) {
  char name[32];
  std::snprintf(name, sizeof name, "%020lld", static_cast<long long>(base_offset));
  return dir + "/" + name + suffix;
}

Segment::Segment(Runtime& rt, std::string dir, int64_t base_offset, const LogConfig& config)
    : rt_(rt), dir_(std::move(dir)), base_offset_(base_offset), config_(config), next_offset_(base_offset) {}

Result<std::unique_ptr<Segment>> Segment::create(Runtime& rt, const std::string& dir, int64_t base_offset,
                                                 const LogConfig& config) {
  std::unique_ptr<Segment> s(new Segment(rt, dir, base_offset, config));
  std::unique_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, rt.open_file(file_name(dir, base_offset, ".log"), OpenMode::create));
  // A leftover of an earlier log at this base is cut; a new file is not. ext4 takes a truncate to
  // zero for a rewrite (auto_da_alloc) and writes the whole file back when it is closed: a
  // rolled 1 GiB segment held appends for a second or more.
  uint64_t size = 0;
  SAMSA_TRY_ASSIGN(size, log->size());
  if (size > 0) SAMSA_TRY(log->truncate(0));
  s->active_log_ = std::move(log);
  s->shared_log_ = s->active_log_;
  for (const char* suffix : {".index", ".timeindex"}) {  // a leftover of an earlier log at this base
    Status removed = rt.remove_file(file_name(dir, base_offset, suffix));
    if (!removed.ok() && removed.code() != Errc::not_found) return removed;
  }
  s->index_files_stale_ = false;
  return s;
}

Result<std::unique_ptr<Segment>> Segment::open(Runtime& rt, const std::string& dir, int64_t base_offset,
                                               const LogConfig& config, bool full_scan, SegmentRecoveryStats& stats) {
  std::unique_ptr<Segment> s(new Segment(rt, dir, base_offset, config));
  std::unique_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, rt.open_file(file_name(dir, base_offset, ".log"), OpenMode::read_write));
  s->active_log_ = std::move(log);
  s->shared_log_ = s->active_log_;
  SAMSA_TRY_ASSIGN(s->size_, s->active_log_->size());
  if (!full_scan) SAMSA_TRY(s->load_index(stats));
  if (s->index_.empty()) {
    stats.index_rebuilt = true;
    s->time_index_.clear();
    s->index_persisted_ = s->time_index_persisted_ = 0;
    s->index_files_stale_ = true;
  }
  const uint64_t from = s->index_.empty() ? 0 : s->index_.back().position;
  const int64_t expected = s->index_.empty() ? base_offset : s->index_.back().offset;
  SAMSA_TRY(s->scan_from(*s->active_log_, from, expected, stats));
  return s;
}

Result<std::shared_ptr<File>> Segment::log_file() {
  if (active_log_) return active_log_;
  if (std::shared_ptr<File> f = shared_log_.lock()) return f;
  std::unique_ptr<File> opened;
  SAMSA_TRY_ASSIGN(opened, rt_.open_file(file_name(dir_, base_offset_, ".log"), OpenMode::read_write));
  std::shared_ptr<File> f = std::move(opened);
  shared_log_ = f;
  return f;
}

Status Segment::activate() {
  std::shared_ptr<File> f;
  SAMSA_TRY_ASSIGN(f, log_file());
  active_log_ = std::move(f);
  return Status{};
}

// Reads a whole small file that may be missing (an index never written): empty then.
static Result<std::vector<std::byte>> read_optional(Runtime& rt, const std::string& path, uint64_t size_max) {
  Result<std::vector<std::byte>> data = read_file(rt, path, size_max);
  if (data.error() == Errc::not_found || data.error() == Errc::too_large) return std::vector<std::byte>{};
  return data;
}

Status Segment::load_index(SegmentRecoveryStats& stats) {
  const uint64_t entries_max = size_ / kBatchHeaderBytes + 1;  // bound before allocating
  std::vector<std::byte> raw;
  SAMSA_TRY_ASSIGN(raw, read_optional(rt_, file_name(dir_, base_offset_, ".index"), entries_max * kIndexEntryBytes));
  if (raw.size() % kIndexEntryBytes != 0) return Status{};  // rebuild
  for (uint64_t at = 0; at < raw.size(); at += kIndexEntryBytes) {
    IndexEntry e{base_offset_ + get_u32_be(&raw[at]), get_u32_be(&raw[at + 4])};
    const bool ordered = index_.empty() || (e.offset > index_.back().offset && e.position > index_.back().position);
    if (!ordered || e.position >= size_ || e.offset <= base_offset_) {
      index_.clear();
      return Status{};
    }
    index_.push_back(e);
  }
  if (!index_.empty()) {  // the last entry must point at the batch it names
    Result<BatchHeader> h = header_at(*active_log_, index_.back().position);
    if (!h.ok() || h->base_offset != index_.back().offset) {
      index_.clear();
      return Status{};
    }
  }
  index_persisted_ = index_.size();
  index_files_stale_ = false;
  stats.index_rebuilt = false;
  SAMSA_TRY(load_time_index());
  Result<BatchHeader> first = header_at(*active_log_, 0);
  if (first.ok()) first_batch_timestamp_ = first->max_timestamp;
  bytes_since_index_ = 0;
  return Status{};
}

// Time index: entries at the same index points; any inconsistency just drops it (it is only a
// hint: timestamp lookups scan batches anyway), and the file is rewritten at the next flush.
Status Segment::load_time_index() {
  std::vector<std::byte> raw;
  SAMSA_TRY_ASSIGN(raw, read_optional(rt_, file_name(dir_, base_offset_, ".timeindex"), (index_.size() + 1) * kTimeEntryBytes));
  for (uint64_t at = 0; raw.size() % kTimeEntryBytes == 0 && at < raw.size(); at += kTimeEntryBytes) {
    TimeEntry e{get_i64_be(&raw[at]), base_offset_ + get_u32_be(&raw[at + 8])};
    const bool ordered = time_index_.empty() || (e.timestamp > time_index_.back().timestamp && e.offset > time_index_.back().offset);
    // An entry with no index entry to match (an empty index: its file was cut while the time
    // index's was not yet) is inconsistent too.
    if (!ordered || index_.empty() || e.offset > index_.back().offset) {
      time_index_.clear();
      index_files_stale_ = true;
      break;
    }
    time_index_.push_back(e);
  }
  if (raw.size() != time_index_.size() * kTimeEntryBytes) index_files_stale_ = true;
  time_index_persisted_ = time_index_.size();
  if (!time_index_.empty()) max_timestamp_ = time_index_.back().timestamp;
  return Status{};
}

Status Segment::scan_from(File& log, uint64_t position, int64_t expected_offset, SegmentRecoveryStats& stats) {
  const uint64_t file_size = size_;
  size_ = position;  // header_at/note_batch see only what has been validated so far
  std::vector<std::byte> batch;
  uint64_t pos = position;
  next_offset_ = expected_offset;
  while (file_size - pos >= kBatchHeaderBytes) {
    std::byte head[kBatchHeaderBytes];
    size_t n = 0;
    SAMSA_TRY_ASSIGN(n, log.pread(pos, head));
    if (n != kBatchHeaderBytes) break;
    Result<BatchHeader> h = parse_batch_header(head);
    if (!h.ok() || h->base_offset != next_offset_ || h->total_bytes() > kBatchBytesReadMax ||
        h->total_bytes() > file_size - pos) {
      break;
    }
    batch.resize(h->total_bytes());
    SAMSA_TRY_ASSIGN(n, log.pread(pos, batch));
    const bool last = pos + h->total_bytes() == file_size;
    const bool trusted = last && rt_.bug(Bug::log_trust_unverified_tail);  // framing only
    if (n != batch.size() || (!trusted && !validate_batch(batch).ok())) break;
    note_batch(*h, pos);
    pos += h->total_bytes();
    size_ = pos;
    next_offset_ = h->next_offset();
    ++stats.batches_scanned;
  }
  if (pos < file_size && rt_.bug(Bug::log_keep_torn_tail)) {
    size_ = file_size;  // appends go after the torn bytes
    return Status{};
  }
  if (pos < file_size) {
    stats.bytes_truncated += file_size - pos;
    SAMSA_TRY(log.truncate(pos));
    SAMSA_TRY(log.sync());
  }
  size_ = pos;
  return Status{};
}

void Segment::note_batch(const BatchHeader& h, uint64_t position) {
  if (position == 0) first_batch_timestamp_ = h.max_timestamp;
  max_timestamp_ = std::max(max_timestamp_, h.max_timestamp);
  if (position > 0 && bytes_since_index_ >= config_.index_interval_bytes) {
    index_.push_back(IndexEntry{h.base_offset, static_cast<uint32_t>(position)});
    if (time_index_.empty() || max_timestamp_ > time_index_.back().timestamp) {
      time_index_.push_back(TimeEntry{max_timestamp_, h.base_offset});
    }
    bytes_since_index_ = 0;
  }
  bytes_since_index_ += h.total_bytes();
}

Status Segment::append(ConstBytes batches, const std::vector<BatchHeader>& headers) {
  SAMSA_ASSERT(!headers.empty() && headers.front().base_offset == next_offset_);
  SAMSA_ASSERT(size_ + batches.size() <= UINT32_MAX);  // positions are u32 in the index format
  SAMSA_ASSERT(active_log_ != nullptr);
  Status s = active_log_->pwrite(size_, batches);
  if (!s.ok()) {
    if (s.code() == Errc::no_space) (void)active_log_->truncate(size_);  // a partial write must not stay
    return s;
  }
  uint64_t pos = size_;
  for (const BatchHeader& h : headers) {
    note_batch(h, pos);
    pos += h.total_bytes();
    next_offset_ = h.next_offset();
  }
  SAMSA_ASSERT(pos == size_ + batches.size());
  size_ = pos;
  return Status{};
}

Result<BatchHeader> Segment::header_at(uint64_t position) {
  std::shared_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, log_file());
  return header_at(*log, position);
}

Result<BatchHeader> Segment::header_at(File& log, uint64_t position) {
  if (position + kBatchHeaderBytes > size_) return Errc::corrupt;
  std::byte head[kBatchHeaderBytes];
  size_t n = 0;
  SAMSA_TRY_ASSIGN(n, log.pread(position, head));
  if (n != kBatchHeaderBytes) return Errc::corrupt;
  Result<BatchHeader> h = parse_batch_header(head);
  if (!h.ok()) logf(rt_, LogLevel::debug, "{}: no batch header at {} of segment {}", dir_, position, base_offset_);
  return h;
}

Result<uint64_t> Segment::position_of(int64_t offset) {
  std::shared_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, log_file());
  return position_of(*log, offset);
}

Result<uint64_t> Segment::position_of(File& log, int64_t offset) {
  if (offset < base_offset_ || offset >= next_offset_) return Errc::out_of_range;
  auto it = std::upper_bound(index_.begin(), index_.end(), offset,
                             [](int64_t o, const IndexEntry& e) { return o < e.offset; });
  uint64_t pos = it == index_.begin() ? 0 : std::prev(it)->position;
  while (pos < size_) {
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(log, pos));
    if (h.last_offset() >= offset) return pos;
    pos += h.total_bytes();
  }
  return Errc::corrupt;  // the index or the file disagrees with next_offset_
}

Result<uint64_t> Segment::position_for_timestamp(int64_t timestamp) {
  if (max_timestamp_ < timestamp) return Errc::not_found;
  std::shared_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, log_file());
  // Start at the index point before the first one whose running max reaches the timestamp.
  auto it = std::lower_bound(time_index_.begin(), time_index_.end(), timestamp,
                             [](const TimeEntry& e, int64_t ts) { return e.timestamp < ts; });
  uint64_t pos = 0;
  if (it != time_index_.begin()) {
    SAMSA_TRY_ASSIGN(pos, position_of(*log, std::prev(it)->offset));
  }
  while (pos < size_) {
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(*log, pos));
    if (h.max_timestamp >= timestamp) return pos;
    pos += h.total_bytes();
  }
  return Errc::not_found;
}

Status Segment::write_index(const char* suffix, size_t persisted, bool cut, const std::vector<std::byte>& raw,
                            uint64_t entry_bytes, bool sync) {
  ++index_writes_;
  index_unsynced_ = true;  // until the sync below, or sync_index()
  std::unique_ptr<File> f;
  SAMSA_TRY_ASSIGN(f, rt_.open_file(file_name(dir_, base_offset_, suffix), OpenMode::create));
  if (cut) SAMSA_TRY(f->truncate(persisted * entry_bytes));
  if (!raw.empty()) SAMSA_TRY(f->pwrite(persisted * entry_bytes, raw));
  return sync ? f->sync() : Status{};
}

Status Segment::sync_index() {
  if (!index_unsynced_) return Status{};
  const uint64_t writes = index_writes_;
  for (const char* suffix : {".index", ".timeindex"}) {
    // read_write, not create: retention or a truncation may have removed the files meanwhile.
    Result<std::unique_ptr<File>> f = rt_.open_file(file_name(dir_, base_offset_, suffix), OpenMode::read_write);
    if (!f.ok() && f.error() == Errc::not_found) return Status{};
    if (!f.ok()) return f.error();
    SAMSA_TRY((*f)->sync());
  }
  if (index_writes_ == writes) index_unsynced_ = false;
  return Status{};
}

Status Segment::flush() {
  std::shared_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, log_file());
  return log->sync();
}

Status Segment::flush_index(bool sync) {
  if (index_persisted_ == index_.size() && time_index_persisted_ == time_index_.size() && !index_files_stale_) {
    return sync ? sync_index() : Status{};
  }
  std::vector<std::byte> raw;
  for (size_t i = index_persisted_; i < index_.size(); ++i) {
    std::byte e[kIndexEntryBytes];
    put_u32_be(e, static_cast<uint32_t>(index_[i].offset - base_offset_));
    put_u32_be(e + 4, index_[i].position);
    raw.insert(raw.end(), e, e + kIndexEntryBytes);
  }
  SAMSA_TRY(write_index(".index", index_persisted_, index_files_stale_, raw, kIndexEntryBytes, sync));
  raw.clear();
  for (size_t i = time_index_persisted_; i < time_index_.size(); ++i) {
    std::byte e[kTimeEntryBytes];
    put_u64_be(e, static_cast<uint64_t>(time_index_[i].timestamp));
    put_u32_be(e + 8, static_cast<uint32_t>(time_index_[i].offset - base_offset_));
    raw.insert(raw.end(), e, e + kTimeEntryBytes);
  }
  SAMSA_TRY(write_index(".timeindex", time_index_persisted_, index_files_stale_, raw, kTimeEntryBytes, sync));
  index_persisted_ = index_.size();
  time_index_persisted_ = time_index_.size();
  index_files_stale_ = false;
  if (sync) index_unsynced_ = false;
  return Status{};
}

Status Segment::truncate_to(int64_t offset) {
  if (offset >= next_offset_) return Status{};
  std::shared_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, log_file());
  uint64_t pos = 0;
  int64_t new_next = base_offset_;
  if (offset > base_offset_) {
    SAMSA_TRY_ASSIGN(pos, position_of(*log, offset));
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(*log, pos));
    new_next = h.base_offset;
  }
  SAMSA_TRY(log->truncate(pos));
  SAMSA_TRY(log->sync());
  while (!index_.empty() && index_.back().position >= pos) index_.pop_back();
  while (!time_index_.empty() && time_index_.back().offset >= new_next) time_index_.pop_back();
  if (index_persisted_ > index_.size() || time_index_persisted_ > time_index_.size()) index_files_stale_ = true;
  index_persisted_ = std::min(index_persisted_, index_.size());
  time_index_persisted_ = std::min(time_index_persisted_, time_index_.size());
  // Recompute the running state from the last index point.
  max_timestamp_ = time_index_.empty() ? -1 : time_index_.back().timestamp;
  if (pos == 0) first_batch_timestamp_ = -1;
  const uint64_t from = index_.empty() ? 0 : index_.back().position;
  size_ = pos;
  bytes_since_index_ = 0;
  for (uint64_t p = from; p < pos;) {
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(*log, p));
    max_timestamp_ = std::max(max_timestamp_, h.max_timestamp);
    bytes_since_index_ += h.total_bytes();
    p += h.total_bytes();
  }
  next_offset_ = new_next;
  return Status{};
}

Status Segment::remove_files() {
  for (const char* suffix : {".log", ".index", ".timeindex"}) {
    Status s = rt_.remove_file(file_name(dir_, base_offset_, suffix));
    if (!s.ok() && s.code() != Errc::not_found) return s;
  }
  return Status{};
}

}  // namespace samsa
