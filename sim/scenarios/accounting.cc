#include "sim/scenarios/accounting.h"

#include <fmt/format.h>

#include <charconv>
#include <map>

#include "log/record_batch.h"

namespace samsa::sim {

namespace {

// "<dir>/<20 digits>.log" -> base offset.
bool segment_base(const std::string& path, const std::string& dir, int64_t* base) {
  if (path.size() != dir.size() + 1 + 24 || path.compare(0, dir.size() + 1, dir + "/") != 0) return false;
  if (path.compare(path.size() - 4, 4, ".log") != 0) return false;
  const char* digits = path.data() + dir.size() + 1;
  auto [end, ec] = std::from_chars(digits, digits + 20, *base);
  return ec == std::errc{} && end == digits + 20;
}

// Next offset after the valid batches at the start of `data` that continue from `expected`.
int64_t valid_prefix_end(ConstBytes data, int64_t expected) {
  size_t at = 0;
  while (data.size() - at >= kBatchHeaderBytes) {
    Result<BatchHeader> h = parse_batch_header(data.subspan(at));
    if (!h.ok() || h->base_offset != expected || h->total_bytes() > data.size() - at) break;
    if (!validate_batch(data.subspan(at, h->total_bytes())).ok()) break;
    expected = h->next_offset();
    at += h->total_bytes();
  }
  return expected;
}

}  // namespace

namespace {

int64_t log_end(const SimDisk& disk, const std::string& dir, bool durable) {
  std::map<int64_t, std::string> segments;
  for (const std::string& path : disk.files_with_prefix(dir + "/")) {
    int64_t base = 0;
    if (segment_base(path, dir, &base)) segments[base] = path;
  }
  if (segments.empty()) return 0;
  int64_t end = segments.begin()->first;
  for (const auto& [base, path] : segments) {
    if (base != end) break;  // a gap: recovery drops what follows
    Result<std::vector<std::byte>> data = durable ? disk.durable_contents(path) : disk.current_contents(path);
    if (!data.ok()) break;  // its directory entry is not durable
    end = valid_prefix_end(*data, base);
  }
  return end;
}

}  // namespace

int64_t durable_log_end(const SimDisk& disk, const std::string& dir) { return log_end(disk, dir, true); }

int64_t current_log_end(const SimDisk& disk, const std::string& dir) { return log_end(disk, dir, false); }

std::vector<RiskWindow> damage_windows(const SimDisk& disk, const std::string& data_dir, const std::string& topic) {
  std::vector<RiskWindow> out;
  const std::string prefix = data_dir + "/" + topic + "-";
  for (const DiskDamage& d : disk.damage()) {
    if (d.path.compare(0, prefix.size(), prefix) != 0) continue;
    const size_t slash = d.path.find('/', prefix.size());
    if (slash == std::string::npos) continue;
    int32_t partition = 0;
    std::from_chars(d.path.data() + prefix.size(), d.path.data() + slash, partition);
    int64_t base = 0;
    if (!segment_base(d.path, d.path.substr(0, slash), &base)) continue;
    static constexpr const char* kNames[] = {"bit flip", "misdirected write", "bad sector"};
    // An unreadable sector can keep the whole log from opening (recovery must not guess past
    // it): the partition is unavailable, all of it.
    const int64_t from = d.kind == DiskDamage::Kind::bad_sector ? 0 : base;
    out.push_back(RiskWindow{fmt::format("{} in {}", kNames[static_cast<int>(d.kind)], d.path.substr(data_dir.size() + 1)),
                             Instant::max(), partition, from});
  }
  return out;
}

}  // namespace samsa::sim
