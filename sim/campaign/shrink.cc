#include "sim/campaign/shrink.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace samsa::sim {

namespace {

using Events = std::vector<FaultEvent>;

class Shrinker {
 public:
  Shrinker(const std::function<bool(const Events&)>& fails, uint64_t runs_max) : fails_(fails), runs_max_(runs_max) {}

  bool try_run(const Events& e) {
    if (runs_ >= runs_max_) {
      exhausted_ = true;
      return false;
    }
    ++runs_;
    return fails_(e);
  }

  // ddmin: the complement of one of n chunks that still fails replaces the whole.
  Events drop_events(Events events) {
    size_t n = 2;
    while (events.size() >= 1 && !exhausted_) {
      n = std::min(n, events.size());
      bool reduced = false;
      for (size_t k = 0; k < n && !reduced; ++k) {
        const size_t from = events.size() * k / n, to = events.size() * (k + 1) / n;
        Events rest;
        for (size_t i = 0; i < events.size(); ++i) {
          if (i < from || i >= to) rest.push_back(events[i]);
        }
        if (try_run(rest)) {
          events = std::move(rest);
          n = std::max<size_t>(n - 1, 2);
          reduced = true;
        }
      }
      if (reduced) continue;
      if (n >= events.size()) break;  // no single event can go
      n = std::min(n * 2, events.size());
    }
    return events;
  }

  // Each duration argument halved while the run still fails (a few halvings at most).
  Events shorten(Events events) {
    static constexpr int kHalvingsMax = 6;
    for (size_t i = 0; i < events.size() && !exhausted_; ++i) {
      for (size_t a = 0; a < events[i].args.size() && !exhausted_; ++a) {
        if (!events[i].args[a].first.ends_with("_ns")) continue;
        for (int h = 0; h < kHalvingsMax && events[i].args[a].second > 1'000'000; ++h) {
          Events shorter = events;
          shorter[i].args[a].second /= 2;
          if (!try_run(shorter)) break;
          events = std::move(shorter);
        }
      }
    }
    return events;
  }

  uint64_t runs() const { return runs_; }
  bool exhausted() const { return exhausted_; }

 private:
  const std::function<bool(const Events&)>& fails_;
  uint64_t runs_max_;
  uint64_t runs_ = 0;
  bool exhausted_ = false;
};

}  // namespace

ShrinkResult shrink_schedule(std::vector<FaultEvent> events, const std::function<bool(const std::vector<FaultEvent>&)>& fails,
                             uint64_t runs_max) {
  Shrinker s(fails, runs_max);
  ShrinkResult r;
  r.events = s.shorten(s.drop_events(std::move(events)));
  r.runs = s.runs();
  r.budget_exhausted = s.exhausted();
  return r;
}

namespace {

std::optional<std::string> fewer_brokers(RunOptions& o, const RunResult& r) {
  auto brokers = r.shape.find("brokers");
  if (o.scenario != "cluster" || brokers == r.shape.end() || brokers->second <= 3) return std::nullopt;
  o.cluster_brokers = 3;
  o.separate_controllers = r.shape.count("separate_controllers") != 0 && r.shape.at("separate_controllers") != 0;
  return fmt::format("{} -> 3 brokers", brokers->second);
}

std::optional<std::string> one_producer(RunOptions& o, const RunResult&) {
  if (o.scenario != "broker" || o.producers <= 1) return std::nullopt;
  const int before = std::exchange(o.producers, 1);
  return fmt::format("{} -> 1 producer", before);
}

std::optional<std::string> two_members(RunOptions& o, const RunResult&) {
  if (o.scenario != "groups" || o.members <= 2) return std::nullopt;
  const int before = std::exchange(o.members, 2);
  return fmt::format("{} -> 2 members", before);
}

// Fewer records: each producer sends twice a second (the drawn pace is 12-250 sends a second),
// or the raft scenario's leader appends every 100 ms (drawn: every 2-30 ms).
std::optional<std::string> fewer_records(RunOptions& o, const RunResult&) {
  static constexpr int kSendRate = 2;
  static constexpr int kRaftPauseMs = 100;
  if (o.scenario == "raft") {
    if (o.raft_pause_ms >= kRaftPauseMs) return std::nullopt;
    const int before = std::exchange(o.raft_pause_ms, kRaftPauseMs);
    return before < 0 ? fmt::format("appends every 2-30 ms -> every {} ms", kRaftPauseMs)
                      : fmt::format("appends every {} ms -> every {} ms", before, kRaftPauseMs);
  }
  if (!takes_send_rate(o.scenario) || (o.send_rate > 0 && o.send_rate <= kSendRate)) return std::nullopt;
  const int before = std::exchange(o.send_rate, kSendRate);
  return before == 0 ? fmt::format("drawn send rate -> {} sends/s per producer", kSendRate)
                     : fmt::format("{} -> {} sends/s per producer", before, kSendRate);
}

// The faults stop 2 to 3 s after the last one the run applied (the ticks after it did nothing).
std::optional<std::string> shorter_fault_phase(RunOptions& o, const RunResult& r) {
  Instant last{};
  for (const std::string& line : r.schedule) {
    if (std::optional<FaultEvent> e = FaultEvent::parse(line)) last = std::max(last, e->at);
  }
  const int64_t ms = (last.ns / 1'000'000 / 1000 + 3) * 1000;
  // The cluster and raft scenarios read samsa-sim's default of 60 s as their own 40 s and 30 s.
  const int64_t scenario_default = o.scenario == "cluster" ? 40'000 : o.scenario == "raft" ? 30'000 : o.fault_ms;
  const int64_t before = o.fault_ms == 60'000 ? scenario_default : o.fault_ms;
  if (ms >= before) return std::nullopt;
  o.fault_ms = ms;
  return fmt::format("faults for {} s -> {} s", before / 1000, ms / 1000);
}

}  // namespace

std::vector<ShapeStep> shape_steps() {
  return {{"brokers", fewer_brokers},
          {"producers", one_producer},
          {"members", two_members},
          {"records", fewer_records},
          {"fault time", shorter_fault_phase}};
}

}  // namespace samsa::sim
