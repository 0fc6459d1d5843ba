#include "log/checkpoint_file.h"

#include <charconv>

#include "log/log_config.h"

namespace samsa {

namespace {
constexpr const char* kVersion = "0";

std::vector<std::string> split_lines(const std::vector<std::byte>& data) {
  std::vector<std::string> lines;
  std::string cur;
  for (std::byte b : data) {
    if (b == std::byte{'\n'}) {
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(b));
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  return lines;
}
}  // namespace

Status write_file_atomically(Runtime& rt, const std::string& dir, const std::string& name, ConstBytes data,
                             bool durable) {
  const std::string tmp = dir + "/" + name + ".tmp";
  {
    std::unique_ptr<File> f;
    SAMSA_TRY_ASSIGN(f, rt.open_file(tmp, OpenMode::create));
    SAMSA_TRY(f->truncate(0));
    SAMSA_TRY(f->pwrite(0, data));
    if (durable) SAMSA_TRY(f->sync());
  }
  SAMSA_TRY(rt.rename(tmp, dir + "/" + name));
  return durable ? rt.sync_dir(dir) : Status{};
}

Status write_checkpoint(Runtime& rt, const std::string& dir, const std::string& name,
                        const std::vector<std::string>& entries) {
  std::string text = std::string(kVersion) + "\n" + std::to_string(entries.size()) + "\n";
  for (const std::string& e : entries) text += e + "\n";
  return write_file_atomically(rt, dir, name, std::as_bytes(std::span(text.data(), text.size())));
}

Result<std::vector<std::string>> read_checkpoint(Runtime& rt, const std::string& dir, const std::string& name) {
  std::vector<std::byte> data;
  SAMSA_TRY_ASSIGN(data, read_file(rt, dir + "/" + name, kCheckpointBytesMax));
  std::vector<std::string> lines = split_lines(data);
  if (lines.size() < 2 || lines[0] != kVersion) return Errc::corrupt;
  size_t count = 0;
  auto [end, ec] = std::from_chars(lines[1].data(), lines[1].data() + lines[1].size(), count);
  if (ec != std::errc{} || end != lines[1].data() + lines[1].size() || count != lines.size() - 2) return Errc::corrupt;
  return std::vector<std::string>(lines.begin() + 2, lines.end());
}

}  // namespace samsa
