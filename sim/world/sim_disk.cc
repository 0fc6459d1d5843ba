#include "sim/world/sim_disk.h"

#include <algorithm>
#include <cstring>

namespace samsa::sim {

struct SimDisk::Inode {
  struct Pending {
    bool truncate = false;
    uint64_t offset = 0;  // write offset, or new size for truncate
    std::vector<std::byte> data;
  };
  uint64_t id = 0;
  std::vector<std::byte> data;     // what reads see
  std::vector<std::byte> durable;  // what survives a crash for sure
  std::vector<Pending> pending;    // since the last sync, in order
  // A bit flipped in both images while writes were pending: applying them to durable would
  // undo the flip that reads see in data, so the next sync copies data whole.
  bool sync_copies_whole = false;
};

namespace {

void apply_write(std::vector<std::byte>& image, uint64_t offset, const std::byte* src, size_t n) {
  if (image.size() < offset + n) image.resize(offset + n);
  std::memcpy(image.data() + offset, src, n);
}

}  // namespace

class SimFile final : public File {
 public:
  SimFile(SimDisk& disk, std::shared_ptr<SimDisk::Inode> inode, std::string path, bool writable)
      : disk_(disk),
        inode_(std::move(inode)),
        path_(std::move(path)),
        writable_(writable),
        incarnation_(disk.incarnation_),
        node_incarnation_(disk.sim_.node(disk.node_).incarnation) {}
  ~SimFile() override { disk_.sim_.release_fd(disk_.node_, node_incarnation_); }

  Result<size_t> pread(uint64_t offset, Bytes buf) override {
    SAMSA_TRY(begin(disk_.config_.read_latency_min, disk_.config_.read_latency_max));
    if (disk_.inject_eio(DiskOp::read, path_)) return Errc::io_error;
    const auto& d = inode_->data;
    if (offset >= d.size()) return size_t{0};
    size_t n = std::min<uint64_t>(buf.size(), d.size() - offset);
    if (touches_bad_sector(offset, n)) {
      ++disk_.stats_.bad_sector_reads;
      return Errc::io_error;
    }
    std::memcpy(buf.data(), d.data() + offset, n);
    disk_.sim_.trace(Trace::disk_op, inode_->id << 2, offset ^ n);
    return n;
  }

  Status pwrite(uint64_t offset, ConstBytes data) override {
    if (!writable_) return Errc::invalid_argument;
    SAMSA_TRY(begin(disk_.config_.write_latency_min, disk_.config_.write_latency_max));
    if (disk_.inject_eio(DiskOp::write, path_)) return Errc::io_error;
    const uint64_t end = offset + data.size();
    const uint64_t growth = end > inode_->data.size() ? end - inode_->data.size() : 0;
    if (disk_.used_bytes_ + growth > disk_.config_.capacity_bytes) {
      ++disk_.stats_.enospc;
      return Errc::no_space;
    }
    disk_.used_bytes_ += growth;
    clear_bad_sectors(offset, data.size());
    offset = maybe_misdirect(offset, data.size());
    apply_write(inode_->data, offset, data.data(), data.size());
    inode_->pending.push_back(SimDisk::Inode::Pending{false, offset, {data.begin(), data.end()}});
    disk_.sim_.trace(Trace::disk_op, inode_->id << 2 | 1, offset ^ hash_bytes(data));
    return Status{};
  }

  Status sync() override {
    // Nothing dirty: the kernel has nothing to write back, so it returns at once.
    if (inode_->pending.empty()) return begin(disk_.config_.read_latency_min, disk_.config_.read_latency_max);
    SAMSA_TRY(begin(disk_.config_.sync_latency_min, disk_.config_.sync_latency_max));
    if (disk_.inject_eio(DiskOp::sync, path_)) {
      // fsyncgate: after failed writeback the kernel may have dropped dirty pages.
      if (disk_.failed_sync_ && !inode_->pending.empty()) disk_.failed_sync_(path_);
      disk_.crash_inode(*inode_, CrashMode::random_sectors);
      return Errc::io_error;
    }
    // data is durable with the pending operations applied in order: applying them costs what was
    // written since the last sync, where copying data would cost the whole file on every sync.
    if (inode_->sync_copies_whole) {
      inode_->durable = inode_->data;
      inode_->sync_copies_whole = false;
    } else {
      for (const SimDisk::Inode::Pending& p : inode_->pending) {
        if (p.truncate) {
          inode_->durable.resize(p.offset);
        } else {
          apply_write(inode_->durable, p.offset, p.data.data(), p.data.size());
        }
      }
    }
    SAMSA_ASSERT(inode_->durable.size() == inode_->data.size());
    inode_->pending.clear();
    disk_.sim_.trace(Trace::disk_op, inode_->id << 2 | 2, inode_->data.size());
    return Status{};
  }

