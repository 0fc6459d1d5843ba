// Log benchmarks with same-run baselines: CRC-32C beside memcpy; PartitionLog appends (with and
// without an fdatasync per batch) beside plain pwrite appends of the same sizes (with and
// without fdatasync). Figures: experiments/results/log.md.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "log/partition_log.h"
#include "log/record_batch.h"
#include "real/backend/real_runtime.h"
#include "util/crc32c.h"

namespace {

using namespace samsa;

std::vector<std::byte> buffer(size_t n) {
  std::vector<std::byte> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(i * 131 + 7);
  return b;
}

void BM_Baseline_Memcpy(benchmark::State& state) {
  auto src = buffer(static_cast<size_t>(state.range(0)));
  std::vector<std::byte> dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Baseline_Memcpy)->Arg(64 << 10);

void BM_Crc32c_Hardware(benchmark::State& state) {
  if (!crc32c_hardware_available()) {
    state.SkipWithError("no SSE4.2");
    return;
  }
  auto src = buffer(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_hardware(0, src));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c_Hardware)->Arg(64 << 10);

void BM_Crc32c_Portable(benchmark::State& state) {
  auto src = buffer(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_portable(0, src));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c_Portable)->Arg(64 << 10);

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "samsa-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// A 16 KiB record set: 16 records of ~1 KiB, as a batching producer sends.
std::vector<std::byte> record_set() {
  BatchBuilder b(1'767'225'600'000);
  const std::string value(1000, 'x');
  for (int i = 0; i < 16; ++i) b.add(1'767'225'600'000 + i, std::nullopt, as_bytes(value));
  return b.build();
}

void log_append(benchmark::State& state, bool sync_each) {
  const std::string dir = temp_dir();
  const std::vector<std::byte> set = record_set();
  real::RealOptions options;
  options.log_level = LogLevel::warn;
  real::run_real(options, [&](Runtime& rt) {
    LogConfig c;
    c.flush_messages = sync_each ? 1 : INT64_MAX;
    auto log = PartitionLog::open(rt, dir + "/bench-0", c);
    if (!log.ok()) {
      state.SkipWithError("open failed");
      return;
    }
    for (auto _ : state) {
      if (!(*log)->append(set, 0).ok()) state.SkipWithError("append failed");
    }
  });
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * set.size()));
  std::filesystem::remove_all(dir);
}

void BM_LogAppend(benchmark::State& state) { log_append(state, false); }
void BM_LogAppend_SyncEachBatch(benchmark::State& state) { log_append(state, true); }
BENCHMARK(BM_LogAppend)->UseRealTime();
BENCHMARK(BM_LogAppend_SyncEachBatch)->UseRealTime();

void plain_write(benchmark::State& state, bool sync_each) {
  const std::string dir = temp_dir();
  const std::vector<std::byte> set = record_set();
  int fd = ::open((dir + "/plain").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  off_t pos = 0;
  for (auto _ : state) {
    if (::pwrite(fd, set.data(), set.size(), pos) != static_cast<ssize_t>(set.size())) state.SkipWithError("pwrite");
    pos += static_cast<off_t>(set.size());
    if (sync_each) ::fdatasync(fd);
  }
  ::close(fd);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * set.size()));
  std::filesystem::remove_all(dir);
}

void BM_Baseline_PlainPwrite(benchmark::State& state) { plain_write(state, false); }
void BM_Baseline_PlainPwrite_SyncEach(benchmark::State& state) { plain_write(state, true); }
BENCHMARK(BM_Baseline_PlainPwrite)->UseRealTime();
BENCHMARK(BM_Baseline_PlainPwrite_SyncEach)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
