// SimNetwork: TCP-like byte streams between simulated nodes.
//
// Model (what a test can rely on):
// - Each direction of a connection is a FIFO of segments; each segment gets a latency drawn
//   per path, but never overtakes the one before it. A writer may have at most window_bytes
//   in flight or unread at the peer, then it waits (flow control).
// - A blocked path (partition, one-way block or clog) holds segments back, as TCP
//   retransmission would; nothing is lost or reordered. A segment held longer than give_up
//   resets the sender's end (TCP's retransmission timeout). connect() across a blocked path
//   waits, retrying, until its deadline.
// - A crashed node sends nothing (no FIN, no RST). Its peers see silence; once it has restarted,
//   their next segment is answered with a reset. Injected resets fail both ends at once.
// - Loopback (a node to itself) is never blocked.
//
// Threading: simulator thread; socket methods from fibers, fault methods from anywhere.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "runtime/runtime.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

struct NetConfig {
  Duration latency_min = 50us;
  Duration latency_max = 1ms;
  Duration retransmit_interval = 200ms;
  Duration connect_retry_interval = 1s;
  Duration give_up = 30s;
  size_t window_bytes = 256 * 1024;
  size_t segment_bytes_max = 64 * 1024;
  size_t backlog_max = 128;
  uint16_t ephemeral_port_first = 40000;
};

struct NetStats {
  uint64_t segments_delivered = 0;
  uint64_t bytes_delivered = 0;
  uint64_t connections_established = 0;
  uint64_t resets = 0;
};

class SimNetwork {
 public:
  explicit SimNetwork(Simulator& sim);
  ~SimNetwork();

  NetConfig& config() { return config_; }
  const NetStats& stats() const { return stats_; }

  // --- used by SimRuntime (fiber context) ---
  Result<std::unique_ptr<Listener>> listen(NodeId node, const Address& address);
  Result<std::unique_ptr<Socket>> connect(NodeId node, const Address& address, Deadline deadline);

  // --- faults ---
  void partition(NodeId a, NodeId b);  // both directions
  void block(NodeId from, NodeId to);  // one way: `to` stops hearing `from`
  void heal(NodeId a, NodeId b);
  void heal_all();
  void clog(NodeId from, NodeId to, Duration d);
  void unclog(NodeId from, NodeId to);
  void set_latency(NodeId from, NodeId to, Duration lo, Duration hi);
  void reset_latencies();
  // Resets every connection between a and b (in either direction); returns how many.
  size_t reset_between(NodeId a, NodeId b);
  // Drops what is in flight between a and b, then resets those connections: messages that were
  // sent are lost and both ends learn it only from the reset.
  size_t lose_and_reset(NodeId a, NodeId b);
  bool path_open(NodeId from, NodeId to) const;

  // Called by Simulator::crash before the node's fibers are unwound.
  void node_crashed(NodeId node);

  struct Conn;
  struct ListenerState;

 private:
  friend class SimSocket;
  friend class SimListener;

  Duration draw_latency(NodeId from, NodeId to);
  void enqueue(const std::shared_ptr<Conn>& c, int side, std::vector<std::byte> data, bool fin);
  void schedule_pump(const std::shared_ptr<Conn>& c, int side, Instant at);
  void pump(const std::shared_ptr<Conn>& c, int side);
  void reset_end(Conn& c, int side);
  uint16_t allocate_port(NodeId node);

  Simulator& sim_;
  NetConfig config_;
  NetStats stats_;
  uint64_t next_conn_id_ = 1;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::map<std::pair<NodeId, NodeId>, Instant> clogged_until_;
  std::map<std::pair<NodeId, NodeId>, std::pair<Duration, Duration>> latency_;
  std::map<std::pair<NodeId, uint16_t>, std::shared_ptr<ListenerState>> listeners_;
  std::map<uint64_t, std::weak_ptr<Conn>> conns_;  // by id: deterministic iteration
  std::map<NodeId, uint16_t> next_port_;
};

}  // namespace samsa::sim
