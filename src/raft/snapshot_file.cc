#include "raft/snapshot_file.h"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "util/crc32c.h"
#include "util/endian.h"

namespace samsa::raft {

namespace {
constexpr char kMagic[8] = {'S', 'A', 'M', 'S', 'A', 'S', 'N', '1'};
constexpr std::string_view kSuffix = ".checkpoint";
}  // namespace

std::string snapshot_file_name(const OffsetAndEpoch& id) {
  return fmt::format("{:020d}-{:010d}{}", id.end_offset, id.epoch, kSuffix);
}

std::optional<OffsetAndEpoch> parse_snapshot_file_name(std::string_view name) {
  if (name.size() != 20 + 1 + 10 + kSuffix.size() || name[20] != '-' || name.substr(31) != kSuffix) return std::nullopt;
  OffsetAndEpoch id;
  auto [e1, c1] = std::from_chars(name.data(), name.data() + 20, id.end_offset);
  auto [e2, c2] = std::from_chars(name.data() + 21, name.data() + 31, id.epoch);
  if (c1 != std::errc{} || c2 != std::errc{} || e1 != name.data() + 20 || e2 != name.data() + 31) return std::nullopt;
  if (id.end_offset < 0 || id.epoch < 0) return std::nullopt;
  return id;
}

std::vector<std::byte> encode_snapshot(const OffsetAndEpoch& id, ConstBytes image) {
  std::vector<std::byte> out(kSnapshotHeaderBytes + image.size());
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  put_u64_be(&out[8], static_cast<uint64_t>(id.end_offset));
  put_u32_be(&out[16], static_cast<uint32_t>(id.epoch));
  put_u64_be(&out[20], image.size());
  put_u32_be(&out[28], crc32c(image));
  if (!image.empty()) std::memcpy(out.data() + kSnapshotHeaderBytes, image.data(), image.size());
  return out;
}

Result<std::vector<std::byte>> decode_snapshot(ConstBytes file, const OffsetAndEpoch& id) {
  if (file.size() < kSnapshotHeaderBytes || std::memcmp(file.data(), kMagic, sizeof(kMagic)) != 0) return Errc::corrupt;
  if (get_i64_be(&file[8]) != id.end_offset || get_i32_be(&file[16]) != id.epoch) return Errc::corrupt;
  if (get_u64_be(&file[20]) != file.size() - kSnapshotHeaderBytes) return Errc::corrupt;
  ConstBytes image = file.subspan(kSnapshotHeaderBytes);
  if (get_u32_be(&file[28]) != crc32c(image)) return Errc::corrupt;
  return std::vector<std::byte>(image.begin(), image.end());
}

Result<std::vector<OffsetAndEpoch>> list_snapshots(Runtime& rt, const std::string& dir) {
  std::vector<std::string> names;
  SAMSA_TRY_ASSIGN(names, rt.list_dir(dir));
  std::vector<OffsetAndEpoch> ids;
  for (const std::string& name : names) {
    if (std::optional<OffsetAndEpoch> id = parse_snapshot_file_name(name)) ids.push_back(*id);
  }
  // Names sort by end offset (zero-padded), and list_dir sorts names.
  return ids;
}

Result<std::vector<std::byte>> read_snapshot(Runtime& rt, const std::string& dir, const OffsetAndEpoch& id,
                                             uint64_t size_max) {
  std::vector<std::byte> file;
  SAMSA_TRY_ASSIGN(file, read_file(rt, dir + "/" + snapshot_file_name(id), size_max + kSnapshotHeaderBytes));
  return decode_snapshot(file, id);
}

Status delete_snapshots_before(Runtime& rt, const std::string& dir, const OffsetAndEpoch& keep) {
  std::vector<OffsetAndEpoch> ids;
  SAMSA_TRY_ASSIGN(ids, list_snapshots(rt, dir));
  bool removed = false;
  for (const OffsetAndEpoch& id : ids) {
    if (id.end_offset >= keep.end_offset) continue;
    Status s = rt.remove_file(dir + "/" + snapshot_file_name(id));
    if (!s.ok() && s.code() != Errc::not_found) return s;
    removed = true;
  }
  return removed ? rt.sync_dir(dir) : Status{};
}

}  // namespace samsa::raft
