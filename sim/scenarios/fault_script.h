// FaultScript: a nemesis' decisions, recorded as a run makes them and replayed from a file.
//
// A nemesis acts on ticks. At each tick it draws, from the simulator's seeded generator, the
// kind of fault and its parameters (nodes, durations, rates), and applies them. Recording keeps
// one FaultEvent per tick that did something: the tick's number and time, the kind and each
// value the nemesis used, named ("node=3 for_ns=1500000000"). Replaying runs the same ticks and
// the same draws (so the generator is consumed exactly as when recording) but uses the file's
// values instead of the drawn ones; a tick that has no event in the file does nothing. Hence:
// an unedited file replays its run bit for bit (same trace hash), and an edited one (events
// dropped, durations shortened: what the shrinker does) is a run of its own that is again the
// same every time it is replayed. (Only the tick's own draws are made for a dropped event: the
// draws its fault would have made inside are not, so what follows draws differently.)
//
// File format (text, one line each): `# comment`, `seed N`, `scenario NAME`, `commit C`,
// `option --flag value` (samsa-sim's flags of the run), `trace-hash H` (of the recorded run),
// then `event TICK TIME_S KIND name=value ...`.
//
// Threading: the simulator's thread (scenario code, scheduler context).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/time.h"

namespace samsa::sim {

struct FaultEvent {
  uint64_t tick = 0;
  Instant at{};
  std::string kind;
  std::vector<std::pair<std::string, int64_t>> args;  // in the order the nemesis used them

  std::string to_line() const;
  static std::optional<FaultEvent> parse(const std::string& line);
  // How much simulated time the event's *_ns arguments hold in total (what shrinking shortens).
  int64_t duration_ns() const;
};

class FaultScript {
 public:
  static constexpr size_t kEventsMax = 100'000;

  // Ticks of one script are numbered from first_tick up. A nemesis that decides at two kinds of
  // moment (the raft nemesis: its timer ticks and each new leader) keeps one script for each,
  // with first ticks kStreamTicks apart; each replays only the events in its own range, so
  // editing one stream does not renumber the other.
  static constexpr uint64_t kStreamTicks = uint64_t{1} << 40;

  // Recording (the default), or replaying `events` (those in this script's range).
  explicit FaultScript(uint64_t first_tick = 0) : first_tick_(first_tick), tick_(first_tick) {}
  explicit FaultScript(std::vector<FaultEvent> events, uint64_t first_tick = 0);

  bool replaying() const { return replaying_; }
  // A tick starts. Replaying: false when the file has no event for it (the tick does nothing
  // beyond its draws).
  bool begin_tick(Instant now);
  // The kind drawn for this tick; replaying, the file's.
  std::string kind(std::string drawn);
  // A value drawn for this tick under `name`; replaying, the file's value of that name (the
  // drawn one if the file has none).
  int64_t value(const char* name, int64_t drawn);
  // The same, but a file's value that `valid` rejects (a node the run does not have) gives way
  // to the drawn one, which is what is recorded. A tick must not cancel itself after drawing:
  // its recorded file would then lack a tick whose draws its replay must make.
  int64_t value(const char* name, int64_t drawn, const std::function<bool(int64_t)>& valid);
  // A duration drawn under `name` (an `*_ns` name, which shrinking shortens); replaying, the
  // file's, never negative.
  Duration duration(const char* name, Duration drawn) { return Duration{std::max<int64_t>(value(name, drawn.count()), 0)}; }
  // The tick applied nothing after all (e.g. no partition to act on): not recorded.
  void cancel_tick();
  void end_tick();

  const std::vector<FaultEvent>& recorded() const { return recorded_; }
  // The recorded events as replay-file lines (RunResult::schedule).
  std::vector<std::string> lines() const;
  // "kind xN" for each kind the recorded events applied.
  std::vector<std::string> applied() const;

 private:
  bool replaying_ = false;
  std::map<uint64_t, FaultEvent> script_;  // replaying: by tick
  uint64_t first_tick_ = 0;
  uint64_t tick_ = 0;
  bool in_tick_ = false;
  bool cancelled_ = false;
  FaultEvent current_;
  const FaultEvent* scripted_ = nullptr;
  std::vector<FaultEvent> recorded_;
};

// Events of several scripts (streams) as one schedule's lines, in the order they happened.
std::vector<std::string> schedule_lines(std::vector<FaultEvent> events);

// A replay file: the run's identity and its events.
struct ReplayFile {
  uint64_t seed = 1;
  std::string scenario;
  std::string commit;
  std::vector<std::pair<std::string, std::string>> options;  // "--fault-ms", "15000"; "--bug", "x"
  std::optional<uint64_t> trace_hash;
  std::vector<FaultEvent> events;
  std::string source_path;  // where it was read from (not part of the text)

  std::string to_text() const;
  // nullopt and *error (with the line number) on anything it cannot read.
  static std::optional<ReplayFile> parse(const std::string& text, std::string* error);
};

}  // namespace samsa::sim
