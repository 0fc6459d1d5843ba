#include "sim/scenarios/cluster_data.h"

#include <fmt/format.h>

#include "broker/broker.h"
#include "server/node.h"
#include "sim/scenarios/accounting.h"

namespace samsa::sim {

namespace {

constexpr int kAcksAllProducers = 2;
constexpr const char* kDataDir = "/data";  // the cluster nodes' log.dirs
constexpr Duration kSettleTime = std::chrono::seconds(5);
constexpr int kAcksOneProducer = 10;
constexpr int kAcksAllConsumer = 200;
constexpr int kAcksOneConsumer = 210;

// The checks of the acks=1 topic keep their Jepsen names under a prefix.
void prefix_names(std::vector<CheckResult>& checks, const std::string& prefix) {
  for (CheckResult& c : checks) c.name = prefix + c.name;
}

}  // namespace

ClusterData::ClusterData(Simulator& sim, const std::map<int32_t, server::Node*>& live, std::map<int32_t, NodeId> nodes,
                         std::vector<Address> bootstrap, const ClusterDataShape& shape)
    : sim_(sim), live_(live), nodes_(std::move(nodes)) {
  const int32_t partitions = shape.partitions.value_or(static_cast<int32_t>(sim_.in_range(1, 3)));
  all_ = WorkloadProfile::draw(sim_, std::move(bootstrap), partitions, 1 << 20);
  all_.pace(shape.send_rate);
  all_.oversize_per_mille = 0;  // the broker scenario covers oversize batches
  all_.replication_factor = shape.replication_factor.value_or(static_cast<int16_t>(sim_.in_range(2, 3)));
  min_insync_ = shape.min_insync.value_or(static_cast<int32_t>(sim_.in_range(1, 2)));
  all_.topic_configs = {{"min.insync.replicas", std::to_string(min_insync_)}};
  all_.topic = kAcksAllTopic;
  all_.acks = -1;
  one_ = all_;
  one_.topic = kAcksOneTopic;
  one_.acks = 1;
  if (shape.unclean_acks1) {
    // Kafka promises nothing of what the last in-sync replica held once another is elected.
    one_.topic_configs["unclean.leader.election.enable"] = "true";
    checker_.allow_unclean(kAcksOneTopic);
  }
  for (QueueHistory* h : {&all_history_, &one_history_}) h->partitions = partitions;
  checker_.set_min_insync(kAcksAllTopic, min_insync_);
  checker_.set_min_insync(kAcksOneTopic, min_insync_);
}

void ClusterData::add_clients() {
  for (int k = 1; k <= kAcksAllProducers; ++k) {
    clients_.push_back(sim_.add_node(fmt::format("producer{}", k), [this, k](Runtime& rt) { producer_main(rt, all_, k, all_history_); }));
    all_history_.producers.push_back(k);
  }
  clients_.push_back(sim_.add_node("producer-acks1", [this](Runtime& rt) { producer_main(rt, one_, kAcksOneProducer, one_history_); }));
  one_history_.producers.push_back(kAcksOneProducer);
  clients_.push_back(sim_.add_node("consumer", [this](Runtime& rt) { consumer_main(rt, all_, kAcksAllConsumer, all_history_); }));
  all_history_.ordered_consumers.push_back(kAcksAllConsumer);
  acks1_consumer_ = sim_.add_node("consumer-acks1", [this](Runtime& rt) { consumer_main(rt, one_, kAcksOneConsumer, one_history_); });
  clients_.push_back(acks1_consumer_);
  one_history_.ordered_consumers.push_back(kAcksOneConsumer);
}

// From the disk, not the node's objects: a node still starting (registering, say) holds files
// it is not serving yet, and they lose their unsynced tail all the same.
void ClusterData::before_power_loss(int32_t node) {
  if (!nodes_.count(node)) return;  // a controller-only node holds no replica
  if (!sim_.up(nodes_.at(node))) return;  // a machine that is down has nothing unsynced
  ++power_losses_;
  const SimDisk& disk = *sim_.node(nodes_.at(node)).disk;
  report_cut(node, "power loss", [&disk](const std::string& dir) { return !disk.files_with_prefix(dir + "/").empty(); });
}

void ClusterData::failed_sync(int32_t node, const std::string& path) {
  if (!nodes_.count(node)) return;
  report_cut(node, "failed fsync", [this, &path](const std::string& dir) {
    const bool in_it = path.rfind(dir + "/", 0) == 0;
    failed_syncs_ += in_it ? 1 : 0;
    return in_it;
  });
}

void ClusterData::unclean_halt(int32_t node) {
  if (!nodes_.count(node)) return;
  ++unclean_halts_;
  report_cut(node, "halt after a failed fsync", [](const std::string&) { return true; });
}

void ClusterData::report_cut(int32_t node, std::string_view cause, const std::function<bool(const std::string&)>& cut) {
  const SimDisk& disk = *sim_.node(nodes_.at(node)).disk;
  for (const char* topic : {kAcksAllTopic, kAcksOneTopic}) {
    for (int32_t p = 0; p < all_.partitions; ++p) {
      const std::string dir = fmt::format("{}/{}-{}", kDataDir, topic, p);
      if (!cut(dir)) continue;
      checker_.power_loss(sim_.now(), node, topic, p, durable_log_end(disk, dir), current_log_end(disk, dir), cause);
    }
  }
}

namespace {

// What the replication checker reads of a replica, by value (a view's epoch cache pointer is
// valid only until its node runs again): the cache by its size and ends, as it only grows at its
// end and is cut at either end, so equal ends and sizes mean equal entries.
std::vector<int64_t> print_of(const std::vector<ReplicaView>& views) {
  std::vector<int64_t> out;
  for (const ReplicaView& v : views) {
    const std::vector<LeaderEpochCache::Entry>* e = v.epochs;
    const bool none = e == nullptr || e->empty();
    out.insert(out.end(), {v.node, static_cast<int64_t>(v.incarnation), reinterpret_cast<int64_t>(v.topic.data()), v.partition,
                           v.leader ? 1 : 0, v.leader_epoch, v.log_start, v.log_end, v.high_watermark, v.epoch_start_offset,
                           v.in_isr ? 1 : 0, static_cast<int64_t>(e == nullptr ? 0 : e->size()), none ? -1 : e->front().epoch,
                           none ? -1 : e->front().start_offset, none ? -1 : e->back().epoch, none ? -1 : e->back().start_offset});
  }
  return out;
}

}  // namespace

bool ClusterData::refresh_views(int32_t id, server::Node& node) {
  NodeViews& nv = node_views_[id];
  nv.node = &node;
  nv.incarnation = sim_.node(nodes_.at(id)).incarnation;
  nv.replicas.clear();
  broker::Broker* b = node.broker();
  if (b == nullptr) return refresh_print(nv);
  if (nv.broker != b || nv.table_version != b->partitions().version()) {
    nv.broker = b;
    nv.table_version = b->partitions().version();
    nv.partitions.clear();
    for (const char* topic : {kAcksAllTopic, kAcksOneTopic}) {
      for (int32_t p = 0; p < all_.partitions; ++p) {
        nv.partitions.push_back(b->partitions().find(model::TopicPartition{topic, p}).get());
      }
    }
  }
  size_t at = 0;
  for (const char* topic : {kAcksAllTopic, kAcksOneTopic}) {
    for (int32_t p = 0; p < all_.partitions; ++p) {
      const replication::Partition* partition = nv.partitions[at++];
      if (partition == nullptr) continue;
      Result<std::shared_ptr<PartitionLog>> log = partition->log();
      if (!log.ok()) continue;
      ReplicaView& v = nv.replicas.emplace_back();
      v.node = id;
      v.incarnation = nv.incarnation;
      v.topic = topic;
      v.partition = p;
      v.leader = partition->role() == replication::Role::leader;
      v.leader_epoch = partition->leader_epoch().value;
      const std::vector<int32_t>& isr = partition->state().isr;  // as this broker's metadata has it
      v.in_isr = std::find(isr.begin(), isr.end(), id) != isr.end();
      v.log_start = (*log)->log_start_offset();
      v.log_end = (*log)->log_end_offset();
      v.high_watermark = partition->high_watermark();
      v.epoch_start_offset = partition->epoch_start_offset();
      v.epochs = &(*log)->epochs().entries();  // valid until this node runs again or dies
    }
  }
  return refresh_print(nv);
}

bool ClusterData::refresh_print(NodeViews& nv) {
  std::vector<int64_t> print = print_of(nv.replicas);
  const bool changed = print != nv.print;
  nv.print = std::move(print);
  return changed;
}

// Forgets the views of nodes that died or restarted since (their epoch caches are gone).
bool ClusterData::drop_dead_views() {
  bool dropped = false;
  for (auto it = node_views_.begin(); it != node_views_.end();) {
    auto l = live_.find(it->first);
    const bool same = l != live_.end() && l->second == it->second.node &&
                      sim_.node(nodes_.at(it->first)).incarnation == it->second.incarnation;
    if (same) {
      ++it;
    } else {
      it = node_views_.erase(it);
      dropped = true;
    }
  }
  return dropped;
}

// Grouped by partition (the checker takes each partition's replicas together), nodes in id order.
void ClusterData::collect_views() {
  views_.clear();
  for (const char* topic : {kAcksAllTopic, kAcksOneTopic}) {
    for (int32_t p = 0; p < all_.partitions; ++p) {
      for (const auto& [id, nv] : node_views_) {
        for (const ReplicaView& v : nv.replicas) {
          if (v.partition == p && v.topic.data() == topic) views_.push_back(v);
        }
      }
    }
  }
}

void ClusterData::after_step() {
  bool looked = drop_dead_views();
  bool changed = looked;
  const NodeId ran = sim_.last_fiber_node();
  for (const auto& [id, node] : live_) {
    if (!nodes_.count(id)) continue;  // a controller-only node
    const bool fresh = !node_views_.count(id);
    if (nodes_.at(id) == ran || fresh) {
      changed = refresh_views(id, *node) || fresh || changed;
      looked = true;
    }
  }
  if (!looked) return;  // no broker ran: nothing a replica holds changed
  if (!changed && !checker_.wants_observe()) {
    if (!views_.empty()) checker_.unchanged(sim_.now());  // the same views again: observe() would learn nothing new
    return;
  }
  collect_views();
  if (watch_ != nullptr && watch_->replicas) watch_->replicas(sim_.now(), views_);  // empty: every broker is down
  if (!views_.empty()) checker_.observe(sim_.now(), views_);
}

void ClusterData::healed(Instant healed, Instant live_from, Instant live_until) {
  for (QueueHistory* h : {&all_history_, &one_history_}) {
    h->healed = healed;
    h->live_from = live_from;
    h->live_until = live_until;
  }
}

std::vector<CheckResult> ClusterData::finish(Duration give_up) {
  for (NodeId c : clients_) sim_.crash(c);
  // What acks=1 acknowledged last is above the high watermark until the followers fetch it.
  const Instant settled = sim_.now() + kSettleTime;
  while (sim_.now() < settled && sim_.step()) after_step();
  collect_views();
  checker_.finish(views_);
  for (const ReplicaView& v : views_) {
    std::string epochs;
    for (const LeaderEpochCache::Entry& e : *v.epochs) epochs += fmt::format(" {}@{}", e.epoch, e.start_offset);
    final_replicas_.push_back(fmt::format("{}-{} on node {}: {} epoch {}, log [{}, {}), high watermark {}, epochs{}", v.topic,
                                          v.partition, v.node, v.leader ? "leader" : "follower", v.leader_epoch, v.log_start,
                                          v.log_end, v.high_watermark, epochs));
  }
  final_read(sim_, all_, all_history_, give_up);
  final_read(sim_, one_, one_history_, give_up);
  // The losses each leader epoch's start allows: acks=1 loses what the old leader alone held at
  // any change of leader; acks=all only outside the envelope.
  for (const LeaderTerm& t : checker_.terms()) {
    const std::string change = fmt::format("leader change: node {} leads {}-{} epoch {} from offset {}", t.node, t.topic,
                                           t.partition, t.epoch, t.start_offset);
    if (t.topic == kAcksOneTopic) {
      // Inside the envelope what was committed stays; what the old leader held alone may go,
      // below the new epoch's start too (the new leader kept an older epoch's uncommitted
      // suffix). Outside it the new leader's log may diverge below the committed offset as well
      // (an unclean leader's own older suffix: seed 10020 of --schedule kip-279), as for acks=all.
      const int64_t from = t.envelope_broken_by ? 0 : std::min(t.start_offset, t.committed_before);
      one_history_.risks.push_back(RiskWindow{.fault = t.envelope_broken_by.value_or(change), .at = t.at,
                                              .partition = t.partition, .from_offset = from,
                                              .new_leader_epoch = !t.envelope_broken_by || t.unclean});
    } else if (t.envelope_broken_by) {
      // Outside the envelope Kafka promises nothing of what was acknowledged before: the new
      // leader's log may diverge from the committed one below its epoch's start too (unclean
      // recovery elects a replica with its own older suffix: seed 580 of the CI campaign), so
      // every acknowledged offset of the partition is at risk, excused under the faults named.
      all_history_.risks.push_back(RiskWindow{*t.envelope_broken_by, t.at, t.partition, 0});
    }
  }
  // And acks=1 loses what a deposed leader went on acknowledging alone, at the offsets it wrote
  // while deposed, until it learned of the new epoch.
  for (const DeposedRun& d : checker_.deposed_runs()) {
    if (d.topic != kAcksOneTopic || d.to_offset <= d.from_offset) continue;  // it wrote nothing while deposed
    one_history_.risks.push_back(RiskWindow{.fault = fmt::format("deposed leader: node {} led {}-{} epoch {} until {:.3f} s",
                                                                 d.node, d.topic, d.partition, d.epoch, d.until.ns / 1e9),
                                            .at = d.until, .partition = d.partition, .from_offset = d.from_offset,
                                            .new_leader_epoch = true, .to_offset = d.to_offset - 1});
  }
  if (watch_ != nullptr && watch_->history) {
    watch_->history(fmt::format("{} (acks=all)", kAcksAllTopic), all_history_);
    watch_->history(fmt::format("{} (acks=1)", kAcksOneTopic), one_history_);
  }
  std::vector<CheckResult> checks = check_queue(all_history_);
  std::vector<CheckResult> acks_one = check_queue(one_history_);
  prefix_names(acks_one, "acks1:");
  checks.insert(checks.end(), acks_one.begin(), acks_one.end());
  // A seed whose faults kept every acknowledgement after the heal (acks=all with too few in sync)
  // or every poll empty leaves some checks nothing to look at: reported so ("n/a saw nothing"),
  // while the campaign test requires each to have examined something over its seeds.
  for (CheckResult& c : checks) c.expect_examined = false;
  for (CheckResult& c : checker_.results()) checks.push_back(std::move(c));
  return checks;
}

std::vector<std::string> ClusterData::settings() const {
  std::vector<std::string> out = all_.describe();
  out.push_back(fmt::format("topics {} (acks=all) and {} (acks=1), min.insync.replicas={}", kAcksAllTopic, kAcksOneTopic,
                            min_insync_));
  return out;
}

std::vector<std::string> ClusterData::notes() const {
  uint64_t outside = 0;
  for (const LeaderTerm& t : checker_.terms()) outside += t.envelope_broken_by ? 1 : 0;
  std::vector<std::string> out{fmt::format(
      "replication: {} leader epochs seen ({} outside the envelope), {} power losses of brokers, {} failed fsyncs of "
      "data replicas, {} halts after a failed fsync, {} steps checked",
      checker_.terms().size(), outside, power_losses_, failed_syncs_, unclean_halts_, checker_.observations())};
  out.insert(out.end(), final_replicas_.begin(), final_replicas_.end());
  return out;
}

uint64_t ClusterData::acked() const {
  uint64_t n = 0;
  for (const QueueHistory* h : {&all_history_, &one_history_}) {
    for (const SendRecord& s : h->sends) n += s.outcome == SendRecord::Outcome::ok ? s.values.size() : 0;
  }
  return n;
}

uint64_t ClusterData::records_read() const { return all_history_.final_read.size() + one_history_.final_read.size(); }

}  // namespace samsa::sim
