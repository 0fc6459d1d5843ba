#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "real/backend/posix_io.h"

namespace samsa::real {

PosixFile::PosixFile(Reactor& reactor, int fd, std::string path)
    : reactor_(reactor), fd_(fd), path_(std::move(path)) {}

PosixFile::~PosixFile() { ::close(fd_); }

Result<size_t> PosixFile::pread(uint64_t offset, Bytes buf) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errc_from_errno(errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status PosixFile::pwrite(uint64_t offset, ConstBytes data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errc_from_errno(errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status{};
}

Status PosixFile::sync() {
  const int fd = fd_;
  int err = reactor_.offload([fd] { return ::fdatasync(fd) == 0 ? 0 : errno; });
  return errc_from_errno(err);
}

Status PosixFile::truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return errc_from_errno(errno);
  return Status{};
}

Result<uint64_t> PosixFile::size() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return errc_from_errno(errno);
  return static_cast<uint64_t>(st.st_size);
}

Result<std::unique_ptr<File>> posix_open(Reactor& reactor, const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::read_only: flags |= O_RDONLY; break;
    case OpenMode::read_write: flags |= O_RDWR; break;
    case OpenMode::create: flags |= O_RDWR | O_CREAT; break;
    case OpenMode::create_new: flags |= O_RDWR | O_CREAT | O_EXCL; break;
  }
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errc_from_errno(errno);
  return std::unique_ptr<File>(std::make_unique<PosixFile>(reactor, fd, path));
}

Status posix_remove_file(const std::string& path) {
  return ::unlink(path.c_str()) == 0 ? Status{} : Status{errc_from_errno(errno)};
}

Status posix_rename(const std::string& from, const std::string& to) {
  return ::rename(from.c_str(), to.c_str()) == 0 ? Status{} : Status{errc_from_errno(errno)};
}

Status posix_create_dir(const std::string& path) {
  return ::mkdir(path.c_str(), 0755) == 0 ? Status{} : Status{errc_from_errno(errno)};
}

Status posix_remove_dir(const std::string& path) {
  return ::rmdir(path.c_str()) == 0 ? Status{} : Status{errc_from_errno(errno)};
}

Result<std::vector<std::string>> posix_list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return errc_from_errno(errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

Status posix_sync_dir(Reactor& reactor, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errc_from_errno(errno);
  int err = reactor.offload([fd] { return ::fsync(fd) == 0 ? 0 : errno; });
  ::close(fd);
  return errc_from_errno(err);
}

}  // namespace samsa::real
