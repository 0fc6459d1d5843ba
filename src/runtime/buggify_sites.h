// Every buggify site in samsa (Runtime::buggify), with the rare but legal behaviour it switches
// on. The simulator refuses a site that is not listed here, so this list is complete, and a
// campaign reports, per site, in how many seeds it was enabled and how often it fired: a site
// that never fires is dead and shows as such.
#pragma once

#include <string_view>

namespace samsa {

struct BuggifySite {
  const char* name;
  const char* what;
};

inline constexpr BuggifySite kBuggifySites[] = {
    {"log.flush_after_append", "fsync after an append the flush policy did not ask for"},
    {"log.early_roll", "roll a new segment before the current one is full"},
    {"fetch.skip_long_poll", "answer a fetch at once, possibly empty, instead of waiting"},
    {"fetch.tiny_budget", "fill a fetch response as if max_bytes were 1 (one batch at most)"},
    {"fetch.delay_response", "hold a fetch response back for a while"},
    {"produce.delay_response", "hold a produce response back after appending"},
    {"frame_server.slow_worker", "a request worker that is slow to pick up the next request"},
    {"frame_server.close_after_response", "close a connection after answering (clients reconnect)"},
    {"groups.spurious_rebalance", "start a rebalance on a heartbeat though nothing changed"},
    {"groups.delay_sync", "answer SyncGroup late"},
    {"sync.spurious_wakeup", "wake a waiting fiber though nothing happened"},
    {"producer.single_record_batches", "the client sends each record in its own batch"},
    {"consumer.tiny_fetch", "the client fetches with a partition budget of one byte"},
    {"client.drop_connection", "the client drops a broker connection before a request"},
    {"raft.skip_long_poll", "a Raft leader answers a follower's fetch at once though nothing is new"},
    {"raft.tiny_fetch", "a Raft leader sends one batch per fetch whatever the budget"},
    {"raft.delay_flush", "a Raft leader waits before syncing its log (commits come later)"},
};

inline bool known_buggify_site(std::string_view name) {
  for (const BuggifySite& s : kBuggifySites) {
    if (name == s.name) return true;
  }
  return false;
}

}  // namespace samsa
