// The partition log under the simulator's disk faults. RapidCheck generates a configuration and
// a sequence of operations (appends, flushes, crashes, retention, truncation, EIO, ENOSPC); the
// log runs on a simulated node whose disk loses or tears unsynced writes on every crash.
// Checked after every recovery and at the end:
// - the log is a prefix of what was appended (acknowledged, or attempted by an append that
//   failed after writing: those may or may not survive);
// - it holds every offset below the recovery point the log reported before the crash;
// - offsets are dense and increasing, and no reader ever sees a batch that fails validation;
// - the index finds every offset's batch;
// - retention never deletes the active segment.
// A failure shrinks to a small case; the counterexample carries the simulator seed.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>

#include <map>

#include "log/partition_log.h"
#include "sim/world/sim_disk.h"
#include "sim/world/simulator.h"

namespace samsa::sim {
namespace {

enum class OpKind { append, append_many, flush, crash, retention, truncate, eio_write, eio_sync, enospc, space_ok, kinds };

struct LogOp {
  int kind;  // OpKind, as an int so that shrinking works on it
  int a;     // records, bytes or distance, depending on kind
};

struct LogCase {
  uint64_t seed;
  int segment_choice;  // 0: 512 B, 1: 2 KiB, 2: 1 MiB segments
  int flush_choice;    // 0: every message, 1: every 3, 2: only explicit
  std::vector<LogOp> ops;
};

void showValue(const LogCase& c, std::ostream& os) {
  static constexpr const char* kNames[] = {"append", "append-many", "flush", "crash", "retention",
                                           "truncate", "eio-write", "eio-sync", "enospc", "space-ok"};
  os << "seed=" << c.seed << " segment_choice=" << c.segment_choice << " flush_choice=" << c.flush_choice << " ops=[";
  for (const LogOp& op : c.ops) os << kNames[op.kind] << "(" << op.a << ") ";
  os << "]";
}

}  // namespace
}  // namespace samsa::sim

namespace rc {
template <>
struct Arbitrary<samsa::sim::LogOp> {
  static Gen<samsa::sim::LogOp> arbitrary() {
    using samsa::sim::LogOp;
    return gen::build<LogOp>(gen::set(&LogOp::kind, gen::inRange(0, static_cast<int>(samsa::sim::OpKind::kinds))),
                             gen::set(&LogOp::a, gen::inRange(1, 400)));
  }
};
template <>
struct Arbitrary<samsa::sim::LogCase> {
  static Gen<samsa::sim::LogCase> arbitrary() {
    using samsa::sim::LogCase;
    return gen::build<LogCase>(gen::set(&LogCase::seed, gen::arbitrary<uint64_t>()),
                               gen::set(&LogCase::segment_choice, gen::inRange(0, 3)),
                               gen::set(&LogCase::flush_choice, gen::inRange(0, 3)),
                               gen::set(&LogCase::ops, gen::container<std::vector<samsa::sim::LogOp>>(gen::arbitrary<samsa::sim::LogOp>())));
  }
};
}  // namespace rc

namespace samsa::sim {
namespace {

const std::string kDir = "data/topic-0";

// What survives crashes: the model of the log and the verdict so far.
struct World {
  std::map<int64_t, std::string> values;  // offset -> value, acknowledged or maybe-written
  int64_t durable_end = 0;                // the log's own claim of what is synced
  uint64_t next_value = 0;
  size_t next_op = 0;
  bool crash_requested = false;
  bool done = false;
  bool final_crash_done = false;  // every case ends with one more crash and recovery
  uint64_t recoveries = 0;
  std::string failure;

