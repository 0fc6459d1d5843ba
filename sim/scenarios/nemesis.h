// The nemesis: every fault the simulated world has, injected by a seeded schedule. Swarm
// testing: each seed enables its own subset of fault kinds, each with its own weight (how often
// it is drawn), its own tick rate and its own magnitudes, so combinations nobody wrote down get
// tested. Destructive disk faults (bit flips, bad sectors, misdirected writes) form a group that
// only some seeds enable, aimed at log segment files so that checkers can account for the damage.
//
// Threading: scheduler context (events of the Simulator that owns it).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/scenarios/fault_script.h"
#include "sim/world/sim_disk.h"
#include "sim/world/sim_network.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

enum class Fault : uint8_t {
  machine_crash,      // power loss of a server: unsynced writes lost or torn
  process_crash,      // kill -9 of a server: the kernel keeps every write
  pause_server,       // a server stops being scheduled, then resumes with stale state
  partition,          // a client and a server cannot talk
  one_way,            // one of them cannot hear the other
  clog,               // a path stalls for a while
  swizzle_clog,       // clog the paths to a server one by one, unclog in random order
  reset,              // connections between a client and a server reset
  lose_and_reset,     // what is in flight is lost, then the connections reset
  latency,            // a path gets its own latency distribution
  disk_eio,           // EIO on reads, writes and fsyncs at drawn rates for a while
  disk_full,          // ENOSPC for a while
  slow_disk,          // long write and fsync latencies for a while
  bit_flip,           // a bit of synced data flips (destructive)
  bad_sector,         // reads of a synced sector fail until it is rewritten (destructive)
  misdirected_write,  // writes land at another offset of the file for a while (destructive)
  clock_jump,         // a server's wall clock jumps
  clock_drift,        // a server's wall clock runs fast or slow
  crash_client,       // a client node crashes and comes back
  pause_client,       // a client node pauses (a zombie when it wakes)
  count_,
};

const char* fault_name(Fault f);
// Starts a window of disk_eio (rates drawn up to 2% of reads and writes and sync_eio_ppm_max of
// fsyncs), disk_full (a few KiB left) or slow_disk on `disk`; restore_disk() undoes it. Both the
// broker scenario's Nemesis and the cluster scenario's use it. `chosen(name, drawn)` returns the
// value to use for each drawn parameter (a replay substitutes a recorded one; the draw happens
// either way, so the random stream does not depend on it); nullptr uses the drawn values.
using DiskValueFn = std::function<int64_t(const char* name, int64_t drawn)>;
void start_disk_window(Simulator& sim, SimDisk& disk, Fault kind, uint32_t sync_eio_ppm_max,
                       const DiskValueFn& chosen = nullptr);
void restore_disk(SimDisk& disk, const DiskConfig& as_started);
std::optional<Fault> fault_by_name(std::string_view name);
bool destructive(Fault f);

struct NemesisPlan {
  std::vector<std::pair<Fault, uint64_t>> weights;  // enabled kinds and how often each is drawn
  Duration tick_min{}, tick_max{};
  Duration outage_max{};  // longest a partition, pause or disk window lasts

  // At least one kind; the destructive group in about one seed in four.
  static NemesisPlan draw(Simulator& sim, std::span<const Fault> allowed);
  bool enabled(Fault f) const;
  std::vector<std::string> describe() const;
};

struct NemesisTargets {
  std::vector<NodeId> servers;
  std::vector<NodeId> clients;
  std::string data_prefix;  // destructive faults aim at files "<data_prefix>*.log"
  // Called just before a machine crash of a server (the scenario accounts for what it may lose).
  std::function<void(NodeId)> before_machine_crash;
};

// Records its decisions per tick in a FaultScript (fault_script.h): the tick's kind, server and
// every value it drew ("node", "for_ns", "client", ...); given `replay`, it makes the same draws
// and applies the file's events instead.
class Nemesis {
 public:
  Nemesis(Simulator& sim, NemesisTargets targets, NemesisPlan plan, Instant stop_at,
          const std::vector<FaultEvent>* replay = nullptr);

  void start();
  // Stops injecting and undoes what can be undone: heals the network, clears disk faults and
  // clocks, resumes paused nodes and restarts every node that is down.
  void heal();
  void crash_server(NodeId server, CrashKind kind);
  // Stops the supervisor too (before a scenario's own final crash and restart).
  void retire();
  std::vector<std::string> summary() const;
  // The decisions applied, as replay-file event lines.
  std::vector<std::string> schedule() const { return script_.lines(); }
  const NemesisPlan& plan() const { return plan_; }

 private:
  void tick();
  void supervise();
  void apply(Fault drawn, NodeId drawn_server);
  void inject(Fault f, NodeId server);
  void inject_client(Fault f);
  void inject_network(Fault f, NodeId client, NodeId server);
  void inject_disk(Fault f, NodeId server);
  void swizzle(NodeId server);
  // A drawn outage, or the replayed one (`name` in the script; never negative).
  Duration draw_outage() { return sim_.random_duration(std::chrono::milliseconds(100), plan_.outage_max); }
  Duration outage(const char* name) { return scripted(name, draw_outage()); }
  Duration scripted(const char* name, Duration drawn) { return script_.duration(name, drawn); }
  // A drawn node of `among` (not empty), or the replayed one if it is among them.
  NodeId pick_node(const char* name, const std::vector<NodeId>& among);
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[bounded(sim_.random_u64(), v.size())]; }

  Simulator& sim_;
  NemesisTargets targets_;
  NemesisPlan plan_;
  Instant stop_at_;
  bool stopped_ = false;
  bool retired_ = false;
  std::map<Fault, uint64_t> counts_;
  std::map<NodeId, DiskConfig> disk_config_;  // as the servers started, to undo slow/full disks
  FaultScript script_;
};

}  // namespace samsa::sim
