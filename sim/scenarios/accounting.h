// Exact accounting of what a fault may have taken: for a partition's log on a simulated disk,
// the offset up to which a power loss right now surely keeps the data (the durable prefix that
// recovery will find), and, for destructive faults the disk applied to log segments, the
// partition and offset from which records may be gone. Scenarios turn these into the checkers'
// RiskWindows.
//
// Scheduler context; reads the simulated disk without simulated time passing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/checkers/queue_checker.h"
#include "sim/world/sim_disk.h"

namespace samsa::sim {

// End offset of the durable, valid, contiguous prefix of the log in `dir` (segments
// "<20-digit base>.log"); the first segment's base if nothing is durable.
int64_t durable_log_end(const SimDisk& disk, const std::string& dir);
// The same over what the disk holds now, synced or not (what a process crash keeps).
int64_t current_log_end(const SimDisk& disk, const std::string& dir);

// One window per destructive fault on "<data_dir>/<topic>-<p>/<base>.log": records of p from
// that segment's base on (all of p, for a bad sector) may be lost or unreadable, whenever they
// were observed.
std::vector<RiskWindow> damage_windows(const SimDisk& disk, const std::string& data_dir, const std::string& topic);

}  // namespace samsa::sim
