#include "sim/world/sim_network.h"

#include <algorithm>
#include <cstring>

namespace samsa::sim {

struct SimNetwork::Conn {
  struct End {
    NodeId node;
    uint64_t incarnation = 0;
    Address address;  // as the other side sees it
    std::vector<std::byte> recv;
    size_t recv_pos = 0;
    bool fin_received = false;
    bool reset = false;
    bool closed = false;  // closed locally
    bool dead = false;    // its node crashed
    FiberId reader = kNoFiber;
    FiberId writer = kNoFiber;
    size_t unread() const { return recv.size() - recv_pos; }
  };
  struct Segment {
    std::vector<std::byte> data;
    bool fin = false;
    Instant arrival;
  };
  struct Direction {  // segments from end[side] to end[1 - side]
    std::deque<Segment> in_flight;
    size_t unacked_bytes = 0;  // in flight plus unread at the receiver
    Instant last_arrival{0};
    Instant held_since = Instant::max();
    bool pump_scheduled = false;
  };
  uint64_t id = 0;
  End end[2];
  Direction dir[2];
};

namespace {
// Drops what `side` has received but not read, returning that window to the sender.
void discard_recv(SimNetwork::Conn& c, int side);
}  // namespace

struct SimNetwork::ListenerState {
  NodeId node;
  uint64_t incarnation = 0;
  Address address;
  std::deque<std::shared_ptr<Conn>> backlog;
  FiberId acceptor = kNoFiber;
  bool closed = false;
};

namespace {
void discard_recv(SimNetwork::Conn& c, int side) {
  auto& e = c.end[side];
  auto& back = c.dir[1 - side];
  back.unacked_bytes -= std::min(back.unacked_bytes, e.unread());
  e.recv.clear();
  e.recv_pos = 0;
}
}  // namespace

class SimSocket final : public Socket {
 public:
  SimSocket(SimNetwork& net, std::shared_ptr<SimNetwork::Conn> c, int side) : net_(net), c_(std::move(c)), side_(side) {}
  ~SimSocket() override {
    close();
    net_.sim_.release_fd(c_->end[side_].node, c_->end[side_].incarnation);
  }

  Result<size_t> read_some(Bytes buf, Deadline deadline) override {
    SAMSA_ASSERT(!buf.empty());
    auto& me = c_->end[side_];
    for (;;) {
      if (me.closed) return Errc::closed;
      if (me.reset) return Errc::connection_reset;
      if (me.unread() > 0) {
        size_t n = std::min(buf.size(), me.unread());
        std::memcpy(buf.data(), me.recv.data() + me.recv_pos, n);
        me.recv_pos += n;
        if (me.recv_pos == me.recv.size()) {
          me.recv.clear();
          me.recv_pos = 0;
        }
        auto& back = c_->dir[1 - side_];
        SAMSA_ASSERT(back.unacked_bytes >= n);
        back.unacked_bytes -= n;
        net_.sim_.unpark(c_->end[1 - side_].writer);  // window opened
        return n;
      }
      if (me.fin_received) return Errc::end_of_file;
      SAMSA_ASSERT_MSG(me.reader == kNoFiber, "two fibers read one socket");
      me.reader = net_.sim_.current();
      Status s = net_.sim_.park(deadline);
      me.reader = kNoFiber;
      if (!s.ok()) return s;
    }
  }

  Status writev_all(std::span<const ConstBytes> buffers, Deadline deadline) override {
    auto& me = c_->end[side_];
    auto& d = c_->dir[side_];
    for (ConstBytes b : buffers) {
      while (!b.empty()) {
        if (me.closed) return Errc::closed;
        if (me.reset) return Errc::connection_reset;
        const size_t window = net_.config_.window_bytes - std::min(d.unacked_bytes, net_.config_.window_bytes);
        if (window == 0) {
          SAMSA_ASSERT_MSG(me.writer == kNoFiber, "two fibers write one socket");
          me.writer = net_.sim_.current();
          Status s = net_.sim_.park(deadline);
          me.writer = kNoFiber;
          if (!s.ok()) return s;
          continue;
        }
        const size_t n = std::min({b.size(), window, net_.config_.segment_bytes_max});
        net_.enqueue(c_, side_, std::vector<std::byte>(b.begin(), b.begin() + static_cast<ptrdiff_t>(n)), false);
        b = b.subspan(n);
      }
    }
    return Status{};
  }

