// The trace's records in words, for `samsa-sim --trace`: the kind's name and its two values
// decoded where the recording site gives them meaning (node ids, connection ends, disk
// operations, fault kinds); hashes of data and paths stay hashes.
//
// Plain functions; any thread.
#pragma once

#include <string>

#include "sim/world/simulator.h"

namespace samsa::sim {

const char* trace_kind_name(Trace kind);
// "node 3 incarnation 2", "fault partition 5 -> 7", "disk write inode 12 (hash 0x...)".
std::string describe_trace(const TraceEvent& e);

}  // namespace samsa::sim
