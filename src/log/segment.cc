#include "log/segment.h"

#include <algorithm>
#include <cstdio>

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
  s->log_ = std::move(log);
  SAMSA_TRY_ASSIGN(s->index_file_, rt.open_file(file_name(dir, base_offset, ".index"), OpenMode::create));
  SAMSA_TRY_ASSIGN(s->time_index_file_, rt.open_file(file_name(dir, base_offset, ".timeindex"), OpenMode::create));
  SAMSA_TRY(s->log_->truncate(0));
  SAMSA_TRY(s->index_file_->truncate(0));
  SAMSA_TRY(s->time_index_file_->truncate(0));
  return s;
}

Result<std::unique_ptr<Segment>> Segment::open(Runtime& rt, const std::string& dir, int64_t base_offset,
                                               const LogConfig& config, bool full_scan, SegmentRecoveryStats& stats) {
  std::unique_ptr<Segment> s(new Segment(rt, dir, base_offset, config));
  std::unique_ptr<File> log;
  SAMSA_TRY_ASSIGN(log, rt.open_file(file_name(dir, base_offset, ".log"), OpenMode::read_write));
  s->log_ = std::move(log);
  SAMSA_TRY_ASSIGN(s->size_, s->log_->size());
  SAMSA_TRY_ASSIGN(s->index_file_, rt.open_file(file_name(dir, base_offset, ".index"), OpenMode::create));
  SAMSA_TRY_ASSIGN(s->time_index_file_, rt.open_file(file_name(dir, base_offset, ".timeindex"), OpenMode::create));
  if (!full_scan) SAMSA_TRY(s->load_index(stats));
  if (s->index_.empty()) {
    stats.index_rebuilt = true;
    s->time_index_.clear();
    SAMSA_TRY(s->index_file_->truncate(0));
    SAMSA_TRY(s->time_index_file_->truncate(0));
    s->index_persisted_ = s->time_index_persisted_ = 0;
  }
  const uint64_t from = s->index_.empty() ? 0 : s->index_.back().position;
  const int64_t expected = s->index_.empty() ? base_offset : s->index_.back().offset;
  SAMSA_TRY(s->scan_from(from, expected, stats));
  return s;
}

Status Segment::load_index(SegmentRecoveryStats& stats) {
  uint64_t bytes = 0;
  SAMSA_TRY_ASSIGN(bytes, index_file_->size());
  const uint64_t entries_max = size_ / kBatchHeaderBytes + 1;  // bound before allocating
  if (bytes % kIndexEntryBytes != 0 || bytes / kIndexEntryBytes > entries_max) return Status{};  // rebuild
  std::vector<std::byte> raw(bytes);
  size_t n = 0;
  SAMSA_TRY_ASSIGN(n, index_file_->pread(0, raw));
  if (n != bytes) return Status{};
  for (uint64_t at = 0; at < bytes; at += kIndexEntryBytes) {
    IndexEntry e{base_offset_ + get_u32_be(&raw[at]), get_u32_be(&raw[at + 4])};
    const bool ordered = index_.empty() || (e.offset > index_.back().offset && e.position > index_.back().position);
    if (!ordered || e.position >= size_ || e.offset <= base_offset_) {
      index_.clear();
      return Status{};
    }
    index_.push_back(e);
  }
  if (!index_.empty()) {  // the last entry must point at the batch it names
    Result<BatchHeader> h = header_at(index_.back().position);
    if (!h.ok() || h->base_offset != index_.back().offset) {
      index_.clear();
      return Status{};
    }
  }
  index_persisted_ = index_.size();
  stats.index_rebuilt = false;
  // Time index: entries at the same index points; any inconsistency just drops it (it is only
  // a hint: timestamp lookups scan batches anyway).
  SAMSA_TRY_ASSIGN(bytes, time_index_file_->size());
  if (bytes % kTimeEntryBytes == 0 && bytes / kTimeEntryBytes <= index_.size()) {
    std::vector<std::byte> traw(bytes);
    SAMSA_TRY_ASSIGN(n, time_index_file_->pread(0, traw));
    for (uint64_t at = 0; n == bytes && at < bytes; at += kTimeEntryBytes) {
      TimeEntry e{get_i64_be(&traw[at]), base_offset_ + get_u32_be(&traw[at + 8])};
      const bool ordered = time_index_.empty() || (e.timestamp > time_index_.back().timestamp && e.offset > time_index_.back().offset);
      if (!ordered || e.offset > index_.back().offset) {
        time_index_.clear();
        break;
      }
      time_index_.push_back(e);
    }
  }
  SAMSA_TRY(time_index_file_->truncate(time_index_.size() * kTimeEntryBytes));
  time_index_persisted_ = time_index_.size();
  if (!time_index_.empty()) max_timestamp_ = time_index_.back().timestamp;
  Result<BatchHeader> first = header_at(0);
  if (first.ok()) first_batch_timestamp_ = first->max_timestamp;
  bytes_since_index_ = 0;
  return Status{};
}