  void check(bool ok, const std::string& what) {
    if (!ok && failure.empty()) failure = what;
  }
};

LogConfig config_for(const LogCase& c) {
  LogConfig cfg;
  cfg.segment_bytes = c.segment_choice == 0 ? 512 : c.segment_choice == 1 ? 2048 : 1 << 20;
  cfg.index_interval_bytes = c.segment_choice == 2 ? 4096 : 64;
  cfg.flush_messages = c.flush_choice == 0 ? 1 : c.flush_choice == 1 ? 3 : INT64_MAX;
  cfg.retention_ms = -1;
  cfg.retention_bytes = 1500;
  return cfg;
}

// Reads the whole log through read(), as a fetch would, checking every property of its content.
void verify(PartitionLog& log, World& w) {
  int64_t expected = log.log_start_offset();
  while (expected < log.log_end_offset() && w.failure.empty()) {
    Result<LogSlice> slice = log.read_slice(expected, 4096);
    w.check(slice.ok(), fmt::format("read({}) failed: {}", expected, errc_name(slice.error())));
    if (!slice.ok() || slice->length == 0) return;
    std::vector<std::byte> data(slice->length);
    Result<size_t> n = slice->file->pread(slice->position, data);
    w.check(n.ok() && *n == data.size(), "short read of a slice");
    Result<std::vector<ConstBytes>> batches = split_batches(data, 1 << 20);
    w.check(batches.ok(), "slice is not whole batches");
    if (!batches.ok()) return;
    for (ConstBytes b : *batches) {
      w.check(validate_batch(b).ok(), fmt::format("a reader saw a corrupt batch at offset {}", expected));
      Result<std::vector<Record>> records = decode_records(b);
      if (!records.ok()) return;
      for (const Record& r : *records) {
        if (r.offset < expected) continue;  // the slice starts at the batch holding `expected`
        w.check(r.offset == expected, fmt::format("offsets not dense: {} after {}", r.offset, expected - 1));
        auto it = w.values.find(r.offset);
        const std::string got(reinterpret_cast<const char*>(r.value->data()), r.value->size());
        w.check(it != w.values.end() && it->second == got,
                fmt::format("offset {} holds '{}', which was never appended there", r.offset, got));
        expected = r.offset + 1;
      }
    }
  }
  w.check(expected == log.log_end_offset(), fmt::format("read ended at {} but the log ends at {}", expected, log.log_end_offset()));
}

void after_recovery(PartitionLog& log, World& w) {
  const int64_t end = log.log_end_offset();
  w.check(end >= w.durable_end, fmt::format("recovered log ends at {} but {} was flushed", end, w.durable_end));
  const int64_t model_end = w.values.empty() ? 0 : w.values.rbegin()->first + 1;
  w.check(end <= model_end, fmt::format("recovered log ends at {}, past anything appended ({})", end, model_end));
  w.values.erase(w.values.lower_bound(end), w.values.end());  // those were lost: forget them
  w.durable_end = std::min(w.durable_end, end);
  verify(log, w);
}

void do_append(PartitionLog& log, World& w, int records, int value_bytes) {
  const int64_t start = log.log_end_offset();
  BatchBuilder b(1'767'225'600'000 + static_cast<int64_t>(w.next_value));
  std::vector<std::string> vals;
  for (int i = 0; i < records; ++i) {
    vals.push_back(fmt::format("v{}-{}", w.next_value++, std::string(static_cast<size_t>(value_bytes % 97), 'x')));
    b.add(1'767'225'600'000 + static_cast<int64_t>(w.next_value), std::nullopt, as_bytes(vals.back()));
  }
  const bool was_offline = log.offline();
  Result<AppendResult> r = log.append(b.build(), 1);
  if (r.ok()) {
    w.check(!was_offline, "an offline log acknowledged an append");
    w.check(r->base_offset == start && r->last_offset == start + records - 1, "append assigned unexpected offsets");
  }
  // Acknowledged, or failed after writing (EIO, a failed flush): either way these offsets may
  // now hold these values. ENOSPC and validation errors write nothing.
  if (r.ok() || (r.error() != Errc::no_space && !was_offline)) {
    for (int i = 0; i < records; ++i) w.values[start + i] = vals[static_cast<size_t>(i)];
  }
}

void run_op(Simulator& sim, NodeId node, PartitionLog& log, World& w, const LogOp& op) {
  SimDisk& disk = *sim.node(node).disk;
  switch (static_cast<OpKind>(op.kind)) {
    case OpKind::append: do_append(log, w, 1 + op.a % 3, op.a); break;
    case OpKind::append_many: do_append(log, w, 1 + op.a % 20, op.a); break;
    case OpKind::flush:
      if (log.flush().ok()) w.check(log.recovery_point() == log.log_end_offset(), "flush did not move the recovery point");
      break;
    case OpKind::retention: {
      const int64_t end = log.log_end_offset();
      const int64_t active_base = log.active().base_offset();
      if (log.apply_retention().ok()) {
        w.check(log.segment_count() >= 1 && log.log_end_offset() == end, "retention changed the log end");
        w.check(log.active().base_offset() == active_base, "retention deleted the active segment");
      }
      break;
    }
    case OpKind::truncate: {
      const int64_t target = std::max(log.log_start_offset(), log.log_end_offset() - op.a % 10);
      Result<LogSlice> at = log.read_slice(target, 1);
      const int64_t cut = at.ok() && at->length > 0 ? at->first_offset : target;  // whole batches go
      if (log.truncate_to(target).ok()) {
        w.check(log.log_end_offset() <= target, "truncate_to left offsets past its target");
        w.values.erase(w.values.lower_bound(log.log_end_offset()), w.values.end());
        w.durable_end = std::min(w.durable_end, log.log_end_offset());
      } else {
        // A truncation that failed part-way may have removed anything from the cut on.
        w.durable_end = std::min(w.durable_end, cut);
      }
      break;
    }
    case OpKind::eio_write: disk.fail_next(DiskOp::write, "data"); break;
    case OpKind::eio_sync: disk.fail_next(DiskOp::sync, "data"); break;
    case OpKind::enospc: disk.config().capacity_bytes = disk.used_bytes() + static_cast<uint64_t>(op.a); break;
    case OpKind::space_ok: disk.config().capacity_bytes = 1ULL << 32; break;
    case OpKind::crash: case OpKind::kinds: SAMSA_UNREACHABLE();
  }
  if (!log.offline()) w.durable_end = std::max(w.durable_end, log.recovery_point());
}

void node_main(Simulator& sim, NodeId node, Runtime& rt, const LogCase& c, World& w) {
  Result<std::unique_ptr<PartitionLog>> log = PartitionLog::open(rt, kDir, config_for(c));
  if (!log.ok()) {
    // Opening may fail only because of an injected fault; the next crash and restart retries.
    w.check(w.next_op < c.ops.size(), fmt::format("the log could not be opened: {}", errc_name(log.error())));
    w.crash_requested = true;
    (void)rt.sleep_until(Deadline::never());
    return;
  }
  ++w.recoveries;
  after_recovery(**log, w);
  while (w.next_op < c.ops.size() && w.failure.empty()) {
    const LogOp& op = c.ops[w.next_op++];
    if (static_cast<OpKind>(op.kind) == OpKind::crash) {
      w.crash_requested = true;
      (void)rt.sleep_until(Deadline::never());
      return;
    }
    run_op(sim, node, **log, w, op);
  }
  if (!(*log)->offline()) verify(**log, w);  // an offline log rightly refuses reads
  if (!w.final_crash_done) {
    w.final_crash_done = true;
    w.crash_requested = true;
    (void)rt.sleep_until(Deadline::never());
    return;
  }
  w.done = true;
}

RC_GTEST_PROP(LogProperties, RecoveredLogIsAPrefixHoldingEverythingFlushed, (const LogCase& c)) {
  Simulator sim(SimOptions{c.seed, LogLevel::error, true, {}});
  World w;
  NodeId node = sim.add_node("n1", [&](Runtime& rt) { node_main(sim, rt.node_id(), rt, c, w); });
  sim.start(node);
  for (int round = 0; round < 1000 && !w.done && w.failure.empty(); ++round) {
    while (!w.done && !w.crash_requested && sim.step()) {
    }
    if (!w.crash_requested) break;
    w.crash_requested = false;
    sim.node(node).disk->clear_faults();
    sim.node(node).disk->config().capacity_bytes = 1ULL << 32;
    sim.crash(node);
    sim.start(node);
  }
  RC_LOG() << "failure: " << w.failure << "\n";
  RC_ASSERT(w.failure.empty());
  RC_ASSERT(w.done);
}

}  // namespace
}  // namespace samsa::sim
