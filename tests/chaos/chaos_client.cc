// samsa-chaos-client: the simulator's own clients and checker against real brokers, for the
// network-namespace chaos test (tests/interop/netns_chaos_test.sh). It runs the cluster
// scenario's workload (sim/scenarios/workload.h: two producers with acks=all, a consumer that
// keeps every poll) on the Linux runtime while the test script cuts links, drops packets and
// kills brokers; once the script says the faults healed (--heal-file appears) it judges
// liveness from --grace-ms later, and once told to stop (--stop-file) it reads every partition
// to its end and prints the queue checker's verdicts in samsa-sim's format. Exit code 0 when
// every check passed, 1 otherwise, 2 on bad arguments.
//
// Threading: one reactor thread (run_real); the workload runs as fibers of it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "real/backend/real_runtime.h"
#include "sim/checkers/queue_checker.h"
#include "sim/scenarios/workload.h"

namespace {

using namespace samsa;
using namespace std::chrono_literals;

constexpr int kProducers = 2;
constexpr int kConsumer = 200;
constexpr Duration kPollInterval = 200ms;

struct Args {
  std::vector<std::string> bootstrap;
  std::string topic = "chaos";
  int32_t partitions = 3;
  int16_t replication_factor = 3;
  int32_t min_insync = 2;
  std::string heal_file, stop_file;
  int64_t grace_ms = 20'000;
  int64_t max_seconds = 600;
  uint64_t seed = 1;
};

Result<Address> parse_address(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return Errc::invalid_argument;
  try {
    return Address{s.substr(0, colon), static_cast<uint16_t>(std::stoi(s.substr(colon + 1)))};
  } catch (...) {
    return Errc::invalid_argument;
  }
}

sim::WorkloadProfile profile(const Args& a, std::vector<Address> bootstrap) {
  sim::WorkloadProfile w;
  w.topic = a.topic;
  w.partitions = a.partitions;
  w.replication_factor = a.replication_factor;
  w.topic_configs = {{"min.insync.replicas", std::to_string(a.min_insync)}};
  w.acks = -1;
  w.bootstrap = std::move(bootstrap);
  w.records_max = 8;
  w.value_bytes_min = 16;
  w.value_bytes_max = 128;
  w.pause_min = 5ms;
  w.pause_max = 30ms;
  return w;
}

void print(const Args& a, const sim::QueueHistory& h, const std::vector<sim::CheckResult>& checks) {
  uint64_t acked = 0;
  for (const sim::SendRecord& s : h.sends) acked += s.outcome == sim::SendRecord::Outcome::ok ? s.values.size() : 0;
  std::printf("seed %llu (scenario netns-chaos: real brokers, samsa-sim's checker)\n", static_cast<unsigned long long>(a.seed));
  std::printf("  sends: %zu, acknowledged records: %llu, polls: %zu, records read at the end: %zu\n", h.sends.size(),
              static_cast<unsigned long long>(acked), h.polls.size(), h.final_read.size());
  std::printf("  setting: topic %s: %d partitions, replication factor %d, min.insync.replicas=%d, acks=all\n", a.topic.c_str(),
              a.partitions, a.replication_factor, a.min_insync);
  bool ok = true;
  for (const sim::CheckResult& c : checks) {
    std::printf("  check %-22s %s\n", c.name.c_str(), c.summary().c_str());
    ok = ok && c.ok();
  }
  std::printf("  verdict: %s\n", ok ? "PASS" : "FAIL");
}

int run(const Args& a, std::vector<Address> bootstrap) {
  const sim::WorkloadProfile w = profile(a, std::move(bootstrap));
  sim::QueueHistory h;
  h.partitions = w.partitions;
  std::vector<sim::CheckResult> checks;
  real::RealOptions options;
  options.seed = a.seed;
  options.log_level = LogLevel::warn;
  real::run_real(options, [&](Runtime& rt) {
    std::vector<FiberId> clients;
    for (int k = 1; k <= kProducers; ++k) {
      h.producers.push_back(k);
      clients.push_back(rt.spawn(fmt::format("producer-{}", k), [&rt, &w, &h, k] { sim::producer_main(rt, w, k, h); }));
    }
    h.ordered_consumers.push_back(kConsumer);
    clients.push_back(rt.spawn("consumer", [&rt, &w, &h] { sim::consumer_main(rt, w, kConsumer, h); }));
    const Instant give_up = rt.now() + std::chrono::seconds(a.max_seconds);
    bool healed = false;
    while (rt.now() < give_up && !std::filesystem::exists(a.stop_file)) {
      if (!healed && std::filesystem::exists(a.heal_file)) {
        healed = true;
        h.healed = rt.now();
        h.live_from = h.healed + std::chrono::milliseconds(a.grace_ms);
      }
      (void)rt.sleep(kPollInterval);
    }
    if (!healed) h.healed = h.live_from = rt.now();
    h.live_until = rt.now();
    for (FiberId f : clients) rt.cancel(f);
    for (FiberId f : clients) (void)rt.join(f, Deadline::never());
    sim::final_read_main(rt, w, h);
    checks = sim::check_queue(h);
  });
  print(a, h, checks);
  for (const sim::CheckResult& c : checks) {
    if (!c.ok()) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"samsa-chaos-client: samsa-sim's workload and checker against real brokers"};
  Args a;
  std::string bootstrap;
  app.add_option("--bootstrap-server", bootstrap, "HOST:PORT[,...]")->required();
  app.add_option("--topic", a.topic);
  app.add_option("--partitions", a.partitions)->check(CLI::Range(1, 100));
  app.add_option("--replication-factor", a.replication_factor)->check(CLI::Range(1, 10));
  app.add_option("--min-insync", a.min_insync)->check(CLI::Range(1, 10));
  app.add_option("--heal-file", a.heal_file, "appears when the faults have healed")->required();
  app.add_option("--stop-file", a.stop_file, "appears when the clients should stop")->required();
  app.add_option("--grace-ms", a.grace_ms, "after healing, before liveness is judged")->check(CLI::Range(int64_t{0}, int64_t{600'000}));
  app.add_option("--max-seconds", a.max_seconds, "stop regardless after this long")->check(CLI::Range(int64_t{1}, int64_t{3600}));
  app.add_option("--seed", a.seed, "the clients' random choices");
  CLI11_PARSE(app, argc, argv);
  std::vector<Address> addresses;
  size_t at = 0;
  while (at <= bootstrap.size()) {
    const size_t comma = std::min(bootstrap.find(',', at), bootstrap.size());
    Result<Address> addr = parse_address(bootstrap.substr(at, comma - at));
    if (!addr.ok()) {
      std::fprintf(stderr, "samsa-chaos-client: bad --bootstrap-server entry '%s'\n", bootstrap.substr(at, comma - at).c_str());
      return 2;
    }
    addresses.push_back(*addr);
    at = comma + 1;
  }
  return run(a, std::move(addresses));
}