Status Segment::scan_from(uint64_t position, int64_t expected_offset, SegmentRecoveryStats& stats) {
  const uint64_t file_size = size_;
  size_ = position;  // header_at/note_batch see only what has been validated so far
  std::vector<std::byte> batch;
  uint64_t pos = position;
  next_offset_ = expected_offset;
  while (file_size - pos >= kBatchHeaderBytes) {
    std::byte head[kBatchHeaderBytes];
    size_t n = 0;
    SAMSA_TRY_ASSIGN(n, log_->pread(pos, head));
    if (n != kBatchHeaderBytes) break;
    Result<BatchHeader> h = parse_batch_header(head);
    if (!h.ok() || h->base_offset != next_offset_ || h->total_bytes() > kBatchBytesReadMax ||
        h->total_bytes() > file_size - pos) {
      break;
    }
    batch.resize(h->total_bytes());
    SAMSA_TRY_ASSIGN(n, log_->pread(pos, batch));
    if (n != batch.size() || !validate_batch(batch).ok()) break;
    note_batch(*h, pos);
    pos += h->total_bytes();
    size_ = pos;
    next_offset_ = h->next_offset();
    ++stats.batches_scanned;
  }
  if (pos < file_size) {
    stats.bytes_truncated += file_size - pos;
    SAMSA_TRY(log_->truncate(pos));
    SAMSA_TRY(log_->sync());
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
  Status s = log_->pwrite(size_, batches);
  if (!s.ok()) {
    if (s.code() == Errc::no_space) (void)log_->truncate(size_);  // a partial write must not stay
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
  if (position + kBatchHeaderBytes > size_) return Errc::corrupt;
  std::byte head[kBatchHeaderBytes];
  size_t n = 0;
  SAMSA_TRY_ASSIGN(n, log_->pread(position, head));
  if (n != kBatchHeaderBytes) return Errc::corrupt;
  return parse_batch_header(head);
}

Result<uint64_t> Segment::position_of(int64_t offset) {
  if (offset < base_offset_ || offset >= next_offset_) return Errc::out_of_range;
  auto it = std::upper_bound(index_.begin(), index_.end(), offset,
                             [](int64_t o, const IndexEntry& e) { return o < e.offset; });
  uint64_t pos = it == index_.begin() ? 0 : std::prev(it)->position;
  while (pos < size_) {
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(pos));
    if (h.last_offset() >= offset) return pos;
    pos += h.total_bytes();
  }
  return Errc::corrupt;  // the index or the file disagrees with next_offset_
}

Result<uint64_t> Segment::position_for_timestamp(int64_t timestamp) {
  if (max_timestamp_ < timestamp) return Errc::not_found;
  // Start at the index point before the first one whose running max reaches the timestamp.
  auto it = std::lower_bound(time_index_.begin(), time_index_.end(), timestamp,
                             [](const TimeEntry& e, int64_t ts) { return e.timestamp < ts; });
  uint64_t pos = 0;
  if (it != time_index_.begin()) {
    SAMSA_TRY_ASSIGN(pos, position_of(std::prev(it)->offset));
  }
  while (pos < size_) {
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(pos));
    if (h.max_timestamp >= timestamp) return pos;
    pos += h.total_bytes();
  }
  return Errc::not_found;
}

Status Segment::write_index_files() {
  std::vector<std::byte> raw;
  for (size_t i = index_persisted_; i < index_.size(); ++i) {
    std::byte e[kIndexEntryBytes];
    put_u32_be(e, static_cast<uint32_t>(index_[i].offset - base_offset_));
    put_u32_be(e + 4, index_[i].position);
    raw.insert(raw.end(), e, e + kIndexEntryBytes);
  }
  if (!raw.empty()) SAMSA_TRY(index_file_->pwrite(index_persisted_ * kIndexEntryBytes, raw));
  raw.clear();
  for (size_t i = time_index_persisted_; i < time_index_.size(); ++i) {
    std::byte e[kTimeEntryBytes];
    put_u64_be(e, static_cast<uint64_t>(time_index_[i].timestamp));
    put_u32_be(e + 8, static_cast<uint32_t>(time_index_[i].offset - base_offset_));
    raw.insert(raw.end(), e, e + kTimeEntryBytes);
  }
  if (!raw.empty()) SAMSA_TRY(time_index_file_->pwrite(time_index_persisted_ * kTimeEntryBytes, raw));
  return Status{};
}

Status Segment::flush() { return log_->sync(); }

Status Segment::flush_index() {
  if (index_persisted_ == index_.size() && time_index_persisted_ == time_index_.size()) return Status{};
  SAMSA_TRY(write_index_files());
  SAMSA_TRY(index_file_->sync());
  SAMSA_TRY(time_index_file_->sync());
  index_persisted_ = index_.size();
  time_index_persisted_ = time_index_.size();
  return Status{};
}

Status Segment::truncate_to(int64_t offset) {
  if (offset >= next_offset_) return Status{};
  uint64_t pos = 0;
  int64_t new_next = base_offset_;
  if (offset > base_offset_) {
    SAMSA_TRY_ASSIGN(pos, position_of(offset));
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(pos));
    new_next = h.base_offset;
  }
  SAMSA_TRY(log_->truncate(pos));
  SAMSA_TRY(log_->sync());
  while (!index_.empty() && index_.back().position >= pos) index_.pop_back();
  while (!time_index_.empty() && time_index_.back().offset >= new_next) time_index_.pop_back();
  index_persisted_ = std::min(index_persisted_, index_.size());
  time_index_persisted_ = std::min(time_index_persisted_, time_index_.size());
  SAMSA_TRY(index_file_->truncate(index_persisted_ * kIndexEntryBytes));
  SAMSA_TRY(time_index_file_->truncate(time_index_persisted_ * kTimeEntryBytes));
  // Recompute the running state from the last index point.
  max_timestamp_ = time_index_.empty() ? -1 : time_index_.back().timestamp;
  if (pos == 0) first_batch_timestamp_ = -1;
  const uint64_t from = index_.empty() ? 0 : index_.back().position;
  size_ = pos;
  bytes_since_index_ = 0;
  for (uint64_t p = from; p < pos;) {
    BatchHeader h;
    SAMSA_TRY_ASSIGN(h, header_at(p));
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