  void close() override {
    auto& me = c_->end[side_];
    if (me.closed) return;
    me.closed = true;
    discard_recv(*c_, side_);
    net_.sim_.unpark(c_->end[1 - side_].writer);
    if (!me.dead && !me.reset) net_.enqueue(c_, side_, {}, true);
    net_.sim_.unpark(me.reader);
    net_.sim_.unpark(me.writer);
  }

  const Address& peer_address() const override { return c_->end[1 - side_].address; }

 private:
  SimNetwork& net_;
  std::shared_ptr<SimNetwork::Conn> c_;
  int side_;
};

class SimListener final : public Listener {
 public:
  SimListener(SimNetwork& net, std::shared_ptr<SimNetwork::ListenerState> st) : net_(net), st_(std::move(st)) {}
  ~SimListener() override {
    close();
    net_.sim_.release_fd(st_->node, st_->incarnation);
  }

  Result<std::unique_ptr<Socket>> accept(Deadline deadline) override {
    for (;;) {
      if (st_->closed) return Errc::closed;
      if (!st_->backlog.empty()) {
        if (!net_.sim_.acquire_fd(st_->node)) return Errc::resource_exhausted;  // EMFILE: stays queued
        auto c = std::move(st_->backlog.front());
        c->end[1].incarnation = net_.sim_.node(st_->node).incarnation;
        st_->backlog.pop_front();
        return std::unique_ptr<Socket>(std::make_unique<SimSocket>(net_, std::move(c), 1));
      }
      st_->acceptor = net_.sim_.current();
      Status s = net_.sim_.park(deadline);
      st_->acceptor = kNoFiber;
      if (!s.ok()) return s;
    }
  }

  const Address& local_address() const override { return st_->address; }

  void close() override {
    if (st_->closed) return;
    st_->closed = true;
    auto it = net_.listeners_.find({st_->node, st_->address.port});
    if (it != net_.listeners_.end() && it->second == st_) net_.listeners_.erase(it);
    for (auto& c : st_->backlog) net_.reset_end(*c, 0);
    st_->backlog.clear();
    net_.sim_.unpark(st_->acceptor);
  }