  Status truncate(uint64_t size) override {
    if (!writable_) return Errc::invalid_argument;
    SAMSA_TRY(begin(disk_.config_.write_latency_min, disk_.config_.write_latency_max));
    if (disk_.inject_eio(DiskOp::write, path_)) return Errc::io_error;
    const uint64_t old = inode_->data.size();
    if (size > old && disk_.used_bytes_ + (size - old) > disk_.config_.capacity_bytes) return Errc::no_space;
    disk_.used_bytes_ = disk_.used_bytes_ + size - old;
    inode_->data.resize(size);
    inode_->pending.push_back(SimDisk::Inode::Pending{true, size, {}});
    disk_.sim_.trace(Trace::disk_op, inode_->id << 2 | 3, size);
    return Status{};
  }

  Result<uint64_t> size() override {
    if (incarnation_ != disk_.incarnation_) return Errc::io_error;
    return static_cast<uint64_t>(inode_->data.size());
  }

  const std::string& path() const override { return path_; }

 private:
  bool touches_bad_sector(uint64_t offset, uint64_t n) const {
    auto it = disk_.bad_sectors_.find(inode_->id);
    if (it == disk_.bad_sectors_.end() || n == 0) return false;
    auto s = it->second.lower_bound(offset / DiskConfig::kSectorBytes);
    return s != it->second.end() && *s <= (offset + n - 1) / DiskConfig::kSectorBytes;
  }
  // A write that covers a whole bad sector remaps it, as drives do.
  void clear_bad_sectors(uint64_t offset, uint64_t n) {
    auto it = disk_.bad_sectors_.find(inode_->id);
    if (it == disk_.bad_sectors_.end()) return;
    constexpr uint64_t kSector = DiskConfig::kSectorBytes;
    for (uint64_t s = (offset + kSector - 1) / kSector; (s + 1) * kSector <= offset + n; ++s) it->second.erase(s);
  }
  uint64_t maybe_misdirect(uint64_t offset, uint64_t n) {
    const DiskFaults& f = disk_.faults_;
    if (f.misdirected_write_per_million == 0 || path_.compare(0, f.misdirect_prefix.size(), f.misdirect_prefix) != 0 ||
        path_.size() < f.misdirect_suffix.size() ||
        path_.compare(path_.size() - f.misdirect_suffix.size(), f.misdirect_suffix.size(), f.misdirect_suffix) != 0 ||
        !disk_.sim_.chance(f.misdirected_write_per_million, 1'000'000)) {
      return offset;
    }
    // Somewhere already written, sector aligned, so it overwrites earlier data.
    const uint64_t sectors = inode_->data.size() / DiskConfig::kSectorBytes;
    if (sectors == 0) return offset;
    const uint64_t to = bounded(disk_.sim_.random_u64(), sectors) * DiskConfig::kSectorBytes;
    ++disk_.stats_.misdirected_writes;
    disk_.damage_.push_back(DiskDamage{DiskDamage::Kind::misdirected_write, path_, to, n, disk_.sim_.now()});
    disk_.sim_.trace(Trace::fault, 0xF2, to);
    return to;
  }

  Status begin(Duration lo, Duration hi) {
    if (incarnation_ != disk_.incarnation_) return Errc::io_error;  // handle from before a crash
    return disk_.wait(lo, hi);
  }

