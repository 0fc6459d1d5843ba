// The timeline of one run (samsa-sim --timeline FILE): what it collects from the run's trace
// (nodes up, down and paused; partitions and clogs between nodes; the faults the world injected),
// from a scenario's RunWatch (what each node is; per partition, the leader, ISR, high watermark
// and log end of every replica over time; the clients' sends and polls) and from the verdict
// (every anomaly the checkers placed in time, the nemesis' decisions), and the self-contained
// HTML page it renders (page.cc): no server, no network, one file.
//
// Ownership: the caller owns it and keeps it alive for the run; the trace sink and the watch it
// hands out point at it. Scheduler context (the run's own thread); it never changes the run.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/checkers/verdict.h"
#include "sim/checkers/watch.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

class Timeline {
 public:
  // Limits on what one page holds; past them the page says what it dropped.
  static constexpr size_t kSpansMax = 20'000;        // node states and network bands
  static constexpr size_t kFaultMarksMax = 5'000;    // world faults (EIO hits, resets, clock jumps)
  static constexpr size_t kSamplesMax = 200'000;     // replica samples, all partitions
  static constexpr Duration kSampleInterval = std::chrono::milliseconds(100);  // log end and HW
  static constexpr Duration kBucket = std::chrono::milliseconds(500);          // client ops

  // Wraps `next` (may be empty): every traced record goes to this timeline, then to `next`.
  TraceSink sink(TraceSink next);
  RunWatch watch();
  // The verdict: checks, anomaly marks, the nemesis' schedule, the end of the run.
  void finish(const RunResult& result, const std::string& replay_command);
  // The page as JSON (what page.cc renders): for tests and tools.
  std::string data_json() const;

  struct Span {
    Instant from{}, to{};
    std::string state;  // node: up, down, paused; band: partition, clog
  };
  struct Sample {
    Instant at{};
    bool live = true;  // false: the replica's node is down (no replica to show)
    bool leader = false, in_isr = false;
    int32_t epoch = 0;
    int64_t log_start = 0, log_end = 0, high_watermark = 0;
  };

 private:
  struct NodeLane {
    std::string name;
    int32_t broker_id = -1;
    std::vector<Span> spans;
    std::optional<Span> open;  // the state it is in now
  };
  struct ReplicaTrack {
    std::vector<Sample> samples;
    std::optional<Sample> pending;  // the newest, not yet written (log end and HW are thinned)
    bool seen_now = false;
  };
  using Pair = std::pair<int32_t, int32_t>;
  using Tp = std::pair<std::string, int32_t>;
  struct ClientLane {
    std::string name;
    std::map<int64_t, std::array<uint64_t, 3>> buckets;  // bucket -> ok, failed, ambiguous (polls: records, 0, 0)
  };

  void on_trace(const TraceEvent& e);
  void on_fault(const TraceEvent& e);
  void node_state(int32_t node, Instant at, const std::string& state);
  void close_band(std::map<Pair, Span>& open, const Pair& p, Instant at);
  void on_replicas(Instant now, const std::vector<ReplicaView>& views);
  void write_sample(ReplicaTrack& track, const Sample& s);
  void on_history(const std::string& label, const QueueHistory& h);
  NodeLane& lane(int32_t node);
  nlohmann::json data_json_value() const;
  void verdict_json(nlohmann::json& j) const;
  bool room(size_t n, size_t max, const char* what);

  std::map<int32_t, NodeLane> nodes_;
  std::map<int32_t, int32_t> broker_node_;  // broker id -> simulator node
  std::map<Pair, Span> blocked_, clogged_;   // open bands by (from, to)
  std::vector<std::tuple<Pair, Span>> bands_;
  std::vector<std::tuple<Instant, int32_t, std::string>> faults_;  // at, node (-1: none), what
  std::map<Tp, std::map<int32_t, ReplicaTrack>> replicas_;        // by broker id
  size_t samples_ = 0;
  std::vector<ClientLane> clients_;
  std::map<std::string, uint64_t> dropped_;  // what -> how many, past a limit
  std::optional<RunResult> result_;
  std::string replay_command_;
  Instant last_{};
};

// The self-contained page for `t` (page.cc's script around t's data).
std::string timeline_html(const Timeline& t);

}  // namespace samsa::sim
