#include "log/leader_epoch_cache.h"

#include <cstdio>

#include "log/checkpoint_file.h"

namespace samsa {

Status LeaderEpochCache::load() {
  entries_.clear();
  Result<std::vector<std::string>> lines = read_checkpoint(rt_, dir_, kFileName);
  if (lines.error() == Errc::not_found) return Status{};
  if (!lines.ok()) return lines.status();
  if (lines->size() > kEntriesMax) return Errc::corrupt;
  for (const std::string& line : *lines) {
    int epoch = 0;
    long long start = 0;
    char extra = 0;
    if (std::sscanf(line.c_str(), "%d %lld%c", &epoch, &start, &extra) != 2 || epoch < 0 || start < 0) return Errc::corrupt;
    if (!entries_.empty() && (epoch <= entries_.back().epoch || start < entries_.back().start_offset)) return Errc::corrupt;
    entries_.push_back(Entry{epoch, start});
  }
  return Status{};
}

Status LeaderEpochCache::persist(std::vector<Entry> entries) {
  std::vector<std::string> lines;
  lines.reserve(entries.size());
  for (const Entry& e : entries) lines.push_back(std::to_string(e.epoch) + " " + std::to_string(e.start_offset));
  SAMSA_TRY(write_checkpoint(rt_, dir_, kFileName, lines));
  entries_ = std::move(entries);
  return Status{};
}

Status LeaderEpochCache::assign(int32_t epoch, int64_t start_offset) {
  if (epoch < 0) return Status{};  // kNoLeaderEpoch: nothing to record
  if (!entries_.empty() && epoch <= entries_.back().epoch) return Status{};
  SAMSA_ASSERT(entries_.empty() || start_offset >= entries_.back().start_offset);
  SAMSA_ASSERT(entries_.size() < kEntriesMax);
  std::vector<Entry> next = entries_;
  next.push_back(Entry{epoch, start_offset});
  return persist(std::move(next));
}

Status LeaderEpochCache::truncate_from_end(int64_t end_offset) {
  size_t keep = entries_.size();
  while (keep > 0 && entries_[keep - 1].start_offset >= end_offset) --keep;
  if (keep == entries_.size()) return Status{};
  return persist(std::vector<Entry>(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(keep)));
}

Status LeaderEpochCache::truncate_from_start(int64_t start_offset) {
  size_t drop = 0;
  while (drop + 1 < entries_.size() && entries_[drop + 1].start_offset <= start_offset) ++drop;
  std::vector<Entry> next(entries_.begin() + static_cast<ptrdiff_t>(drop), entries_.end());
  bool changed = drop > 0;
  if (!next.empty() && next.front().start_offset < start_offset) {
    next.front().start_offset = start_offset;
    changed = true;
  }
  return changed ? persist(std::move(next)) : Status{};
}

std::optional<std::pair<int32_t, int64_t>> LeaderEpochCache::end_offset_for(int32_t epoch, int64_t log_end_offset) const {
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].epoch <= epoch) {
      const int64_t end = i + 1 < entries_.size() ? entries_[i + 1].start_offset : log_end_offset;
      return std::pair{entries_[i].epoch, end};
    }
  }
  return std::nullopt;
}

std::optional<std::pair<int32_t, int64_t>> LeaderEpochCache::end_offset_or_first_start(int32_t epoch,
                                                                                     int64_t log_end_offset) const {
  if (entries_.empty()) return std::nullopt;
  std::optional<std::pair<int32_t, int64_t>> e = end_offset_for(epoch, log_end_offset);
  return e ? e : std::pair{epoch, entries_.front().start_offset};
}

std::optional<int32_t> LeaderEpochCache::latest_epoch() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().epoch;
}

}  // namespace samsa
