#include "sim/scenarios/demo_scenario.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <set>

#include "net/frame_server.h"
#include "net/framing.h"
#include "runtime/log.h"
#include "runtime/sync.h"
#include "sim/world/sim_disk.h"
#include "sim/world/sim_network.h"
#include "sim/scenarios/nemesis.h"
#include "sim/scenarios/scenario_util.h"
#include "sim/world/simulator.h"
#include "util/crc32c.h"

namespace samsa::sim {

namespace {

constexpr uint16_t kServerPort = 9000;
constexpr size_t kPayloadBytesMax = 256;
constexpr size_t kRecordHeaderBytes = 8;  // length u32, crc32c u32
constexpr uint64_t kLogBytesMax = 64 * 1024 * 1024;
const std::string kLogDir = "data";
const std::string kLogPath = "data/log";

struct Ack {
  uint64_t seq;
  uint64_t offset;
};

// What outlives every crash: the clients' view of what was acknowledged (the history the
// checkers judge), plus the server's recovery reports.
struct History {
  std::map<int, std::vector<Ack>> acked;
  std::map<int, uint64_t> next_seq;
  uint64_t recoveries = 0;
  bool bug_ack_before_sync = false;
};

struct DemoRecord {
  uint64_t offset;
  std::string payload;
};

std::vector<std::byte> encode_record(ConstBytes payload) {
  std::vector<std::byte> rec(kRecordHeaderBytes + payload.size());
  put_u32_be(rec.data(), static_cast<uint32_t>(payload.size()));
  put_u32_be(rec.data() + 4, crc32c(payload));
  std::copy(payload.begin(), payload.end(), rec.begin() + kRecordHeaderBytes);
  return rec;
}

// Valid records from the start; stops at the first torn or corrupt one.
std::vector<DemoRecord> parse_log(ConstBytes log, uint64_t* valid_end) {
  std::vector<DemoRecord> out;
  uint64_t pos = 0;
  while (log.size() - pos >= kRecordHeaderBytes) {
    const uint32_t len = get_u32_be(log.data() + pos);
    if (len == 0 || len > kPayloadBytesMax || log.size() - pos - kRecordHeaderBytes < len) break;
    ConstBytes payload = log.subspan(pos + kRecordHeaderBytes, len);
    if (crc32c(payload) != get_u32_be(log.data() + pos + 4)) break;
    out.push_back(DemoRecord{pos, std::string(reinterpret_cast<const char*>(payload.data()), payload.size())});
    pos += kRecordHeaderBytes + len;
  }
  *valid_end = pos;
  return out;
}

ConstBytes as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

class LogServer final : public FrameHandler {
 public:
  LogServer(Runtime& rt, bool ack_before_sync) : rt_(rt), mu_(rt), offline_(rt), ack_before_sync_(ack_before_sync) {}

  Status recover() {
    SAMSA_TRY(create_dirs(rt_, kLogDir));
    Result<std::unique_ptr<File>> f = rt_.open_file(kLogPath, OpenMode::read_write);
    if (f.error() == Errc::not_found) {
      f = rt_.open_file(kLogPath, OpenMode::create_new);
      if (f.ok()) SAMSA_TRY(rt_.sync_dir(kLogDir));  // the name must survive a crash too
    }
    if (!f.ok()) return f.status();
    file_ = std::move(*f);
    std::vector<std::byte> data;
    SAMSA_TRY_ASSIGN(data, read_file(rt_, kLogPath, kLogBytesMax));
    std::vector<DemoRecord> records = parse_log(data, &end_);
    if (end_ < data.size()) {
      logf(rt_, LogLevel::info, "recovery: truncating {} torn bytes at {}", data.size() - end_, end_);
      SAMSA_TRY(file_->truncate(end_));
      SAMSA_TRY(file_->sync());
    }
    logf(rt_, LogLevel::info, "recovered {} records, {} bytes", records.size(), end_);
    return Status{};
  }

