#include "sim/timeline/timeline.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/world/trace_text.h"

namespace samsa::sim {

namespace {

using nlohmann::json;

double seconds(Instant t) { return static_cast<double>(t.ns) / 1e9; }

Timeline::Sample sample_of(Instant now, const ReplicaView& v) {
  return Timeline::Sample{.at = now, .live = true, .leader = v.leader, .in_isr = v.in_isr, .epoch = v.leader_epoch,
                          .log_start = v.log_start, .log_end = v.log_end, .high_watermark = v.high_watermark};
}

// A change of role, epoch, ISR membership or liveness is always written; log ends and high
// watermarks are thinned to one sample per kSampleInterval.
bool structural(const Timeline::Sample& a, const Timeline::Sample& b) {
  return a.live != b.live || a.leader != b.leader || a.in_isr != b.in_isr || a.epoch != b.epoch;
}

bool same_values(const Timeline::Sample& a, const Timeline::Sample& b) {
  return !structural(a, b) && a.log_start == b.log_start && a.log_end == b.log_end && a.high_watermark == b.high_watermark;
}

std::pair<int32_t, int32_t> pair_of(uint64_t v) {
  return {static_cast<int32_t>(v >> 32), static_cast<int32_t>(static_cast<uint32_t>(v))};
}

}  // namespace

TraceSink Timeline::sink(TraceSink next) {
  return [this, next = std::move(next)](const TraceEvent& e) {
    on_trace(e);
    if (next) next(e);
  };
}

RunWatch Timeline::watch() {
  RunWatch w;
  w.node = [this](int32_t sim_node, const std::string& name, int32_t broker_id) {
    NodeLane& l = lane(sim_node);
    l.name = name;
    l.broker_id = broker_id;
    if (broker_id >= 0) broker_node_[broker_id] = sim_node;
  };
  w.replicas = [this](Instant now, const std::vector<ReplicaView>& views) { on_replicas(now, views); };
  w.history = [this](const std::string& label, const QueueHistory& h) { on_history(label, h); };
  return w;
}

bool Timeline::room(size_t n, size_t max, const char* what) {
  if (n < max) return true;
  ++dropped_[what];
  return false;
}

Timeline::NodeLane& Timeline::lane(int32_t node) {
  auto [it, fresh] = nodes_.try_emplace(node);
  if (fresh) it->second.name = fmt::format("node {}", node);
  return it->second;
}

void Timeline::node_state(int32_t node, Instant at, const std::string& state) {
  NodeLane& l = lane(node);
  if (l.open) {
    if (l.open->state == state) return;
    l.open->to = at;
    if (room(l.spans.size(), kSpansMax, "node states")) l.spans.push_back(*l.open);
  }
  l.open = Span{at, at, state};
}

// A partition lasts until healed; a clog until it runs out, or until unclogged or healed sooner.
void Timeline::close_band(std::map<Pair, Span>& open, const Pair& p, Instant at) {
  auto it = open.find(p);
  if (it == open.end()) return;
  it->second.to = it->second.state == "clog" ? std::min(it->second.to, at) : at;
  if (room(bands_.size(), kSpansMax, "network bands")) bands_.emplace_back(p, it->second);
  open.erase(it);
}

void Timeline::on_trace(const TraceEvent& e) {
  last_ = std::max(last_, e.at);
  switch (e.kind) {
    case Trace::node_start: node_state(static_cast<int32_t>(e.a), e.at, "up"); break;
    case Trace::node_crash:
      node_state(static_cast<int32_t>(e.a), e.at,
                 (e.b & 1) == static_cast<uint64_t>(CrashKind::process) ? "down (process crash)" : "down (power loss)");
      break;
    case Trace::node_pause: {
      // A node that crashed while paused is resumed by the world too, but stays down.
      const NodeLane& l = lane(static_cast<int32_t>(e.a));
      const bool paused_now = l.open && l.open->state == "paused";
      if (e.b == 1 || paused_now) node_state(static_cast<int32_t>(e.a), e.at, e.b == 1 ? "paused" : "up");
      break;
    }
    case Trace::fault: on_fault(e); break;
    default: break;
  }
}

// Network faults become bands between two nodes; every other fault a mark on its node's lane.
void Timeline::on_fault(const TraceEvent& e) {
  const uint64_t code = e.a & 0xFF;
  if (code == 0xB0) {
    blocked_.try_emplace(pair_of(e.b), Span{e.at, e.at, "partition"});
  } else if (code == 0xB4) {
    const auto [a, b] = pair_of(e.b);
    close_band(blocked_, {a, b}, e.at);
    close_band(blocked_, {b, a}, e.at);
  } else if (code == 0xB1) {
    while (!blocked_.empty()) close_band(blocked_, blocked_.begin()->first, e.at);
    while (!clogged_.empty()) close_band(clogged_, clogged_.begin()->first, e.at);
  } else if (code == 0xB2) {
    const Pair p = pair_of(e.b);
    const Instant until = e.at + Duration{static_cast<int64_t>(e.a >> 8)};
    auto it = clogged_.find(p);
    if (it != clogged_.end() && it->second.to < e.at) close_band(clogged_, p, e.at);  // the old one ran out
    auto [open, fresh] = clogged_.try_emplace(p, Span{e.at, until, "clog"});
    if (!fresh) open->second.to = std::max(open->second.to, until);
  } else if (code == 0xB3) {
    close_band(clogged_, pair_of(e.b), e.at);
  } else if (room(faults_.size(), kFaultMarksMax, "fault marks")) {
    const int32_t node = code == 0xC1 ? pair_of(e.b).first : e.node;
    faults_.emplace_back(e.at, node, describe_trace(e));
  }
}

void Timeline::write_sample(ReplicaTrack& track, const Sample& s) {
  if (!track.samples.empty() && same_values(track.samples.back(), s)) return;
  if (!room(samples_, kSamplesMax, "replica samples")) return;
  track.samples.push_back(s);
  ++samples_;
}

void Timeline::on_replicas(Instant now, const std::vector<ReplicaView>& views) {
  last_ = std::max(last_, now);
  for (auto& [tp, tracks] : replicas_) {
    for (auto& [node, track] : tracks) track.seen_now = false;
  }
  for (const ReplicaView& v : views) {
    ReplicaTrack& track = replicas_[Tp{std::string(v.topic), v.partition}][v.node];
    track.seen_now = true;
    const Sample s = sample_of(now, v);
    const Sample* last = track.samples.empty() ? nullptr : &track.samples.back();
    if (last == nullptr || structural(*last, s) || now - last->at >= kSampleInterval) {
      if (track.pending && last != nullptr && structural(*last, s)) write_sample(track, *track.pending);
      write_sample(track, s);
      track.pending.reset();
    } else {
      track.pending = s;
    }
  }
  // A replica missing from the views is on a node that is down.
  for (auto& [tp, tracks] : replicas_) {
    for (auto& [node, track] : tracks) {
      if (track.seen_now || track.samples.empty() || !track.samples.back().live) continue;
      if (track.pending) write_sample(track, *track.pending);
      track.pending.reset();
      Sample gone = track.samples.back();
      gone.at = now;
      gone.live = false;
      write_sample(track, gone);
    }
  }
}

void Timeline::on_history(const std::string& label, const QueueHistory& h) {
  std::map<int, size_t> producer_lane, consumer_lane;
  auto lane_of = [&](std::map<int, size_t>& lanes, int id, const char* role) -> ClientLane& {
    auto [it, fresh] = lanes.try_emplace(id, clients_.size());
    if (fresh) clients_.push_back(ClientLane{fmt::format("{} {} {}", label, role, id), {}});
    return clients_[it->second];
  };
  auto bucket = [](Instant t) { return t.ns / kBucket.count(); };
  for (const SendRecord& s : h.sends) {
    ClientLane& l = lane_of(producer_lane, s.producer, "producer");
    const Instant at = s.completed == Instant{} ? s.invoked : s.completed;
    l.buckets[bucket(at)][static_cast<size_t>(s.outcome)] += 1;
  }
  for (const PollRecord& p : h.polls) {
    if (p.records.empty()) continue;
    lane_of(consumer_lane, p.consumer, "consumer").buckets[bucket(p.at)][0] += p.records.size();
  }
}

void Timeline::finish(const RunResult& result, const std::string& replay_command) {
  for (auto& [tp, tracks] : replicas_) {
    for (auto& [node, track] : tracks) {
      if (track.pending) write_sample(track, *track.pending);
      track.pending.reset();
    }
  }
  result_ = result;
  replay_command_ = replay_command;
  last_ = std::max(last_, result.end_time);
}

json Timeline::data_json_value() const {
  json j;
  const Instant end = last_;
  j["end_s"] = seconds(end);
  json nodes = json::array();
  for (const auto& [id, l] : nodes_) {
    json spans = json::array();
    for (const Span& s : l.spans) spans.push_back({seconds(s.from), seconds(s.to), s.state});
    if (l.open) spans.push_back({seconds(l.open->from), seconds(end), l.open->state});
    nodes.push_back({{"id", id}, {"name", l.name}, {"broker", l.broker_id}, {"spans", spans}});
  }
  j["nodes"] = nodes;
  std::vector<std::tuple<Pair, Span>> bands = bands_;
  for (const auto* open : {&blocked_, &clogged_}) {
    for (const auto& [p, s] : *open) bands.emplace_back(p, Span{s.from, s.state == "clog" ? std::min(s.to, end) : end, s.state});
  }
  json net = json::array();
  for (const auto& [p, s] : bands) net.push_back({{"from", p.first}, {"to", p.second}, {"t0", seconds(s.from)}, {"t1", seconds(s.to)}, {"kind", s.state}});
  j["network"] = net;
  json faults = json::array();
  for (const auto& [at, node, what] : faults_) faults.push_back({{"t", seconds(at)}, {"node", node}, {"what", what}});
  j["faults"] = faults;
  json partitions = json::array();
  for (const auto& [tp, tracks] : replicas_) {
    json replicas = json::array();
    for (const auto& [broker, track] : tracks) {
      json samples = json::array();
      for (const Sample& s : track.samples) {
        samples.push_back({seconds(s.at), s.live, s.leader, s.in_isr, s.epoch, s.log_start, s.log_end, s.high_watermark});
      }
      auto n = broker_node_.find(broker);
      replicas.push_back({{"broker", broker}, {"node", n == broker_node_.end() ? -1 : n->second}, {"samples", samples}});
    }
    partitions.push_back({{"name", fmt::format("{}-{}", tp.first, tp.second)}, {"replicas", replicas}});
  }
  j["partitions"] = partitions;
  json clients = json::array();
  for (const ClientLane& c : clients_) {
    json buckets = json::array();
    for (const auto& [b, n] : c.buckets) buckets.push_back({seconds(Instant{b * kBucket.count()}), n[0], n[1], n[2]});
    clients.push_back({{"name", c.name}, {"buckets", buckets}});
  }
  j["clients"] = clients;
  j["bucket_s"] = static_cast<double>(kBucket.count()) / 1e9;
  j["dropped"] = dropped_;
  if (result_) verdict_json(j);
  return j;
}

void Timeline::verdict_json(json& j) const {
  const RunResult& r = *result_;
  j["seed"] = r.seed;
  j["scenario"] = r.scenario;
  j["verdict"] = r.ok() ? "PASS" : "FAIL";
  j["trace_hash"] = fmt::format("{:016x}", r.trace_hash);
  j["replay"] = replay_command_;
  j["settings"] = r.settings;
  j["faults_summary"] = r.faults;
  j["notes"] = r.notes;
  json checks = json::array(), anomalies = json::array();
  for (const CheckResult& c : r.checks) {
    checks.push_back({{"name", c.name}, {"ok", c.ok()}, {"summary", c.summary()}});
    for (const auto& [at, what] : c.marks) anomalies.push_back({{"check", c.name}, {"t", seconds(at)}, {"what", what}});
    if (!c.ok() && c.marks.empty()) {
      // Found at the end of the run (a final read, a convergence check): marked there.
      anomalies.push_back({{"check", c.name}, {"t", nullptr}, {"what", c.examples.empty() ? c.summary() : c.examples[0]}});
    }
  }
  j["checks"] = checks;
  j["anomalies"] = anomalies;
  // The nemesis' decisions (replay-file lines "event TICK TIME KIND key=value ...").
  json nemesis = json::array();
  for (const std::string& line : r.schedule) {
    std::istringstream in(line);
    std::string word, tick, kind;
    double t = 0;
    in >> word >> tick >> t >> kind;
    std::string rest;
    std::getline(in, rest);
    nemesis.push_back({{"t", t}, {"kind", kind}, {"what", kind + rest}});
  }
  j["nemesis"] = nemesis;
}

// Record values in anomaly texts may be any bytes (corrupt data is what some checks report).
std::string Timeline::data_json() const {
  return data_json_value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace samsa::sim