 private:
  SimNetwork& net_;
  std::shared_ptr<SimNetwork::ListenerState> st_;
};

SimNetwork::SimNetwork(Simulator& sim) : sim_(sim) {}
SimNetwork::~SimNetwork() = default;

uint16_t SimNetwork::allocate_port(NodeId node) {
  auto [it, fresh] = next_port_.try_emplace(node, config_.ephemeral_port_first);
  for (int tries = 0; tries < 20000; ++tries) {
    uint16_t p = it->second++;
    if (it->second == 0) it->second = config_.ephemeral_port_first;
    if (listeners_.count({node, p}) == 0) return p;
  }
  SAMSA_UNREACHABLE();
}

Result<std::unique_ptr<Listener>> SimNetwork::listen(NodeId node, const Address& address) {
  Result<NodeId> target = sim_.resolve(address.host, node);
  if (!target.ok() || *target != node) return Errc::invalid_argument;  // not one of our addresses
  uint16_t port = address.port == 0 ? allocate_port(node) : address.port;
  if (listeners_.count({node, port}) != 0) return Errc::address_in_use;
  if (!sim_.acquire_fd(node)) return Errc::resource_exhausted;
  auto st = std::make_shared<ListenerState>();
  st->node = node;
  st->incarnation = sim_.node(node).incarnation;
  st->address = Address{address.host.empty() ? sim_.node(node).host : address.host, port};
  listeners_[{node, port}] = st;
  return std::unique_ptr<Listener>(std::make_unique<SimListener>(*this, st));
}

bool SimNetwork::path_open(NodeId from, NodeId to) const {
  if (from == to) return true;
  if (blocked_.count({from, to}) != 0) return false;
  auto it = clogged_until_.find({from, to});
  return it == clogged_until_.end() || it->second <= sim_.now();
}

Duration SimNetwork::draw_latency(NodeId from, NodeId to) {
  if (from == to) return Duration{sim_.in_range(1'000, 20'000)};
  auto it = latency_.find({from, to});
  auto [lo, hi] = it != latency_.end() ? it->second : std::pair{config_.latency_min, config_.latency_max};
  return sim_.random_duration(lo, hi);
}

Result<std::unique_ptr<Socket>> SimNetwork::connect(NodeId node, const Address& address, Deadline deadline) {
  NodeId target{};
  SAMSA_TRY_ASSIGN(target, sim_.resolve(address.host, node));
  for (;;) {
    const bool reachable = sim_.up(target) && path_open(node, target) && path_open(target, node);
    if (reachable) {
      Duration rtt = draw_latency(node, target) + draw_latency(target, node);
      if (!deadline.is_never() && sim_.now() + rtt > deadline.at) {
        (void)sim_.sleep_until(deadline);
        return Errc::timed_out;
      }
      SAMSA_TRY(sim_.sleep_until(Deadline{sim_.now() + rtt}));
      auto lit = listeners_.find({target, address.port});
      if (sim_.up(target) && lit == listeners_.end()) return Errc::connection_refused;
      if (sim_.up(target) && lit->second->backlog.size() < config_.backlog_max) {
        if (!sim_.acquire_fd(node)) return Errc::resource_exhausted;
        auto c = std::make_shared<Conn>();
        c->id = next_conn_id_++;
        c->end[0].node = node;
        c->end[0].incarnation = sim_.node(node).incarnation;
        c->end[0].address = Address{sim_.node(node).host, static_cast<uint16_t>(allocate_port(node))};
        c->end[1].node = target;
        c->end[1].incarnation = sim_.node(target).incarnation;
        c->end[1].address = address;
        conns_[c->id] = c;
        lit->second->backlog.push_back(c);
        sim_.unpark(lit->second->acceptor);
        ++stats_.connections_established;
        sim_.trace(Trace::net_connect, c->id, static_cast<uint64_t>(target.value));
        return std::unique_ptr<Socket>(std::make_unique<SimSocket>(*this, std::move(c), 0));
      }
    }
    // No answer: retry like a SYN retransmission until the deadline.
    Instant retry = sim_.now() + config_.connect_retry_interval;
    if (!deadline.is_never() && retry >= deadline.at) {
      SAMSA_TRY(sim_.sleep_until(deadline));
      return Errc::timed_out;
    }
    SAMSA_TRY(sim_.sleep_until(Deadline{retry}));
  }
}

void SimNetwork::enqueue(const std::shared_ptr<Conn>& c, int side, std::vector<std::byte> data, bool fin) {
  auto& d = c->dir[side];
  const NodeId from = c->end[side].node;
  const NodeId to = c->end[1 - side].node;
  Instant arrival = std::max(d.last_arrival, sim_.now() + draw_latency(from, to));
  d.last_arrival = arrival;
  d.unacked_bytes += data.size();
  sim_.trace(Trace::net_segment, c->id * 2 + static_cast<uint64_t>(side), hash_bytes(data) ^ data.size());
  d.in_flight.push_back(Conn::Segment{std::move(data), fin, arrival});
  if (!d.pump_scheduled) schedule_pump(c, side, arrival);
}

void SimNetwork::schedule_pump(const std::shared_ptr<Conn>& c, int side, Instant at) {
  c->dir[side].pump_scheduled = true;
  sim_.schedule_at(at, [this, c, side] { pump(c, side); });
}

void SimNetwork::pump(const std::shared_ptr<Conn>& c, int side) {
  auto& d = c->dir[side];
  d.pump_scheduled = false;
  if (d.in_flight.empty()) return;
  auto& seg = d.in_flight.front();
  if (seg.arrival > sim_.now()) return schedule_pump(c, side, seg.arrival);
  auto& from = c->end[side];
  auto& to = c->end[1 - side];
  if (from.reset || from.dead) {  // nothing more leaves a reset or crashed end
    d.in_flight.clear();
    return;
  }
  SimNode& target = sim_.node(to.node);
  const bool target_gone = !target.up || target.incarnation != to.incarnation;
  if (target_gone && target.up) {  // rebooted: the new kernel answers with RST
    if (!seg.fin) reset_end(*c, side);
    d.in_flight.clear();
    return;
  }
  if (target_gone || !path_open(from.node, to.node)) {  // silence: retransmit later
    if (d.held_since == Instant::max()) d.held_since = sim_.now();
    if (sim_.now() - d.held_since >= config_.give_up) {
      reset_end(*c, side);
      return;
    }
    return schedule_pump(c, side, sim_.now() + config_.retransmit_interval);
  }
  d.held_since = Instant::max();
  if (to.closed || to.reset) {
    if (!seg.fin) reset_end(*c, side);  // data to a closed socket: RST
    d.in_flight.clear();
    return;
  }
  sim_.trace(Trace::net_deliver, c->id * 2 + static_cast<uint64_t>(side), seg.data.size());
  ++stats_.segments_delivered;
  stats_.bytes_delivered += seg.data.size();
  if (seg.fin) to.fin_received = true;
  to.recv.insert(to.recv.end(), seg.data.begin(), seg.data.end());
  sim_.unpark(to.reader);
  d.in_flight.pop_front();
  if (!d.in_flight.empty()) schedule_pump(c, side, std::max(d.in_flight.front().arrival, sim_.now()));
}

void SimNetwork::reset_end(Conn& c, int side) {
  auto& e = c.end[side];
  if (e.reset) return;
  ++stats_.resets;
  sim_.trace(Trace::net_reset, c.id, static_cast<uint64_t>(side));
  e.reset = true;
  discard_recv(c, side);
  c.dir[side].in_flight.clear();
  c.dir[side].unacked_bytes = 0;
  sim_.unpark(e.reader);
  sim_.unpark(e.writer);
}

size_t SimNetwork::reset_between(NodeId a, NodeId b) {
  size_t n = 0;
  for (auto it = conns_.begin(); it != conns_.end();) {
    auto c = it->second.lock();
    if (!c) {
      it = conns_.erase(it);
      continue;
    }
    const bool match = (c->end[0].node == a && c->end[1].node == b) || (c->end[0].node == b && c->end[1].node == a);
    if (match && !c->end[0].dead && !c->end[1].dead) {
      reset_end(*c, 0);
      reset_end(*c, 1);
      ++n;
    }
    ++it;
  }
  sim_.trace(Trace::fault, 0xC0, n);
  return n;
}

void SimNetwork::node_crashed(NodeId node) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    auto c = it->second.lock();
    if (!c) {
      it = conns_.erase(it);
      continue;
    }
    for (int side = 0; side < 2; ++side) {
      if (c->end[side].node == node) {
        c->end[side].dead = true;
        discard_recv(*c, side);
      }
    }
    ++it;
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (it->first.first == node) {
      it->second->closed = true;
      it = listeners_.erase(it);
    } else {
      ++it;
    }
  }
}

