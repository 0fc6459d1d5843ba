// Client workloads every scenario shares. They run samsa's real client library (and raw
// requests where a client must misbehave) on simulated client nodes and record what they were
// told and what they read into a QueueHistory that lives outside the simulated machines, so it
// survives their crashes. The checkers judge that history.
//
// - producer: batches of many records of varied sizes, with and without keys, headers and
//   compression; now and then a batch above the broker's limit (a definite failure).
// - raw producer: record sets of two batches for one partition, sent again as the very same
//   request after a timeout or a lost connection (retries of the same batch).
// - consumer: every partition, from the start; keeps every poll, in order, with its moves.
// - odd fetcher: fetches at odd offsets (negative, mid-batch, past the end) with odd budgets.
// - final_read: after the faults, reads every partition from its start to its end.
//
// Threading: the *_main functions are node mains (fibers of one simulated node).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "log/record_batch.h"
#include "runtime/runtime.h"
#include "sim/checkers/queue_checker.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

// What the swarm chose for the clients of one seed.
struct WorkloadProfile {
  std::string topic = "events";
  int32_t partitions = 2;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> topic_configs;  // given when the topic is created
  int16_t acks = -1;                                  // the library producers'
  std::vector<Address> bootstrap;
  int records_max = 1;          // per send
  int value_bytes_min = 8, value_bytes_max = 64;
  uint32_t batch_bytes_max = 1 << 20;  // the broker's message.max.bytes
  int oversize_per_mille = 0;  // sends built above batch_bytes_max on purpose
  int key_percent = 0, header_percent = 0;
  std::vector<Compression> codecs{Compression::none};
  Duration pause_min = std::chrono::milliseconds(1), pause_max = std::chrono::milliseconds(30);

  static WorkloadProfile draw(Simulator& sim, std::vector<Address> bootstrap, int32_t partitions, uint32_t batch_bytes_max);
  // samsa-sim --send-rate: each producer pauses 1/sends_per_s between sends instead of the drawn
  // pause (0 keeps the draw), so the offered load is set rather than drawn.
  void pace(int sends_per_s);
  std::vector<std::string> describe() const;
};

void producer_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h);
void raw_producer_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h);
void consumer_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h);
void odd_fetcher_main(Runtime& rt, const WorkloadProfile& w, int id, QueueHistory& h);

// Creates the topic (retrying until the cluster answers), from a client node.
void ensure_topic(Runtime& rt, const WorkloadProfile& w, const std::string& client_id);

// Reads every partition from its start to its end on a fresh client node; fills h.final_read,
// h.final_corrupt and h.final_incomplete. Runs the simulator until done or `give_up` passes.
void final_read(Simulator& sim, const WorkloadProfile& w, QueueHistory& h, Duration give_up);
// The same read as a node main of its own (any runtime: tests/chaos runs it against real brokers).
void final_read_main(Runtime& rt, const WorkloadProfile& w, QueueHistory& h);

}  // namespace samsa::sim
