// The queue checker: Jepsen's Kafka checker over a recorded history of sends and polls, with its
// names. Pure: history in, CheckResults out; it knows nothing of the simulator.
//
// - lost-write: acknowledged, never read, although a read saw a higher offset of its partition.
// - unseen: acknowledged and never read by anyone, not even the final read after healing.
// - inconsistent-offsets: one offset of one partition acknowledged or read with two values.
// - duplicate: one value at more than one offset; excused only when its send was retried after
//   an ambiguous failure (counted).
// - G1a (aborted read): a value whose send definitely failed is read.
// - int-send-skip: the records of one atomic send (one record set in one request) are not at
//   adjacent offsets.
// - nonmonotonic-send: a producer's acknowledged offsets of one partition go backwards.
// - poll-skip / nonmonotonic-poll: a consumer's successive reads of a partition (within and
//   across polls) skip an offset that exists, or go backwards; excused across a rebalance, a
//   seek or a reset, which the consumer logs with the poll that follows it.
// - producer-liveness / consumer-liveness: after the faults heal, every producer is acknowledged
//   in every window, and every consumer reads up to what was acknowledged before the heal.
// - corrupt-read: a batch that fails its CRC reached a client.
// - final-read: the final read reached the end of every partition.
//
// The fault model: a RiskWindow says that a fault at time `at` may have lost or replaced the
// records of a partition from an offset on (a machine crash when the configuration acknowledges
// before fsync, a bit flip, a misdirected write). An anomaly on such a record whose operation
// (the send, or the poll that read it) began before `at` is excused and counted under the fault's
// name; everything else is a failure. Times are invocations: a client may learn of an append
// after the fault that took it back.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/time.h"
#include "sim/checkers/verdict.h"

namespace samsa::sim {

struct Observation {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string value;
};

struct SendRecord {
  enum class Outcome : uint8_t { ok, failed, indeterminate };
  int producer = 0;
  int32_t partition = 0;
  std::vector<std::string> values;  // in the order they were sent
  Instant invoked{}, completed{};
  Outcome outcome = Outcome::indeterminate;
  std::vector<int64_t> offsets;            // ok: where each value was acknowledged
  bool retried_after_ambiguous = false;    // sent again after a timeout or a lost connection
  bool atomic = false;  // one record set in one request: its values must land adjacent
};

struct PollRecord {
  int consumer = 0;
  Instant at{};       // when the poll returned
  Instant invoked{};  // when it began: what it read was served after this
  std::vector<Observation> records;  // in the order the consumer returned them
  // Partitions whose position moved (seek, reset, rebalance) since the consumer's previous
  // poll, with why: order checks restart there.
  std::vector<std::pair<int32_t, std::string>> moved;
  // Batches that failed their CRC at the client (partition, offset): corrupt-read unless a
  // destructive disk fault explains them.
  std::vector<std::pair<int32_t, int64_t>> corrupt;
  bool ordered = true;  // false: a client reading at odd offsets, checked for values only
};

struct RiskWindow {
  std::string fault;
  Instant at{};
  int32_t partition = 0;
  int64_t from_offset = 0;
  // A failed fsync dropped unsynced pages at `at`: until recovery cuts them, a read at or after
  // from_offset may return what the disk held before (a batch failing its CRC at the client).
  bool dropped_pages = false;
  // The records were replaced under a new leader epoch (a change of leader): a consumer learns
  // of that (KIP-320) and moves back, so poll-skip and nonmonotonic-poll are not excused by it.
  bool new_leader_epoch = false;
  int64_t to_offset = std::numeric_limits<int64_t>::max();  // the last offset at risk (inclusive)
};

struct QueueHistory {
  int32_t partitions = 0;
  std::vector<SendRecord> sends;
  std::vector<PollRecord> polls;
  std::vector<RiskWindow> risks;
  std::vector<Observation> final_read;
  std::vector<std::pair<int32_t, int64_t>> final_corrupt;
  std::set<int32_t> final_incomplete;  // partitions the final read could not read to their end
  Instant healed{};          // faults stopped
  Instant live_from{};       // liveness is judged from here (healed + a grace period)
  Instant live_until{};      // to here
  Duration live_window = std::chrono::seconds(2);
  std::vector<int> producers;          // every producer that should be live
  std::vector<int> ordered_consumers;  // every consumer that should catch up
  // Not judged: the next value number of each producer, so values stay unique when a client
  // node restarts.
  std::map<int, uint64_t> next_seq;
};

std::vector<CheckResult> check_queue(const QueueHistory& history);

}  // namespace samsa::sim
