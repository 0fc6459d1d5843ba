#include "sim/scenarios/nemesis.h"

#include <algorithm>
#include <fmt/format.h>

namespace samsa::sim {

namespace {
constexpr const char* kFaultNames[] = {
    "machine-crash", "process-crash", "pause-server", "partition",  "one-way-partition", "clog",
    "swizzle-clog",  "reset",         "lose-and-reset", "latency",  "disk-eio",          "disk-full",
    "slow-disk",     "bit-flip",      "bad-sector",  "misdirected-write", "clock-jump",  "clock-drift",
    "crash-client",  "pause-client",
};
static_assert(std::size(kFaultNames) == static_cast<size_t>(Fault::count_));
}  // namespace

const char* fault_name(Fault f) { return kFaultNames[static_cast<size_t>(f)]; }

std::optional<Fault> fault_by_name(std::string_view name) {
  for (size_t i = 0; i < std::size(kFaultNames); ++i) {
    if (name == kFaultNames[i]) return static_cast<Fault>(i);
  }
  return std::nullopt;
}

bool destructive(Fault f) { return f == Fault::bit_flip || f == Fault::bad_sector || f == Fault::misdirected_write; }

NemesisPlan NemesisPlan::draw(Simulator& sim, std::span<const Fault> allowed) {
  SAMSA_ASSERT(!allowed.empty());
  NemesisPlan plan;
  const bool destroy = sim.chance(1, 4);
  for (Fault f : allowed) {
    if (destructive(f) ? destroy && sim.chance(1, 2) : sim.chance(1, 2)) {
      plan.weights.emplace_back(f, static_cast<uint64_t>(sim.in_range(1, 10)));
    }
  }
  if (plan.weights.empty()) {  // at least one kind, preferably not a destructive one
    bool only_destructive = true;
    for (Fault f : allowed) only_destructive = only_destructive && destructive(f);
    Fault f = allowed[bounded(sim.random_u64(), allowed.size())];
    while (destructive(f) && !only_destructive) f = allowed[bounded(sim.random_u64(), allowed.size())];
    plan.weights.emplace_back(f, 1);
  }
  plan.tick_min = sim.random_duration(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  plan.tick_max = plan.tick_min + sim.random_duration(std::chrono::milliseconds(0), std::chrono::milliseconds(3000));
  plan.outage_max = sim.random_duration(std::chrono::milliseconds(500), std::chrono::milliseconds(8000));
  return plan;
}

bool NemesisPlan::enabled(Fault f) const {
  for (const auto& [g, w] : weights) {
    if (g == f) return true;
  }
  return false;
}

std::vector<std::string> NemesisPlan::describe() const {
  std::string kinds;
  for (const auto& [f, w] : weights) kinds += fmt::format("{}{}:{}", kinds.empty() ? "" : " ", fault_name(f), w);
  return {fmt::format("faults (weights) {}", kinds),
          fmt::format("fault every {}..{} ms, outages up to {} ms", to_ms(tick_min), to_ms(tick_max), to_ms(outage_max))};
}

Nemesis::Nemesis(Simulator& sim, NemesisTargets targets, NemesisPlan plan, Instant stop_at,
                 const std::vector<FaultEvent>* replay)
    : sim_(sim), targets_(std::move(targets)), plan_(std::move(plan)), stop_at_(stop_at),
      script_(replay != nullptr ? FaultScript(*replay) : FaultScript()) {
  SAMSA_ASSERT(!targets_.servers.empty());
  for (NodeId s : targets_.servers) disk_config_[s] = sim_.node(s).disk->config();
}

void Nemesis::start() {
  sim_.schedule_after(sim_.random_duration(plan_.tick_min, plan_.tick_max), [this] { tick(); });
  sim_.schedule_after(std::chrono::seconds(1), [this] { supervise(); });
}

std::vector<std::string> Nemesis::summary() const {
  if (script_.replaying()) return script_.applied();
  std::vector<std::string> out;
  for (const auto& [f, w] : plan_.weights) {
    const auto it = counts_.find(f);
    out.push_back(fmt::format("{} x{}", fault_name(f), it == counts_.end() ? 0 : it->second));
  }
  return out;
}

// The draws are the same whether it records or replays (fault_script.h): replaying only replaces
// the values drawn with the file's, or skips a tick the file has no event for.
void Nemesis::tick() {
  if (stopped_ || sim_.now() >= stop_at_) return;
  const bool act = script_.begin_tick(sim_.now());
  uint64_t total = 0;
  for (const auto& [f, w] : plan_.weights) total += w;
  uint64_t r = bounded(sim_.random_u64(), total);
  Fault drawn = plan_.weights.front().first;
  for (const auto& [f, w] : plan_.weights) {
    if (r < w) {
      drawn = f;
      break;
    }
    r -= w;
  }
  const NodeId drawn_server = pick(targets_.servers);
  if (act) apply(drawn, drawn_server);
  script_.end_tick();
  sim_.schedule_after(sim_.random_duration(plan_.tick_min, plan_.tick_max), [this] { tick(); });
}

// Restarts servers that are down (crashed, or whose main gave up), in an order the seed picks.
// Keeps running after heal(): restarting a halted process is recovery (systemd), not a fault.
void Nemesis::supervise() {
  if (retired_) return;
  std::vector<NodeId> down;
  for (NodeId s : targets_.servers) {
    if (!sim_.up(s) || sim_.node(s).main_finished) down.push_back(s);
  }
  if (!down.empty() && (stopped_ || sim_.chance(1, 2))) {
    const NodeId s = pick(down);
    if (sim_.up(s)) sim_.crash(s, CrashKind::process);  // main gave up: the process is gone
    sim_.start(s);
  }
  if (retired_) return;
  sim_.schedule_after(sim_.random_duration(std::chrono::milliseconds(300), std::chrono::seconds(2)), [this] { supervise(); });
}

void Nemesis::crash_server(NodeId server, CrashKind kind) {
  if (!sim_.up(server)) return;
  if (kind == CrashKind::machine && targets_.before_machine_crash) targets_.before_machine_crash(server);
  sim_.crash(server, kind);
}

void Nemesis::retire() { retired_ = true; }

}  // namespace samsa::sim

namespace samsa::sim {

NodeId Nemesis::pick_node(const char* name, const std::vector<NodeId>& among) {
  auto is_one = [&among](int64_t id) {
    return std::any_of(among.begin(), among.end(), [id](NodeId n) { return n.value == id; });
  };
  return NodeId{static_cast<int32_t>(script_.value(name, pick(among).value, is_one))};
}

void Nemesis::apply(Fault drawn, NodeId drawn_server) {
  const std::optional<Fault> f = fault_by_name(script_.kind(fault_name(drawn)));
  if (!f) return script_.cancel_tick();
  const int64_t id = script_.value("node", drawn_server.value);
  const auto server = std::find_if(targets_.servers.begin(), targets_.servers.end(), [id](NodeId n) { return n.value == id; });
  if (server == targets_.servers.end()) return script_.cancel_tick();
  ++counts_[*f];
  inject(*f, *server);
}

void Nemesis::inject(Fault f, NodeId server) {
  switch (f) {
    case Fault::machine_crash: crash_server(server, CrashKind::machine); break;
    case Fault::process_crash: crash_server(server, CrashKind::process); break;
    case Fault::pause_server:
      sim_.pause(server);
      sim_.schedule_after(outage("for_ns"), [this, server] {
        if (!stopped_) sim_.resume(server);
      });
      break;
    case Fault::clock_jump: {
      const int64_t ms = script_.value("ms", sim_.in_range(1'000, 3'600'000));
      sim_.jump_clock(server, script_.value("ahead", sim_.chance(1, 2) ? 1 : 0) != 0 ? ms : -ms);
      break;
    }
    case Fault::clock_drift: sim_.set_clock_drift(server, script_.value("ppm", sim_.in_range(-200'000, 200'000))); break;
    case Fault::crash_client:
    case Fault::pause_client: inject_client(f); break;
    case Fault::swizzle_clog: swizzle(server); break;
    case Fault::disk_eio:
    case Fault::disk_full:
    case Fault::slow_disk:
    case Fault::bit_flip:
    case Fault::bad_sector:
    case Fault::misdirected_write: inject_disk(f, server); break;
    default:
      if (targets_.clients.empty()) return script_.cancel_tick();  // before any draw
      inject_network(f, pick_node("client", targets_.clients), server);
      break;
  }
}

void Nemesis::inject_client(Fault f) {
  if (targets_.clients.empty()) return script_.cancel_tick();  // before any draw
  const NodeId c = pick_node("client", targets_.clients);
  if (f == Fault::crash_client) sim_.crash(c); else sim_.pause(c);
  sim_.schedule_after(scripted("for_ns", draw_outage() * 2), [this, c, f] {
    if (stopped_) return;  // heal() brought everything back already
    if (f == Fault::crash_client) sim_.start(c); else sim_.resume(c);
  });
}

void Nemesis::inject_network(Fault f, NodeId client, NodeId server) {
  SimNetwork& net = sim_.network();
  auto heal_later = [&] { sim_.schedule_after(outage("for_ns"), [this, client, server] { sim_.network().heal(client, server); }); };
  switch (f) {
    case Fault::partition: net.partition(client, server); heal_later(); break;
    case Fault::one_way:
      if (script_.value("from_client", sim_.chance(1, 2) ? 1 : 0) != 0) net.block(client, server); else net.block(server, client);
      heal_later();
      break;
    case Fault::clog: {
      const Duration there = outage("for_ns");
      net.clog(client, server, there);
      net.clog(server, client, outage("back_ns"));
      break;
    }
    case Fault::reset: net.reset_between(client, server); break;
    case Fault::lose_and_reset: net.lose_and_reset(client, server); break;
    case Fault::latency: {
      const Duration lo = scripted("low_ns", sim_.random_duration(Duration{0}, std::chrono::milliseconds(20)));
      const Duration hi = lo + scripted("spread_ns", sim_.random_duration(Duration{0}, std::chrono::milliseconds(200)));
      net.set_latency(client, server, lo, hi);
      net.set_latency(server, client, lo, hi);
      break;
    }
    default: SAMSA_UNREACHABLE();
  }
}

void start_disk_window(Simulator& sim, SimDisk& disk, Fault kind, uint32_t sync_eio_ppm_max,
                       const DiskValueFn& chosen) {
  auto pick = [&](const char* name, int64_t drawn) { return chosen ? chosen(name, drawn) : drawn; };
  auto rate = [&](const char* name, int64_t hi) {
    return static_cast<uint32_t>(std::clamp<int64_t>(pick(name, sim.in_range(0, hi)), 0, 1'000'000));
  };
  auto latency = [&](const char* name, Duration lo, Duration hi) {
    return Duration{std::max<int64_t>(pick(name, sim.random_duration(lo, hi).count()), 0)};
  };
  using std::chrono::milliseconds;
  switch (kind) {
    case Fault::disk_eio:
      disk.faults().read_eio_per_million = rate("read_eio_ppm", 20'000);
      disk.faults().write_eio_per_million = rate("write_eio_ppm", 20'000);
      disk.faults().sync_eio_per_million = rate("sync_eio_ppm", sync_eio_ppm_max);
      break;
    case Fault::disk_full:
      disk.config().capacity_bytes =
          disk.used_bytes() + static_cast<uint64_t>(std::max<int64_t>(pick("free_bytes", sim.in_range(0, 64 * 1024)), 0));
      break;
    case Fault::slow_disk:
      disk.config().write_latency_max = latency("write_latency_ns", milliseconds(1), milliseconds(50));
      disk.config().sync_latency_max = latency("sync_latency_ns", milliseconds(10), milliseconds(500));
      break;
    default: SAMSA_UNREACHABLE();
  }
}

void restore_disk(SimDisk& disk, const DiskConfig& as_started) {
  disk.config() = as_started;
  disk.faults() = DiskFaults{};
}

void Nemesis::inject_disk(Fault f, NodeId server) {
  SimDisk& disk = *sim_.node(server).disk;
  const Duration d = outage("for_ns");
  auto restore_later = [this, server, d] {
    sim_.schedule_after(d, [this, server] { restore_disk(*sim_.node(server).disk, disk_config_[server]); });
  };
  switch (f) {
    case Fault::disk_eio:
    case Fault::disk_full:
    case Fault::slow_disk:
      start_disk_window(sim_, disk, f, 50'000, [this](const char* name, int64_t drawn) { return script_.value(name, drawn); });
      restore_later();
      break;
    case Fault::bit_flip: disk.flip_random_bit(targets_.data_prefix, ".log"); break;
    case Fault::bad_sector: disk.add_bad_sector(targets_.data_prefix, ".log"); break;
    case Fault::misdirected_write:
      disk.faults().misdirected_write_per_million =
          static_cast<uint32_t>(std::clamp<int64_t>(script_.value("ppm", sim_.in_range(1'000, 50'000)), 0, 1'000'000));
      disk.faults().misdirect_prefix = targets_.data_prefix;
      disk.faults().misdirect_suffix = ".log";
      restore_later();
      break;
    default: SAMSA_UNREACHABLE();
  }
}

// FoundationDB's swizzle-clogging: clog every path to a server one by one, then unclog them in
// a random order, so connections come back in orders nobody planned.
void Nemesis::swizzle(NodeId server) {
  std::vector<NodeId> order = targets_.clients;
  for (NodeId s : targets_.servers) {
    if (s != server) order.push_back(s);
  }
  Duration at{0};
  for (size_t i = 0; i < order.size(); ++i) {
    std::swap(order[i], order[i + bounded(sim_.random_u64(), order.size() - i)]);
    at += sim_.random_duration(std::chrono::milliseconds(10), std::chrono::milliseconds(300));
    const NodeId peer = order[i];
    sim_.schedule_after(at, [this, peer, server] {
      if (stopped_) return;  // healed meanwhile
      sim_.network().clog(peer, server, std::chrono::hours(1));
      sim_.network().clog(server, peer, std::chrono::hours(1));
    });
  }
  std::vector<NodeId> unclog = order;
  at += outage("for_ns");
  for (size_t i = 0; i < unclog.size(); ++i) {
    std::swap(unclog[i], unclog[i + bounded(sim_.random_u64(), unclog.size() - i)]);
    at += sim_.random_duration(std::chrono::milliseconds(10), std::chrono::milliseconds(300));
    const NodeId peer = unclog[i];
    sim_.schedule_after(at, [this, peer, server] {
      sim_.network().unclog(peer, server);
      sim_.network().unclog(server, peer);
    });
  }
}

void Nemesis::heal() {
  stopped_ = true;
  sim_.quiesce_buggify();
  sim_.network().heal_all();
  sim_.network().reset_latencies();
  for (const auto& [id, n] : sim_.nodes()) {
    if (n.paused) sim_.resume(id);
  }
  for (NodeId s : targets_.servers) {
    SimDisk& disk = *sim_.node(s).disk;
    disk.config() = disk_config_[s];
    disk.clear_faults();
    sim_.set_clock_drift(s, 0);
    if (!sim_.up(s) || sim_.node(s).main_finished) {
      if (sim_.up(s)) sim_.crash(s, CrashKind::process);
      sim_.start(s);
    }
  }
  for (NodeId c : targets_.clients) {
    if (!sim_.up(c)) sim_.start(c);
  }
}

}  // namespace samsa::sim
