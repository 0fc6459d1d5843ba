// SimDisk: one node's disk in the simulator — a durable image plus the changes since the last
// sync, and the faults that real disks and file systems show.
//
// Model (what a test can rely on):
// - File data: each file holds its durable bytes and the writes/truncates since its last sync().
//   On crash() each file independently keeps all, none, a prefix of them with the next write torn
//   at sector (512 B) granularity, or a random subset of sectors (sometimes with the file's new
//   size kept, the missing sectors zero), as the seed decides. Synced data
//   always survives (unless a bit flip was injected into it).
// - Names: creating, removing and renaming entries is durable only after sync_dir() of the parent
//   (of the destination, for rename). On crash each directory keeps a random prefix of its
//   unsynced changes, as an ordered journal would.
// - Faults: EIO on read, write or sync with a per-million rate, or once on the next matching op;
//   ENOSPC past capacity_bytes (the write does nothing); a failed sync() also drops some of the
//   unsynced writes, as Linux drops dirty pages after failed writeback; bit flips in synced data.
// - Every operation takes simulated time, drawn from a range, during which the node may crash.
//
// Threading: simulator thread; file operations from the owning node's fibers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "runtime/runtime.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

struct DiskConfig {
  Duration read_latency_min = 5us, read_latency_max = 100us;
  Duration write_latency_min = 5us, write_latency_max = 100us;
  Duration sync_latency_min = 200us, sync_latency_max = 5ms;
  uint64_t capacity_bytes = 1ULL << 32;
  static constexpr uint64_t kSectorBytes = 512;
};

enum class DiskOp : uint8_t { read, write, sync };

struct DiskFaults {
  uint32_t read_eio_per_million = 0;
  uint32_t write_eio_per_million = 0;
  uint32_t sync_eio_per_million = 0;
  // A write that reports success but lands at another sector-aligned offset of the same file
  // (a firmware or driver bug). Only on paths starting with misdirect_prefix and ending with
  // misdirect_suffix, so a scenario can aim it at data it knows how to account for.
  uint32_t misdirected_write_per_million = 0;
  std::string misdirect_prefix;
  std::string misdirect_suffix;
};

// A destructive fault the disk applied, for checkers that account for what it damaged.
struct DiskDamage {
  enum class Kind : uint8_t { bit_flip, misdirected_write, bad_sector } kind;
  std::string path;
  uint64_t position = 0;  // byte that was flipped, or where the misdirected write landed
  uint64_t length = 0;
  Instant at{};
};

// lose_all / keep_all: every unsynced change goes / stays. torn_prefix: a prefix stays and the
// next write keeps random sectors. random_sectors: each write keeps random sectors.
// size_without_data: everything stays but one sector of the last write (past its first sector
// when it has more) reads as zeros, as when a journal commits a file's new size before its data:
// the last batch is whole in length and framing, wrong in content.
enum class CrashMode : uint8_t { lose_all, keep_all, torn_prefix, random_sectors, size_without_data };

struct DiskStats {
  uint64_t crashes = 0;
  uint64_t process_crashes = 0;
  uint64_t writes_lost = 0;   // unsynced writes dropped by crashes (whole or partly)
  uint64_t writes_torn = 0;
  uint64_t eio_injected = 0;
  uint64_t enospc = 0;
  uint64_t misdirected_writes = 0;
  uint64_t bad_sector_reads = 0;
};

class SimDisk {
 public:
  SimDisk(Simulator& sim, NodeId node);
  ~SimDisk();

  DiskConfig& config() { return config_; }
  DiskFaults& faults() { return faults_; }
  const DiskStats& stats() const { return stats_; }
  // Deterministic one-shot fault: the next `op` on a path starting with `path_prefix` fails EIO.
  void fail_next(DiskOp op, std::string path_prefix);
  // Forces the crash model of the next crash (tests); otherwise the seed chooses per file.
  void force_next_crash_mode(CrashMode mode);
  // Drops pending one-shot faults and zeroes the rates (the nemesis healing the disk).
  void clear_faults();

  // --- runtime operations (fiber context) ---
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode);
  Status remove_file(const std::string& path);
  Status rename(const std::string& from, const std::string& to);
  Status create_dir(const std::string& path);
  Status remove_dir(const std::string& path);
  Result<std::vector<std::string>> list_dir(const std::string& path);
  Status sync_dir(const std::string& path);

  // --- scheduler context ---
  void crash();          // power loss: unsynced writes and directory changes lost or torn
  void crash_process();  // kill -9: the kernel keeps everything; only open handles die
  // Flips one random bit in the synced data of a random non-empty file whose path starts with
  // `prefix` and ends with `suffix`; returns its path ("" if there is none).
  std::string flip_random_bit(const std::string& prefix = "", const std::string& suffix = "");
  // A latent sector error: reads touching one random synced sector of such a file fail with EIO
  // until a write covers the whole sector. Returns the path ("" if none).
  std::string add_bad_sector(const std::string& prefix, const std::string& suffix);
  // What reads see now, and what a power loss now would surely keep (for checkers).
  Result<std::vector<std::byte>> current_contents(const std::string& path) const;
  Result<std::vector<std::byte>> durable_contents(const std::string& path) const;
  // Files whose path starts with prefix (current names).
  std::vector<std::string> files_with_prefix(const std::string& prefix) const;
  const std::vector<DiskDamage>& damage() const { return damage_; }
  // Called when an injected fsync failure drops a file's unsynced pages (fsyncgate), with the
  // file's path, before the pages go: checkers account for what an acknowledged-before-fsync
  // configuration loses. Must not suspend.
  void on_failed_sync(std::function<void(const std::string& path)> observer) { failed_sync_ = std::move(observer); }
  uint64_t used_bytes() const { return used_bytes_; }

  struct Inode;

 private:
  friend class SimFile;
  struct Entry {
    bool is_dir = false;
    std::shared_ptr<Inode> inode;
  };
  struct NsOp {
    enum class Kind : uint8_t { add, remove, rename } kind;
    std::string path;
    std::string from;  // rename
    Entry entry;
  };

  static std::string normalize(const std::string& path);
  static std::string parent_of(const std::string& path);
  Status wait(Duration lo, Duration hi);
  bool inject_eio(DiskOp op, const std::string& path);
  void log_ns(const std::string& dir, NsOp op);
  void apply_ns(std::map<std::string, Entry>& entries, const NsOp& op) const;
  void crash_inode(Inode& inode, CrashMode mode);
  // Zeros one sector of the write [offset, offset + bytes), past its first when it has more.
  void zero_one_sector(std::vector<std::byte>& image, uint64_t offset, uint64_t bytes);
  CrashMode draw_crash_mode();

  Simulator& sim_;
  NodeId node_;
  DiskConfig config_;
  DiskFaults faults_;
  DiskStats stats_;
  uint64_t next_inode_ = 1;
  uint64_t used_bytes_ = 0;
  uint64_t incarnation_ = 0;  // bumped by crash(): older handles are dead
  std::map<std::string, Entry> current_;
  std::map<std::string, Entry> durable_;
  std::map<std::string, std::vector<NsOp>> pending_ns_;  // by parent directory
  std::vector<std::pair<DiskOp, std::string>> fail_next_;
  bool has_forced_mode_ = false;
  CrashMode forced_mode_ = CrashMode::lose_all;
  std::map<uint64_t, std::set<uint64_t>> bad_sectors_;  // inode id -> sector indexes
  std::vector<DiskDamage> damage_;
  std::function<void(const std::string&)> failed_sync_;
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> synced_files(const std::string& prefix,
                                                                           const std::string& suffix) const;
};

}  // namespace samsa::sim
