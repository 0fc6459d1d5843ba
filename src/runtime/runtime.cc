#include "runtime/runtime.h"

namespace samsa {

Status read_exact(Socket& socket, Bytes buf, Deadline deadline) {
  size_t done = 0;
  while (done < buf.size()) {
    Result<size_t> n = socket.read_some(buf.subspan(done), deadline);
    if (!n.ok()) return n.status();
    SAMSA_ASSERT(*n > 0 && *n <= buf.size() - done);
    done += *n;
  }
  return Status{};
}

Status create_dirs(Runtime& rt, const std::string& path) {
  if (path.empty()) return Errc::invalid_argument;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty() || prefix == "." ) continue;
    Status s = rt.create_dir(prefix);
    if (s.code() == Errc::already_exists) continue;
    if (!s.ok()) return s;
    size_t slash = prefix.rfind('/');
    std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : prefix.substr(0, slash));
    SAMSA_TRY(rt.sync_dir(parent));
  }
  return Status{};
}

Result<std::vector<std::byte>> read_file(Runtime& rt, const std::string& path, uint64_t size_max) {
  std::unique_ptr<File> file;
  SAMSA_TRY_ASSIGN(file, rt.open_file(path, OpenMode::read_only));
  uint64_t size = 0;
  SAMSA_TRY_ASSIGN(size, file->size());
  if (size > size_max) return Errc::too_large;
  std::vector<std::byte> data(size);
  size_t n = 0;
  SAMSA_TRY_ASSIGN(n, file->pread(0, data));
  data.resize(n);
  return data;
}

}  // namespace samsa
