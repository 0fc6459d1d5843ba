#include "sim/campaign/runner.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>

namespace samsa::sim {

namespace {

using SeedFn = std::function<nlohmann::json(uint64_t)>;
using AbortedFn = std::function<nlohmann::json(uint64_t, const std::string&)>;

}  // namespace

// Everything a seed decides must be the same the second time.
CheckResult determinism_check(const RunResult& a, const RunResult& b) {
  CheckResult c("determinism");
  c.unit = "reruns";
  c.examined = 1;
  std::string diff;
  if (a.trace_hash != b.trace_hash) diff += fmt::format(" trace hash {:016x} then {:016x};", a.trace_hash, b.trace_hash);
  if (a.rng_digest != b.rng_digest) diff += fmt::format(" randomness digest {:016x} then {:016x};", a.rng_digest, b.rng_digest);
  if (a.steps != b.steps) diff += fmt::format(" steps {} then {};", a.steps, b.steps);
  if (a.ok() != b.ok()) diff += fmt::format(" verdict {} then {};", a.ok() ? "PASS" : "FAIL", b.ok() ? "PASS" : "FAIL");
  if (!diff.empty()) c.fail("the same seed ran differently:" + diff);
  return c;
}

nlohmann::json aborted_record(const RunOptions& o, const CampaignPlan& plan, uint64_t seed, const std::string& why) {
  RunResult r;
  r.seed = seed;
  r.scenario = o.scenario;
  CheckResult c("run-completed");
  c.unit = "runs";
  c.examined = 1;
  c.fail(why);
  r.checks.push_back(c);
  nlohmann::json j = seed_record(o, r, plan.range, plan.shard);
  j["report"] = fmt::format("seed {} (scenario {}): {}\n  replay: {}\n", seed, o.scenario, why, replay_command(o, seed));
  return j;
}

namespace {

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::vector<uint64_t> seeds;
  size_t next = 0;                  // index of the next seed it will start
  std::optional<uint64_t> running;  // started, no record yet
  std::string buffer;
};

[[noreturn]] void worker_main(const SeedFn& run, const Worker& w, int fd) {
  for (size_t i = w.next; i < w.seeds.size(); ++i) {
    if (!write_all(fd, nlohmann::json{{"started", w.seeds[i]}}.dump() + "\n")) ::_exit(3);
    if (!write_all(fd, run(w.seeds[i]).dump() + "\n")) ::_exit(3);
  }
  ::_exit(0);
}

bool spawn(const SeedFn& run, Worker& w, const std::vector<Worker>& all) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    for (const Worker& other : all) {
      if (other.fd >= 0) ::close(other.fd);
    }
    worker_main(run, w, fds[1]);
  }
  ::close(fds[1]);
  w.pid = pid;
  w.fd = fds[0];
  w.buffer.clear();
  w.running.reset();
  return true;
}

std::string exit_reason(int status) {
  if (WIFSIGNALED(status)) return fmt::format("the run aborted (signal {}: {})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  return fmt::format("the run's process exited with code {} before reporting", WEXITSTATUS(status));
}

class Progress {
 public:
  Progress(bool on, uint64_t total) : on_(on), total_(total), started_(std::chrono::steady_clock::now()) {}
  void record(bool ok) {
    ++done_;
    failed_ += ok ? 0 : 1;
    if (!on_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const double rate = s > 0 ? static_cast<double>(done_) / s : 0;
    const double left = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
    const int width = 30;
    const int filled = static_cast<int>(width * done_ / std::max<uint64_t>(total_, 1));
    std::fprintf(stderr, "\r[%s%s] %llu/%llu seeds, %llu failed, %.2f seeds/s, %.0f s left   ", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), static_cast<unsigned long long>(done_),
                 static_cast<unsigned long long>(total_), static_cast<unsigned long long>(failed_), rate, left);
    if (done_ == total_) std::fprintf(stderr, "\n");
  }

 private:
  bool on_;
  uint64_t total_, done_ = 0, failed_ = 0;
  std::chrono::steady_clock::time_point started_;
};

// Complete lines of w's buffer: a "started" line or a seed record.
void take_lines(Worker& w, Progress& progress, const RecordSink& on_record) {
  size_t eol;
  while ((eol = w.buffer.find('\n')) != std::string::npos) {
    const std::string line = w.buffer.substr(0, eol);
    w.buffer.erase(0, eol + 1);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j.contains("started")) {
      w.running = j["started"].get<uint64_t>();
      ++w.next;
      continue;
    }
    w.running.reset();
    progress.record(j.value("ok", false));
    on_record(j);
  }
}

}  // namespace

std::vector<uint64_t> shard_seeds(const CampaignPlan& plan) {
  std::vector<uint64_t> out;
  for (uint64_t s = plan.range.first; s <= plan.range.last; ++s) {
    if (plan.shard.holds(plan.range, s)) out.push_back(s);
    if (s == UINT64_MAX) break;
  }
  return out;
}

nlohmann::json run_seed(const RunOptions& o, const CampaignPlan& plan, uint64_t seed) {
  RunResult r = run_one(o, seed, plan.level);
  if (plan.check_determinism) r.checks.push_back(determinism_check(r, run_one(o, seed, plan.level)));
  return seed_record(o, r, plan.range, plan.shard, plan.with_reports);
}

bool run_campaign(const RunOptions& o, const CampaignPlan& plan, const RecordSink& on_record) {
  return run_campaign_with(
      plan, [&](uint64_t seed) { return run_seed(o, plan, seed); },
      [&](uint64_t seed, const std::string& why) { return aborted_record(o, plan, seed, why); }, on_record);
}

bool run_campaign_with(const CampaignPlan& plan, const SeedFn& run, const AbortedFn& aborted, const RecordSink& on_record) {
  const std::vector<uint64_t> seeds = shard_seeds(plan);
  Progress progress(plan.progress, seeds.size());
  const size_t jobs = std::min<size_t>(static_cast<size_t>(std::clamp(plan.jobs, 1, CampaignPlan::kJobsMax)), seeds.size());
  if (jobs <= 1) {
    for (uint64_t s : seeds) {
      const nlohmann::json j = run(s);
      progress.record(j.value("ok", false));
      on_record(j);
    }
    return true;
  }
  std::vector<Worker> workers(jobs);
  for (size_t i = 0; i < seeds.size(); ++i) workers[i % jobs].seeds.push_back(seeds[i]);
  for (Worker& w : workers) {
    if (!spawn(run, w, workers)) return false;
  }
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (Worker& w : workers) {
      if (w.fd < 0) continue;
      fds.push_back(pollfd{w.fd, POLLIN, 0});
      owners.push_back(&w);
    }
    if (fds.empty()) return true;
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return false;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Worker& w = *owners[i];
      char buf[65536];
      const ssize_t n = ::read(w.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        w.buffer.append(buf, static_cast<size_t>(n));
        take_lines(w, progress, on_record);
        continue;
      }
      ::close(w.fd);
      w.fd = -1;
      int status = 0;
      while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
      const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (clean && !w.running) continue;
      // The seed it was running, or (died between seeds) the next one: each death ends a seed,
      // so a worker that keeps dying still gets through its list.
      std::optional<uint64_t> lost = w.running;
      if (!lost && w.next < w.seeds.size()) lost = w.seeds[w.next++];
      if (lost) {
        const nlohmann::json j = aborted(*lost, exit_reason(status));
        progress.record(false);
        on_record(j);
      }
      if (w.next < w.seeds.size() && !spawn(run, w, workers)) return false;  // the rest of its seeds
    }
  }
}

}  // namespace samsa::sim