  SimDisk& disk_;
  std::shared_ptr<SimDisk::Inode> inode_;
  std::string path_;
  bool writable_;
  uint64_t incarnation_;
  uint64_t node_incarnation_;
};

SimDisk::SimDisk(Simulator& sim, NodeId node) : sim_(sim), node_(node) {}
SimDisk::~SimDisk() = default;

std::string SimDisk::normalize(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (path.compare(i, 2, "./") == 0) i += 2;
  for (; i < path.size(); ++i) {
    if (path[i] == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(path[i]);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? "." : out;
}

std::string SimDisk::parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SimDisk::wait(Duration lo, Duration hi) {
  if (sim_.cancelled()) return Errc::cancelled;
  // Uncancellable: once started, the operation completes or the node crashes under it.
  (void)sim_.park_uncancellable(Deadline{sim_.now() + sim_.random_duration(lo, hi)});
  return Status{};
}

bool SimDisk::inject_eio(DiskOp op, const std::string& path) {
  for (auto it = fail_next_.begin(); it != fail_next_.end(); ++it) {
    if (it->first == op && path.compare(0, it->second.size(), it->second) == 0) {
      fail_next_.erase(it);
      ++stats_.eio_injected;
      sim_.trace(Trace::fault, 0xD0 + static_cast<uint64_t>(op), hash_bytes(std::as_bytes(std::span(path))));
      return true;
    }
  }
  uint32_t rate = op == DiskOp::read ? faults_.read_eio_per_million
                  : op == DiskOp::write ? faults_.write_eio_per_million
                                        : faults_.sync_eio_per_million;
  if (rate == 0 || !sim_.chance(rate, 1'000'000)) return false;
  ++stats_.eio_injected;
  sim_.trace(Trace::fault, 0xD0 + static_cast<uint64_t>(op), 1);
  return true;
}

void SimDisk::fail_next(DiskOp op, std::string path_prefix) { fail_next_.emplace_back(op, std::move(path_prefix)); }

void SimDisk::clear_faults() {
  fail_next_.clear();
  faults_ = DiskFaults{};
}

void SimDisk::force_next_crash_mode(CrashMode mode) {
  has_forced_mode_ = true;
  forced_mode_ = mode;
}


Result<std::unique_ptr<File>> SimDisk::open(const std::string& raw, OpenMode mode) {
  SAMSA_TRY(wait(config_.read_latency_min, config_.read_latency_max));
  const std::string path = normalize(raw);
  auto it = current_.find(path);
  if (it != current_.end()) {
    if (it->second.is_dir) return Errc::invalid_argument;
    if (mode == OpenMode::create_new) return Errc::already_exists;
    if (!sim_.acquire_fd(node_)) return Errc::resource_exhausted;  // EMFILE
    return std::unique_ptr<File>(std::make_unique<SimFile>(*this, it->second.inode, path, mode != OpenMode::read_only));
  }
  if (mode == OpenMode::read_only || mode == OpenMode::read_write) return Errc::not_found;
  const std::string parent = parent_of(path);
  if (parent != "." && parent != "/") {
    auto p = current_.find(parent);
    if (p == current_.end() || !p->second.is_dir) return Errc::not_found;
  }
  if (!sim_.acquire_fd(node_)) return Errc::resource_exhausted;  // EMFILE
  auto inode = std::make_shared<Inode>();
  inode->id = next_inode_++;
  Entry e{false, inode};
  current_[path] = e;
  log_ns(parent, NsOp{NsOp::Kind::add, path, {}, e});
  return std::unique_ptr<File>(std::make_unique<SimFile>(*this, inode, path, true));
}

Status SimDisk::remove_file(const std::string& raw) {
  SAMSA_TRY(wait(config_.write_latency_min, config_.write_latency_max));
  const std::string path = normalize(raw);
  auto it = current_.find(path);
  if (it == current_.end()) return Errc::not_found;
  if (it->second.is_dir) return Errc::invalid_argument;
  used_bytes_ -= std::min<uint64_t>(used_bytes_, it->second.inode->data.size());
  current_.erase(it);
  log_ns(parent_of(path), NsOp{NsOp::Kind::remove, path, {}, {}});
  return Status{};
}

Status SimDisk::rename(const std::string& raw_from, const std::string& raw_to) {
  SAMSA_TRY(wait(config_.write_latency_min, config_.write_latency_max));
  const std::string from = normalize(raw_from);
  const std::string to = normalize(raw_to);
  auto it = current_.find(from);
  if (it == current_.end()) return Errc::not_found;
  if (it->second.is_dir) return Errc::invalid_argument;  // directory renames are not needed yet
  Entry e = it->second;
  current_.erase(it);
  auto old = current_.find(to);
  if (old != current_.end()) used_bytes_ -= std::min<uint64_t>(used_bytes_, old->second.inode->data.size());
  current_[to] = e;
  log_ns(parent_of(to), NsOp{NsOp::Kind::rename, to, from, e});
  return Status{};
}

Status SimDisk::create_dir(const std::string& raw) {
  SAMSA_TRY(wait(config_.write_latency_min, config_.write_latency_max));
  const std::string path = normalize(raw);
  if (path == "." || path == "/" || current_.count(path) != 0) return Errc::already_exists;
  const std::string parent = parent_of(path);
  if (parent != "." && parent != "/" && current_.count(parent) == 0) return Errc::not_found;
  Entry e{true, nullptr};
  current_[path] = e;
  log_ns(parent, NsOp{NsOp::Kind::add, path, {}, e});
  return Status{};
}

Status SimDisk::remove_dir(const std::string& raw) {
  SAMSA_TRY(wait(config_.write_latency_min, config_.write_latency_max));
  const std::string path = normalize(raw);
  auto it = current_.find(path);
  if (it == current_.end()) return Errc::not_found;
  if (!it->second.is_dir) return Errc::invalid_argument;
  const std::string prefix = path + "/";
  auto child = current_.lower_bound(prefix);
  if (child != current_.end() && child->first.compare(0, prefix.size(), prefix) == 0) return Errc::already_exists;
  current_.erase(it);
  log_ns(parent_of(path), NsOp{NsOp::Kind::remove, path, {}, {}});
  return Status{};
}

Result<std::vector<std::string>> SimDisk::list_dir(const std::string& raw) {
  SAMSA_TRY(wait(config_.read_latency_min, config_.read_latency_max));
  const std::string path = normalize(raw);
  if (path != "." && path != "/") {
    auto it = current_.find(path);
    if (it == current_.end()) return Errc::not_found;
    if (!it->second.is_dir) return Errc::invalid_argument;
  }
  std::vector<std::string> names;
  if (path == "." || path == "/") {
    for (const auto& [p, e] : current_) {
      if (parent_of(p) == path) names.push_back(p.substr(path == "." ? 0 : path.size() + 1));
    }
  } else {
    // Only the entries under "path/" (one range of the sorted map), and of those the direct children.
    const std::string prefix = path + "/";
    for (auto it = current_.lower_bound(prefix); it != current_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (it->first.find('/', prefix.size()) == std::string::npos) names.push_back(it->first.substr(prefix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status SimDisk::sync_dir(const std::string& raw) {
  SAMSA_TRY(wait(config_.sync_latency_min, config_.sync_latency_max));
  const std::string path = normalize(raw);
  if (inject_eio(DiskOp::sync, path)) return Errc::io_error;
  auto it = pending_ns_.find(path);
  if (it == pending_ns_.end()) return Status{};
  for (const NsOp& op : it->second) apply_ns(durable_, op);
  pending_ns_.erase(it);
  sim_.trace(Trace::disk_op, 0xD1, hash_bytes(std::as_bytes(std::span(path))));
  return Status{};
}

void SimDisk::log_ns(const std::string& dir, NsOp op) {
  sim_.trace(Trace::disk_op, 0xD2 + static_cast<uint64_t>(op.kind), hash_bytes(std::as_bytes(std::span(op.path))));
  pending_ns_[dir].push_back(std::move(op));
}

void SimDisk::apply_ns(std::map<std::string, Entry>& entries, const NsOp& op) const {
  switch (op.kind) {
    case NsOp::Kind::add: entries[op.path] = op.entry; break;
    case NsOp::Kind::remove: entries.erase(op.path); break;
    case NsOp::Kind::rename:
      entries.erase(op.from);
      entries[op.path] = op.entry;
      break;
  }
}

CrashMode SimDisk::draw_crash_mode() {
  if (has_forced_mode_) return forced_mode_;
  return static_cast<CrashMode>(sim_.in_range(0, 4));
}

void SimDisk::zero_one_sector(std::vector<std::byte>& image, uint64_t offset, uint64_t bytes) {
  constexpr uint64_t kSector = DiskConfig::kSectorBytes;
  if (bytes == 0) return;
  const uint64_t first = offset / kSector, end = (offset + bytes - 1) / kSector + 1;
  const uint64_t s = end - first > 1 ? static_cast<uint64_t>(sim_.in_range(static_cast<int64_t>(first + 1), static_cast<int64_t>(end - 1)))
                                     : first;
  const uint64_t lo = std::max(s * kSector, offset), hi = std::min((s + 1) * kSector, offset + bytes);
  SAMSA_ASSERT(lo < hi && hi <= image.size());
  std::fill(image.begin() + static_cast<ptrdiff_t>(lo), image.begin() + static_cast<ptrdiff_t>(hi), std::byte{0});
  ++stats_.writes_torn;
}

void SimDisk::crash_inode(Inode& inode, CrashMode mode) {
  if (inode.pending.empty()) return;
  std::vector<std::byte> image = inode.durable;
  const size_t n = inode.pending.size();
  const size_t keep_whole = mode == CrashMode::keep_all || mode == CrashMode::size_without_data ? n
                            : mode == CrashMode::torn_prefix ? static_cast<size_t>(sim_.in_range(0, static_cast<int64_t>(n)))
                                                             : 0;
  constexpr uint64_t kSector = DiskConfig::kSectorBytes;
  for (size_t i = 0; i < n; ++i) {
    const Inode::Pending& p = inode.pending[i];
    const bool whole = i < keep_whole;
    const bool torn_candidate = (mode == CrashMode::torn_prefix && i == keep_whole) || mode == CrashMode::random_sectors;
    if (p.truncate) {
      if (whole || (mode == CrashMode::random_sectors && sim_.chance(1, 2))) image.resize(p.offset);
      else ++stats_.writes_lost;
      continue;
    }
    if (whole) {
      apply_write(image, p.offset, p.data.data(), p.data.size());
      continue;
    }
    ++stats_.writes_lost;
    if (!torn_candidate) continue;
    // Keep a random subset of the sectors this write touched.
    bool any = false;
    for (uint64_t s = p.offset / kSector * kSector; s < p.offset + p.data.size(); s += kSector) {
      if (!sim_.chance(1, 2)) continue;
      const uint64_t lo = std::max(s, p.offset);
      const uint64_t hi = std::min(s + kSector, p.offset + p.data.size());
      apply_write(image, lo, p.data.data() + (lo - p.offset), hi - lo);
      any = true;
    }
    if (any) ++stats_.writes_torn;
  }
  const Inode::Pending& last = inode.pending.back();
  if (mode == CrashMode::size_without_data && !last.truncate) zero_one_sector(image, last.offset, last.data.size());
  // Journaling file systems in writeback mode can persist a file's new size without all of its
  // data: the missing sectors read as zeros, so a torn batch can be whole in length.
  if (mode == CrashMode::random_sectors && sim_.chance(1, 2)) {
    uint64_t end = image.size();
    for (const Inode::Pending& p : inode.pending) end = p.truncate ? p.offset : std::max<uint64_t>(end, p.offset + p.data.size());
    if (end > image.size()) image.resize(end, std::byte{0});
  }
  sim_.trace(Trace::disk_crash, inode.id, hash_bytes(image) ^ static_cast<uint64_t>(mode));
  if (used_bytes_ + image.size() >= inode.data.size()) used_bytes_ = used_bytes_ + image.size() - inode.data.size();
  inode.data = image;
  inode.durable = std::move(image);
  inode.pending.clear();
  inode.sync_copies_whole = false;
}

void SimDisk::crash_process() {
  ++stats_.process_crashes;
  ++incarnation_;
  fail_next_.clear();
}

void SimDisk::crash() {
  ++stats_.crashes;
  ++incarnation_;
  const bool forced = has_forced_mode_;
  for (auto& [path, e] : current_) {
    if (!e.is_dir) crash_inode(*e.inode, draw_crash_mode());
  }
  // Files unlinked but still pending are gone anyway; make sure durable ones are crashed too.
  for (auto& [path, e] : durable_) {
    if (!e.is_dir) crash_inode(*e.inode, draw_crash_mode());
  }
  for (auto& [dir, ops] : pending_ns_) {
    const size_t keep = static_cast<size_t>(sim_.in_range(0, static_cast<int64_t>(ops.size())));
    for (size_t i = 0; i < keep; ++i) apply_ns(durable_, ops[i]);
  }
  pending_ns_.clear();
  current_ = durable_;
  used_bytes_ = 0;
  for (auto& [path, e] : current_) used_bytes_ += e.is_dir ? 0 : e.inode->data.size();
  if (forced) has_forced_mode_ = false;
  fail_next_.clear();
}

std::vector<std::pair<std::string, std::shared_ptr<SimDisk::Inode>>> SimDisk::synced_files(const std::string& prefix,
                                                                                          const std::string& suffix) const {
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> files;
  for (const auto& [path, e] : durable_) {
    const bool named = path.compare(0, prefix.size(), prefix) == 0 && path.size() >= suffix.size() &&
                       path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (named && !e.is_dir && !e.inode->durable.empty()) files.emplace_back(path, e.inode);
  }
  return files;
}

std::string SimDisk::add_bad_sector(const std::string& prefix, const std::string& suffix) {
  auto files = synced_files(prefix, suffix);
  if (files.empty()) return {};
  auto& [path, inode] = files[bounded(sim_.random_u64(), files.size())];
  const uint64_t sectors = (inode->durable.size() + DiskConfig::kSectorBytes - 1) / DiskConfig::kSectorBytes;
  const uint64_t sector = bounded(sim_.random_u64(), sectors);
  bad_sectors_[inode->id].insert(sector);
  damage_.push_back(DiskDamage{DiskDamage::Kind::bad_sector, path, sector * DiskConfig::kSectorBytes,
                               DiskConfig::kSectorBytes, sim_.now()});
  sim_.trace(Trace::fault, 0xF3, sector);
  return path;
}

std::string SimDisk::flip_random_bit(const std::string& prefix, const std::string& suffix) {
  auto files = synced_files(prefix, suffix);
  if (files.empty()) return {};
  auto& [path, inode] = files[bounded(sim_.random_u64(), files.size())];
  const uint64_t bit = bounded(sim_.random_u64(), inode->durable.size() * 8);
  const auto mask = std::byte(1u << (bit % 8));
  inode->durable[bit / 8] ^= mask;
  if (bit / 8 < inode->data.size()) inode->data[bit / 8] ^= mask;
  if (!inode->pending.empty()) inode->sync_copies_whole = true;
  damage_.push_back(DiskDamage{DiskDamage::Kind::bit_flip, path, bit / 8, 1, sim_.now()});
  sim_.trace(Trace::fault, 0xF1, bit);
  return path;
}

Result<std::vector<std::byte>> SimDisk::durable_contents(const std::string& raw) const {
  auto it = durable_.find(normalize(raw));
  if (it == durable_.end() || it->second.is_dir) return Errc::not_found;
  return it->second.inode->durable;
}

std::vector<std::string> SimDisk::files_with_prefix(const std::string& prefix) const {
  std::vector<std::string> out;
  for (auto it = current_.lower_bound(prefix); it != current_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (!it->second.is_dir) out.push_back(it->first);
  }
  return out;
}

Result<std::vector<std::byte>> SimDisk::current_contents(const std::string& raw) const {
  auto it = current_.find(normalize(raw));
  if (it == current_.end() || it->second.is_dir) return Errc::not_found;
  return it->second.inode->data;
}

}  // namespace samsa::sim
