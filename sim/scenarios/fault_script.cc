#include "sim/scenarios/fault_script.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "runtime/assert.h"

namespace samsa::sim {

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string FaultEvent::to_line() const {
  std::string line = fmt::format("event {} {}.{:09d} {}", tick, at.ns / 1'000'000'000, at.ns % 1'000'000'000, kind);
  for (const auto& [name, v] : args) line += fmt::format(" {}={}", name, v);
  return line;
}

std::optional<FaultEvent> FaultEvent::parse(const std::string& line) {
  const std::vector<std::string> w = words(line);
  if (w.size() < 4 || w[0] != "event") return std::nullopt;
  FaultEvent e;
  if (!parse_number(w[1], &e.tick)) return std::nullopt;
  const size_t dot = w[2].find('.');
  int64_t s = 0, frac = 0;
  if (dot == std::string::npos || w[2].size() - dot - 1 != 9 || !parse_number(std::string_view(w[2]).substr(0, dot), &s) ||
      !parse_number(std::string_view(w[2]).substr(dot + 1), &frac)) {
    return std::nullopt;
  }
  e.at = Instant{s * 1'000'000'000 + frac};
  e.kind = w[3];
  for (size_t i = 4; i < w.size(); ++i) {
    const size_t eq = w[i].find('=');
    int64_t v = 0;
    if (eq == std::string::npos || eq == 0 || !parse_number(std::string_view(w[i]).substr(eq + 1), &v)) return std::nullopt;
    e.args.emplace_back(w[i].substr(0, eq), v);
  }
  return e;
}

int64_t FaultEvent::duration_ns() const {
  int64_t total = 0;
  for (const auto& [name, v] : args) total += name.ends_with("_ns") ? v : 0;
  return total;
}

FaultScript::FaultScript(std::vector<FaultEvent> events, uint64_t first_tick)
    : replaying_(true), first_tick_(first_tick), tick_(first_tick) {
  SAMSA_ASSERT(events.size() <= kEventsMax);
  for (FaultEvent& e : events) {
    if (e.tick >= first_tick_ && e.tick - first_tick_ < kStreamTicks) script_[e.tick] = std::move(e);
  }
}

bool FaultScript::begin_tick(Instant now) {
  SAMSA_ASSERT(!in_tick_);
  in_tick_ = true;
  cancelled_ = false;
  SAMSA_ASSERT(tick_ - first_tick_ < kStreamTicks);
  current_ = FaultEvent{.tick = tick_++, .at = now};
  scripted_ = nullptr;
  if (!replaying_) return true;
  auto it = script_.find(current_.tick);
  if (it == script_.end()) return false;
  scripted_ = &it->second;
  return true;
}

std::string FaultScript::kind(std::string drawn) {
  SAMSA_ASSERT(in_tick_);
  current_.kind = scripted_ != nullptr ? scripted_->kind : std::move(drawn);
  return current_.kind;
}

int64_t FaultScript::value(const char* name, int64_t drawn) {
  SAMSA_ASSERT(in_tick_);
  int64_t v = drawn;
  if (scripted_ != nullptr) {
    for (const auto& [n, sv] : scripted_->args) {
      if (n == name) v = sv;
    }
  }
  current_.args.emplace_back(name, v);
  return v;
}

int64_t FaultScript::value(const char* name, int64_t drawn, const std::function<bool(int64_t)>& valid) {
  const int64_t v = value(name, drawn);
  if (valid(v)) return v;
  current_.args.back().second = drawn;
  return drawn;
}

std::vector<std::string> FaultScript::lines() const {
  std::vector<std::string> out;
  for (const FaultEvent& e : recorded_) out.push_back(e.to_line());
  return out;
}

std::vector<std::string> FaultScript::applied() const {
  std::map<std::string, uint64_t> n;
  for (const FaultEvent& e : recorded_) ++n[e.kind];
  std::vector<std::string> out;
  for (const auto& [kind, count] : n) out.push_back(fmt::format("{} x{}", kind, count));
  return out;
}

void FaultScript::cancel_tick() { cancelled_ = true; }

void FaultScript::end_tick() {
  SAMSA_ASSERT(in_tick_);
  in_tick_ = false;
  if (cancelled_ || current_.kind.empty() || recorded_.size() >= kEventsMax) return;
  recorded_.push_back(std::move(current_));
}

std::vector<std::string> schedule_lines(std::vector<FaultEvent> events) {
  std::stable_sort(events.begin(), events.end(), [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  std::vector<std::string> out;
  for (const FaultEvent& e : events) out.push_back(e.to_line());
  return out;
}

std::string ReplayFile::to_text() const {
  std::string out = "# samsa-sim replay file: `samsa-sim --replay FILE` runs exactly this schedule\n";
  out += fmt::format("seed {}\nscenario {}\ncommit {}\n", seed, scenario, commit);
  for (const auto& [flag, value] : options) out += fmt::format("option {}{}{}\n", flag, value.empty() ? "" : " ", value);
  if (trace_hash) out += fmt::format("trace-hash {:016x}\n", *trace_hash);
  for (const FaultEvent& e : events) out += e.to_line() + "\n";
  return out;
}

std::optional<ReplayFile> ReplayFile::parse(const std::string& text, std::string* error) {
  ReplayFile f;
  std::istringstream in(text);
  bool have_seed = false;
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    const std::vector<std::string> w = words(line);
    if (w.empty() || w[0][0] == '#') continue;
    bool ok = true;
    if (w[0] == "seed" && w.size() == 2) {
      ok = have_seed = parse_number(w[1], &f.seed);
    } else if (w[0] == "scenario" && w.size() == 2) {
      f.scenario = w[1];
    } else if (w[0] == "commit" && w.size() == 2) {
      f.commit = w[1];
    } else if (w[0] == "option" && (w.size() == 2 || w.size() == 3)) {
      f.options.emplace_back(w[1], w.size() == 3 ? w[2] : "");
    } else if (w[0] == "trace-hash" && w.size() == 2) {
      uint64_t h = 0;
      const auto [end, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), h, 16);
      ok = ec == std::errc{} && end == w[1].data() + w[1].size();
      f.trace_hash = h;
    } else if (w[0] == "event") {
      std::optional<FaultEvent> e = FaultEvent::parse(line);
      ok = e.has_value() && f.events.size() < FaultScript::kEventsMax;
      if (ok) f.events.push_back(std::move(*e));
    } else {
      ok = false;
    }
    if (!ok) {
      *error = fmt::format("line {}: cannot read '{}'", n, line);
      return std::nullopt;
    }
  }
  if (!have_seed || f.scenario.empty()) {
    *error = "a replay file names its seed and scenario";
    return std::nullopt;
  }
  return f;
}

}  // namespace samsa::sim