  Response handle(const ConnectionInfo& /*connection*/, FrameBuffer frame) override {
    if (frame.empty() || frame.size() > kPayloadBytesMax) return Response::close();
    if (!mu_.lock(rt_.after(5s)).ok()) return error_reply();
    LockGuard guard(mu_);
    if (offline_.is_set()) return error_reply();
    const uint64_t offset = end_;
    Status s = file_->pwrite(offset, encode_record(frame));
    if (s.ok() && (!ack_before_sync_ || ++unsynced_ % 8 == 0)) s = file_->sync();
    if (!s.ok()) {
      // Like a Kafka log dir failure: stop acknowledging anything until restarted.
      logf(rt_, LogLevel::warn, "log offline: {}", errc_name(s.code()));
      offline_.set();
      return error_reply();
    }
    end_ += kRecordHeaderBytes + frame.size();
    std::vector<std::byte> reply(9);
    reply[0] = std::byte{0};
    put_u32_be(reply.data() + 1, static_cast<uint32_t>(offset >> 32));
    put_u32_be(reply.data() + 5, static_cast<uint32_t>(offset));
    return Response::reply(std::move(reply));
  }

  Event& offline() { return offline_; }

 private:
  static Response error_reply() { return Response::reply({std::byte{1}}); }

  Runtime& rt_;
  Mutex mu_;
  Event offline_;
  bool ack_before_sync_;
  std::unique_ptr<File> file_;
  uint64_t end_ = 0;
  uint64_t unsynced_ = 0;
};

void server_main(Runtime& rt, History& history) {
  LogServer server(rt, history.bug_ack_before_sync);
  if (Status s = server.recover(); !s.ok()) {
    logf(rt, LogLevel::warn, "recovery failed: {}", s.name());
    return;
  }
  ++history.recoveries;
  FrameServerLimits limits;
  limits.frame_bytes_max = 1024;
  limits.queued_bytes_max = 64 * 1024;
  limits.idle_timeout = 30s;
  limits.write_timeout = 5s;
  FrameServer frames(rt, server, limits);
  if (!frames.start(Address{"server", kServerPort}).ok()) return;
  (void)server.offline().wait(Deadline::never());
  frames.stop();
}

void client_session(Runtime& rt, Socket& socket, int k, History& history) {
  for (;;) {
    uint64_t& seq = history.next_seq[k];
    const std::string msg = fmt::format("c{}-{}", k, seq);
    if (!write_frame(socket, as_bytes(msg), rt.after(2s)).ok()) return;
    Result<FrameBuffer> reply = read_frame(socket, 64, rt.after(2s));
    if (!reply.ok()) return;
    if (reply->size() == 9 && (*reply)[0] == std::byte{0}) {
      const uint64_t offset = uint64_t{get_u32_be(reply->data() + 1)} << 32 | get_u32_be(reply->data() + 5);
      history.acked[k].push_back(Ack{seq, offset});
      ++seq;
    } else if (!rt.sleep(100ms).ok()) {
      return;
    }
    if (!rt.sleep(Duration{in_range(rt.random_u64(), 0, 20'000'000)}).ok()) return;
  }
}

void client_main(Runtime& rt, int k, History& history) {
  history.next_seq.try_emplace(k, 1);
  for (;;) {
    Result<std::unique_ptr<Socket>> socket = rt.connect(Address{"server", kServerPort}, rt.after(2s));
    if (socket.ok()) client_session(rt, **socket, k, history);
    if (!rt.sleep(Duration{in_range(rt.random_u64(), 50'000'000, 300'000'000)}).ok()) return;
  }
}

void check_history(const History& history, const std::vector<DemoRecord>& log, RunResult& result) {
  std::map<uint64_t, const DemoRecord*> by_offset;
  for (const DemoRecord& r : log) by_offset[r.offset] = &r;
  CheckResult lost{"lost-write"}, offsets{"inconsistent-offsets"}, order{"nonmonotonic-log"};
  lost.unit = offsets.unit = "acknowledged records";
  order.unit = "records";
  uint64_t acked = 0;
  for (const auto& [k, acks] : history.acked) {
    for (const Ack& a : acks) {
      ++acked;
      ++lost.examined;
      ++offsets.examined;
      const std::string want = fmt::format("c{}-{}", k, a.seq);
      auto it = by_offset.find(a.offset);
      if (it == by_offset.end()) {
        lost.fail(fmt::format("'{}' acknowledged at offset {} is not in the recovered log", want, a.offset));
      } else if (it->second->payload != want) {
        offsets.fail(fmt::format("offset {} acknowledged '{}' but holds '{}'", a.offset, want, it->second->payload));
      }
    }
  }
  // A client sends seq n+1 only after n was acknowledged, so the first copy of each seq must
  // follow the first copy of every smaller one. Later copies are legal: a request resent after a
  // timeout can still arrive on the abandoned connection (at-least-once delivery).
  std::map<int, uint64_t> last_first_seq;
  std::set<std::pair<int, uint64_t>> seen;
  for (const DemoRecord& r : log) {
    int k = 0;
    unsigned long long seq = 0;
    if (std::sscanf(r.payload.c_str(), "c%d-%llu", &k, &seq) != 2) continue;
    if (!seen.insert({k, seq}).second) continue;
    ++order.examined;
    if (seq < last_first_seq[k]) order.fail(fmt::format("client {}: first copy of seq {} after seq {}", k, seq, last_first_seq[k]));
    last_first_seq[k] = std::max<uint64_t>(last_first_seq[k], seq);
  }
  result.acked = acked;
  result.checks.push_back(lost);
  result.checks.push_back(offsets);
  result.checks.push_back(order);
}

}  // namespace

constexpr Fault kDemoFaults[] = {Fault::machine_crash, Fault::crash_client, Fault::partition, Fault::one_way,
                                 Fault::clog,          Fault::reset,        Fault::pause_server, Fault::disk_eio};

RunResult run_demo(const DemoOptions& options) {
  SimOptions sim_options;
  sim_options.seed = options.seed;
  sim_options.log_level = options.log_level;
  sim_options.trace_sink = options.trace_sink;
  Simulator sim(sim_options);
  History history;
  history.bug_ack_before_sync = options.bug_ack_before_sync;

  const NodeId server = sim.add_node("server", [&history](Runtime& rt) { server_main(rt, history); });
  std::vector<NodeId> clients;
  for (int k = 1; k <= options.clients; ++k) {
    clients.push_back(sim.add_node(fmt::format("client{}", k), [&history, k](Runtime& rt) { client_main(rt, k, history); }));
  }
  for (const auto& [id, n] : sim.nodes()) sim.start(id);

  const Instant stop_at = sim.now() + options.fault_time;
  Nemesis nemesis(sim, NemesisTargets{{server}, clients, "", {}}, NemesisPlan::draw(sim, kDemoFaults), stop_at);
  nemesis.start();
  sim.run_until(stop_at);

  // Heal everything and check that the system makes progress again (liveness).
  nemesis.heal();
  std::map<int, size_t> acked_at_heal;
  for (int k = 1; k <= options.clients; ++k) acked_at_heal[k] = history.acked[k].size();
  sim.run_for(options.quiet_time);
  CheckResult live{"liveness"};
  live.unit = "clients";
  for (int k = 1; k <= options.clients; ++k) {
    ++live.examined;
    if (history.acked[k].size() == acked_at_heal[k]) {
      live.fail(fmt::format("client {} got no acknowledgement in {} ms after the faults healed", k, to_ms(options.quiet_time)));
    }
  }

  // Stop the clients, crash the server one last time and let it recover from what its disk kept.
  for (NodeId c : clients) sim.crash(c);
  const uint64_t recoveries = history.recoveries;
  sim.restart(server);
  const Instant recovery_deadline = sim.now() + 60s;
  while (history.recoveries == recoveries && sim.now() < recovery_deadline && sim.step()) {
  }
  RunResult result;
  result.scenario = "log-demo";
  CheckResult recovered{"recovery"};
  recovered.unit = "restarts";
  recovered.examined = 1;
  if (history.recoveries == recoveries) recovered.fail("server did not recover after the final crash");
  Result<std::vector<std::byte>> log = sim.node(server).disk->current_contents(kLogPath);
  uint64_t valid_end = 0;
  std::vector<DemoRecord> records = log.ok() ? parse_log(*log, &valid_end) : std::vector<DemoRecord>{};
  result.records = records.size();
  check_history(history, records, result);
  result.checks.push_back(live);
  result.checks.push_back(recovered);
  sim.crash(server);

  stamp_result(sim, options.seed, result);
  result.faults = nemesis.summary();
  return result;
}


}  // namespace samsa::sim
