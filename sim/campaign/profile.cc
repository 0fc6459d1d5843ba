#include "sim/campaign/profile.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "sim/world/trace_text.h"

namespace samsa::sim {

std::string mask_digits(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const bool digit = name[i] >= '0' && name[i] <= '9';
    if (!digit) {
      out += name[i];
    } else if (i == 0 || name[i - 1] < '0' || name[i - 1] > '9') {
      out += '#';
    }
  }
  return out;
}

TraceSink StepProfile::sink(TraceSink next) {
  return [this, next = std::move(next)](const TraceEvent& e) {
    count(e);
    if (next) next(e);
  };
}

// Only schedule and event records are steps; the others (sends, disk operations, faults) are
// what a step did, counted under their own kind so the table shows them too.
void StepProfile::count(const TraceEvent& e) {
  last_at_ = std::max(last_at_, e.at);
  std::string key;
  switch (e.kind) {
    case Trace::schedule:
      ++steps_;
      key = "run   " + mask_digits(e.label);
      break;
    case Trace::event:
      ++steps_;
      key = e.label.empty() ? std::string("event scheduled action (network, disk, fault)") : "timer " + mask_digits(e.label);
      break;
    default:
      key = std::string("(did) ") + trace_kind_name(e.kind);
      break;
  }
  ++rows_[key];
}

void StepProfile::print(std::FILE* out, size_t rows_max) const {
  const double simulated_s = static_cast<double>(last_at_.ns) / 1e9;
  std::vector<std::pair<uint64_t, std::string>> rows;
  for (const auto& [k, n] : rows_) rows.emplace_back(n, k);
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  const double per_s = simulated_s > 0 ? 1.0 / simulated_s : 0.0;
  std::fprintf(out, "step profile: %llu steps in %.1f simulated s (%.0f per simulated s)\n",
               static_cast<unsigned long long>(steps_), simulated_s, static_cast<double>(steps_) * per_s);
  std::fprintf(out, "  %10s %7s %10s  %s\n", "count", "% steps", "per sim s", "what");
  uint64_t rest = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i >= rows_max) {
      rest += rows[i].first;
      continue;
    }
    const bool step = rows[i].second.rfind("(did)", 0) != 0;
    const double share = step && steps_ > 0 ? 100.0 * static_cast<double>(rows[i].first) / static_cast<double>(steps_) : 0.0;
    std::fprintf(out, "  %10llu %7s %10.1f  %s\n", static_cast<unsigned long long>(rows[i].first),
                 step ? std::to_string(static_cast<int>(share + 0.5)).c_str() : "-",
                 static_cast<double>(rows[i].first) * per_s, rows[i].second.c_str());
  }
  if (rest > 0) std::fprintf(out, "  %10llu %7s %10s  (the other %zu rows)\n", static_cast<unsigned long long>(rest), "", "", rows.size() - rows_max);
}

}  // namespace samsa::sim
