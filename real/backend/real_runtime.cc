#include "real/backend/real_runtime.h"

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <time.h>

#include <cstdio>

#include "real/backend/posix_io.h"

namespace samsa::real {

namespace {
uint64_t os_seed() {
  uint64_t seed = 0;
  if (::getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = 0x5a5a5a5a;
  return seed;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warn: return "WARN";
    case LogLevel::error: return "ERROR";
    case LogLevel::off: return "OFF";
  }
  return "?";
}
}  // namespace

RealRuntime::RealRuntime(Reactor& reactor, const RealOptions& options)
    : reactor_(reactor),
      node_(options.node),
      prng_(options.seed != 0 ? options.seed : os_seed()),
      log_level_(options.log_level),
      start_(reactor.now()) {}

uint64_t RealRuntime::open_files_max() const {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<uint64_t>(r.rlim_cur);
}

int64_t RealRuntime::wall_clock_ms() const {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string RealRuntime::boot_id() const {
  // Read once per call: small, and only at a broker's start.
  std::FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "r");
  if (f == nullptr) return "";  // unknown: no restart counts as the same boot
  char buf[64] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string id(buf, n);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

FiberId RealRuntime::spawn(std::string name, std::function<void()> body) {
  return reactor_.spawn(node_, std::move(name), std::move(body));
}

Result<std::unique_ptr<Listener>> RealRuntime::listen(const Address& address) {
  return posix_listen(reactor_, address);
}

Result<std::unique_ptr<Socket>> RealRuntime::connect(const Address& address, Deadline deadline) {
  return posix_connect(reactor_, address, deadline);
}

Status RealRuntime::send_file(Socket& socket, File& file, uint64_t offset, uint64_t length, Deadline deadline) {
  auto* s = dynamic_cast<PosixSocket*>(&socket);
  auto* f = dynamic_cast<PosixFile*>(&file);
  SAMSA_ASSERT_MSG(s != nullptr && f != nullptr, "send_file needs this runtime's socket and file");
  return posix_send_file(reactor_, *s, *f, offset, length, deadline);
}

Result<std::unique_ptr<File>> RealRuntime::open_file(const std::string& path, OpenMode mode) {
  return posix_open(reactor_, path, mode);
}
Status RealRuntime::remove_file(const std::string& path) { return posix_remove_file(path); }
Status RealRuntime::rename(const std::string& from, const std::string& to) { return posix_rename(from, to); }
Status RealRuntime::create_dir(const std::string& path) { return posix_create_dir(path); }
Status RealRuntime::remove_dir(const std::string& path) { return posix_remove_dir(path); }
Result<std::vector<std::string>> RealRuntime::list_dir(const std::string& path) { return posix_list_dir(path); }
Status RealRuntime::sync_dir(const std::string& path) { return posix_sync_dir(reactor_, path); }

void RealRuntime::log(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;  // callers log freely; the level set at start decides
  const double secs = static_cast<double>((now() - start_).count()) / 1e9;
  std::fprintf(stderr, "[%12.6f] n%d %-5s %.*s\n", secs, node_.value, level_name(level),
               static_cast<int>(message.size()), message.data());
}

void keep_freed_memory_for_broker() {
  constexpr int kMmapThresholdBytes = 32 << 20;  // glibc's largest: frames up to it come from the heap
  constexpr int kTrimThresholdBytes = 256 << 20;  // a freed heap top goes back only past this
  (void)mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  (void)mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
}

void run_real(const RealOptions& options, const std::function<void(Runtime&)>& main) {
  ::signal(SIGPIPE, SIG_IGN);  // a peer closing mid-sendfile must be an error, not a kill
  Reactor reactor;
  RealRuntime rt(reactor, options);
  FiberId main_fiber = reactor.spawn(options.node, "main", [&] { main(rt); });
  reactor.run(main_fiber, options.node);
}

}  // namespace samsa::real
