#include "sim/campaign/results.h"

#include <fmt/format.h>

#include <charconv>

#include "runtime/buggify_sites.h"

namespace samsa::sim {

namespace {

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<SeedRange> SeedRange::parse(const std::string& spec, uint64_t from_seed, std::string* error) {
  SeedRange r;
  const size_t dots = spec.find("..");
  if (dots == std::string::npos) {
    const std::optional<uint64_t> n = parse_u64(spec);
    if (!n || *n == 0 || *n > kSeedsMax || from_seed > UINT64_MAX - *n) {
      *error = fmt::format("--seeds {}: a count from 1 to {}, or A..B", spec, kSeedsMax);
      return std::nullopt;
    }
    return SeedRange{from_seed, from_seed + *n - 1};
  }
  const std::optional<uint64_t> a = parse_u64(std::string_view(spec).substr(0, dots));
  const std::optional<uint64_t> b = parse_u64(std::string_view(spec).substr(dots + 2));
  if (!a || !b || *b < *a || *b - *a >= kSeedsMax) {
    *error = fmt::format("--seeds {}: A..B with A <= B and at most {} seeds", spec, kSeedsMax);
    return std::nullopt;
  }
  return SeedRange{*a, *b};
}

std::optional<Shard> Shard::parse(const std::string& spec, std::string* error) {
  const size_t slash = spec.find('/');
  const std::optional<uint64_t> k = slash == std::string::npos ? std::nullopt : parse_u64(std::string_view(spec).substr(0, slash));
  const std::optional<uint64_t> n = slash == std::string::npos ? std::nullopt : parse_u64(std::string_view(spec).substr(slash + 1));
  if (!k || !n || *n == 0 || *k >= *n) {
    *error = fmt::format("--shard {}: K/N with 0 <= K < N", spec);
    return std::nullopt;
  }
  return Shard{*k, *n};
}

nlohmann::json seed_record(const RunOptions& o, const RunResult& r, const SeedRange& range, const Shard& shard,
                           bool with_report) {
  nlohmann::json j;
  j["seed"] = r.seed;
  j["scenario"] = r.scenario;
  j["ok"] = r.ok();
  j["trace_hash"] = fmt::format("{:016x}", r.trace_hash);
  j["simulated_s"] = static_cast<double>(r.end_time.ns) / 1e9;
  j["steps"] = r.steps;
  j["acked"] = r.acked;
  j["rng_digest"] = fmt::format("{:016x}", r.rng_digest);
  nlohmann::json checks = nlohmann::json::array();
  for (const CheckResult& c : r.checks) {
    checks.push_back({{"name", c.name}, {"ok", c.ok()}, {"vacuous", c.vacuous()}, {"examined", c.examined},
                      {"anomalies", c.anomalies}, {"summary", c.summary()}});
  }
  j["checks"] = std::move(checks);
  nlohmann::json buggify = nlohmann::json::object();
  for (const auto& [site, s] : r.buggify) buggify[site] = {s.first, s.second};
  j["buggify"] = std::move(buggify);
  j["replay"] = replay_command(o, r.seed);
  if (!r.ok() || with_report) j["report"] = format_run(o, r);
  j["range"] = range.to_string();
  j["shard"] = shard.to_string();
  return j;
}

std::optional<std::string> Summary::add(const nlohmann::json& j) {
  try {
    const uint64_t seed = j.at("seed").get<uint64_t>();
    const bool ok = j.at("ok").get<bool>();
    if (!seen_.insert(seed).second) repeated_.insert(seed);
    ++runs_;
    failures_ += ok ? 0 : 1;
    simulated_s_ += j.at("simulated_s").get<double>();
    ranges_.insert(j.at("range").get<std::string>());
    for (const nlohmann::json& c : j.at("checks")) {
      PerCheck& p = checks_[c.at("name").get<std::string>()];
      p.examined += c.at("examined").get<uint64_t>();
      p.vacuous += c.at("vacuous").get<bool>() ? 1 : 0;
      if (c.at("ok").get<bool>()) continue;
      ++p.failed;
      if (seed < p.first_failing_seed) {
        p.first_failing_seed = seed;
        p.first_replay = j.at("replay").get<std::string>();
      }
    }
    for (const auto& [site, s] : j.at("buggify").items()) {
      PerSite& p = sites_[site];
      ++p.reached;
      p.enabled += s.at(0).get<bool>() ? 1 : 0;
      p.fired += s.at(1).get<uint64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

std::set<uint64_t> Summary::missing() const {
  std::set<uint64_t> out;
  for (const std::string& spec : ranges_) {
    std::string error;
    const std::optional<SeedRange> r = SeedRange::parse(spec, 0, &error);
    if (!r) continue;
    for (uint64_t s = r->first; s <= r->last && out.size() < SeedRange::kSeedsMax; ++s) {
      if (!seen_.count(s)) out.insert(s);
    }
  }
  return out;
}

std::string Summary::table(double wall_s) const {
  std::string out = fmt::format("\n{} seeds, {} failed; {:.0f} simulated s", runs_, failures_, simulated_s_);
  if (wall_s > 0) out += fmt::format(" in {:.1f} wall s ({:.0f}x real time)", wall_s, simulated_s_ / wall_s);
  out += "\n";
  out += fmt::format("{:<28} {:>8} {:>8} {:>14}  {}\n", "check", "failed", "vacuous", "examined", "first failing seed");
  for (const auto& [name, p] : checks_) {
    out += fmt::format("{:<28} {:>8} {:>8} {:>14}  {}\n", name, p.failed, p.vacuous, p.examined, p.failed ? p.first_replay : "-");
  }
  out += fmt::format("{:<36} {:>8} {:>8} {:>10}\n", "buggify site", "reached", "enabled", "fired");
  for (const BuggifySite& b : kBuggifySites) {
    auto it = sites_.find(b.name);
    const PerSite p = it == sites_.end() ? PerSite{} : it->second;
    out += fmt::format("{:<36} {:>8} {:>8} {:>10}{}\n", b.name, p.reached, p.enabled, p.fired, p.fired == 0 ? "  (did not fire)" : "");
  }
  return out;
}

}  // namespace samsa::sim