void SimNetwork::partition(NodeId a, NodeId b) {
  block(a, b);
  block(b, a);
}

void SimNetwork::block(NodeId from, NodeId to) {
  sim_.trace(Trace::fault, 0xB0, static_cast<uint64_t>(from.value) << 32 | static_cast<uint32_t>(to.value));
  blocked_.insert({from, to});
}

void SimNetwork::heal(NodeId a, NodeId b) {
  sim_.trace(Trace::fault, 0xB4, static_cast<uint64_t>(a.value) << 32 | static_cast<uint32_t>(b.value));
  blocked_.erase({a, b});
  blocked_.erase({b, a});
}

void SimNetwork::heal_all() {
  sim_.trace(Trace::fault, 0xB1, blocked_.size());
  blocked_.clear();
  clogged_until_.clear();
}

void SimNetwork::clog(NodeId from, NodeId to, Duration d) {
  // The fault code's upper bits carry the clog's length in ns (trace_text.cc).
  SAMSA_ASSERT(d.count() >= 0 && d.count() < (int64_t{1} << 55));
  sim_.trace(Trace::fault, 0xB2 | static_cast<uint64_t>(d.count()) << 8,
             static_cast<uint64_t>(from.value) << 32 | static_cast<uint32_t>(to.value));
  Instant& until = clogged_until_[{from, to}];
  until = std::max(until, sim_.now() + d);
}

void SimNetwork::unclog(NodeId from, NodeId to) {
  sim_.trace(Trace::fault, 0xB3, static_cast<uint64_t>(from.value) << 32 | static_cast<uint32_t>(to.value));
  clogged_until_.erase({from, to});
}

void SimNetwork::reset_latencies() { latency_.clear(); }

size_t SimNetwork::lose_and_reset(NodeId a, NodeId b) {
  for (auto& [id, weak] : conns_) {
    auto c = weak.lock();
    if (!c) continue;
    const bool match = (c->end[0].node == a && c->end[1].node == b) || (c->end[0].node == b && c->end[1].node == a);
    if (!match) continue;
    for (auto& d : c->dir) {
      for (const auto& seg : d.in_flight) d.unacked_bytes -= std::min(d.unacked_bytes, seg.data.size());
      d.in_flight.clear();
    }
  }
  sim_.trace(Trace::fault, 0xC1, static_cast<uint64_t>(a.value) << 32 | static_cast<uint32_t>(b.value));
  return reset_between(a, b);
}

void SimNetwork::set_latency(NodeId from, NodeId to, Duration lo, Duration hi) {
  SAMSA_ASSERT(lo <= hi);
  latency_[{from, to}] = {lo, hi};
}

}  // namespace samsa::sim
