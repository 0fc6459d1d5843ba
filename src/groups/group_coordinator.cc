#include "groups/group_coordinator.h"

#include "model/topic_partition.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "log/record_batch.h"
#include "runtime/log.h"

namespace samsa::groups {

using namespace samsa::kafka;

// Not in the anonymous namespace: Group, declared in the header, holds one (a unity build
// would otherwise see a header type with a field of internal linkage).
enum class GroupState : uint8_t { empty, preparing_rebalance, completing_rebalance, stable };

namespace {
constexpr const char* kStateNames[] = {"Empty", "PreparingRebalance", "CompletingRebalance", "Stable"};
}  // namespace

const char* state_name(int state) { return kStateNames[state]; }

struct GroupCoordinator::Member {
  std::string id;
  std::string client_id;
  std::string client_host;
  std::vector<JoinGroupRequest::Protocol> protocols;
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 10000;
  Instant last_heartbeat{};
  bool joined = false;  // has (re)joined in the current rebalance
  std::vector<std::byte> assignment;
  std::optional<std::string> instance_id;  // static membership (KIP-345)
};

struct GroupCoordinator::Group {
  explicit Group(Runtime& rt) : changed(rt) {}
  std::string id;
  int32_t partition = 0;  // of __consumer_offsets
  bool dropped = false;   // its partition was resigned: waiters answer NOT_COORDINATOR
  GroupState state = GroupState::empty;
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  std::map<std::string, Member> members;  // ordered: deterministic leader choice and responses
  // Issued with MEMBER_ID_REQUIRED, not joined yet, with when: a client that keeps asking for
  // ids and never joins must not grow this without bound (members_max, oldest expire first).
  std::map<std::string, Instant> pending_ids;
  std::map<std::string, std::string> static_members;  // group.instance.id -> its current member id
  bool initial_delay = false;
  Instant rebalance_deadline{};
  WaitQueue changed;  // notified on every state change
  std::map<model::TopicPartition, std::pair<int64_t, std::optional<std::string>>> offsets;
};

int32_t partition_for(const std::string& group_id, int32_t partitions) {
  SAMSA_ASSERT(partitions > 0);
  // Java's String.hashCode over UTF-16 code units; ids are UTF-8 on the wire.
  uint32_t h = 0;
  for (size_t i = 0; i < group_id.size();) {
    const auto c = static_cast<unsigned char>(group_id[i]);
    uint32_t cp = c;
    size_t n = 1;
    if (c >= 0xf0) { cp = c & 0x07u; n = 4; }
    else if (c >= 0xe0) { cp = c & 0x0fu; n = 3; }
    else if (c >= 0xc0) { cp = c & 0x1fu; n = 2; }
    if (i + n > group_id.size()) { cp = c; n = 1; }  // truncated: the byte as it is
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(group_id[i + k]) & 0x3fu);
    i += n;
    if (cp >= 0x10000) {
      h = h * 31 + (0xd800u + ((cp - 0x10000) >> 10));
      h = h * 31 + (0xdc00u + ((cp - 0x10000) & 0x3ffu));
    } else {
      h = h * 31 + cp;
    }
  }
  const auto signed_h = static_cast<int32_t>(h);
  // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
  const int32_t abs_h = signed_h == std::numeric_limits<int32_t>::min() ? 0 : (signed_h < 0 ? -signed_h : signed_h);
  return abs_h % partitions;
}

// The single broker's store: its own log, fsynced.
class GroupCoordinator::LocalStore final : public OffsetsStore {
 public:
  explicit LocalStore(PartitionLog& log) : log_(log) {}
  Error append(int32_t partition, int32_t, ConstBytes batch, bool durable) override {
    SAMSA_ASSERT(partition == 0);
    if (!log_.append(batch, 0).ok()) return Error::coordinator_not_available;
    if (durable && !log_.flush().ok()) return Error::coordinator_not_available;
    return Error::none;
  }

 private:
  PartitionLog& log_;
};

GroupCoordinator::GroupCoordinator(Runtime& rt, GroupConfig config) : rt_(rt), config_(std::move(config)) {}
// A loader still running would replay into a destroyed coordinator: stop() joins them, and a
// crashed node's fibers unwind before its objects go.
GroupCoordinator::~GroupCoordinator() = default;

Status GroupCoordinator::start(LogManager& logs) {
  LogConfig c;
  c.flush_messages = std::numeric_limits<int64_t>::max();  // append_records syncs before a commit is acknowledged
  c.retention_ms = -1;
  c.retention_bytes = -1;
  c.segment_bytes = 64 * 1024 * 1024;
  // Not reopened by the log manager after a disk error: the broker halts instead (see offline()).
  SAMSA_TRY_ASSIGN(offsets_log_, logs.open_log({kOffsetsTopic, 0}, "", c, /*reopen=*/false));
  local_store_ = std::make_unique<LocalStore>(*offsets_log_);
  store_ = local_store_.get();
  partitions_ = 1;
  hosted_[0] = Hosted{.leader_epoch = 0, .loaded = false, .log = offsets_log_};
  SAMSA_TRY(replay(*offsets_log_, [] { return true; }));
  hosted_[0].loaded = true;
  start_session_expiry();
  return Status{};
}

void GroupCoordinator::start_cluster(OffsetsStore& store) {
  store_ = &store;
  start_session_expiry();
}

void GroupCoordinator::start_session_expiry() {
  expiry_fiber_ = rt_.spawn("group-sessions", [this] {
    while (rt_.sleep(std::chrono::milliseconds(250)).ok()) expire_sessions();
  });
}

void GroupCoordinator::stop() {
  rt_.cancel(expiry_fiber_);
  (void)rt_.join(expiry_fiber_, Deadline::never());
  // Loaders of partitions resigned meanwhile may still be unwinding: every one is joined.
  while (!loaders_.empty()) {
    const FiberId f = loaders_.begin()->second;
    loaders_.erase(loaders_.begin());
    rt_.cancel(f);
    (void)rt_.join(f, Deadline::never());
  }
}

void GroupCoordinator::elect(int32_t partition, int32_t partitions, int32_t leader_epoch, std::shared_ptr<PartitionLog> log) {
  SAMSA_ASSERT(store_ != nullptr && local_store_ == nullptr);
  SAMSA_ASSERT(partition >= 0 && partition < partitions);
  auto it = hosted_.find(partition);
  if (it != hosted_.end() && it->second.leader_epoch == leader_epoch && partitions == partitions_) return;
  if (partitions != partitions_) {  // the topic was made anew with another count: start over
    for (auto& [p, h] : std::map<int32_t, Hosted>(hosted_)) resign(p);
    partitions_ = partitions;
  }
  resign(partition);
  const uint64_t token = ++loads_;
  hosted_[partition] = Hosted{.leader_epoch = leader_epoch, .loaded = false, .log = std::move(log), .token = token};
  loaders_[token] = rt_.spawn(fmt::format("group-load-{}", partition), [this, partition, token] {
    load(partition, token);
    loaders_.erase(token);
  });
}

void GroupCoordinator::load(int32_t partition, uint64_t token) {
  // Another election (or a resign) replaces this load: it must stop applying records at once.
  auto current = [this, partition, token]() -> Hosted* {
    auto it = hosted_.find(partition);
    return it != hosted_.end() && it->second.token == token ? &it->second : nullptr;
  };
  for (;;) {
    if (current() == nullptr) return;  // resigned before this fiber first ran
    std::shared_ptr<PartitionLog> log = current()->log;
    const Status s = replay(*log, [&] { return current() != nullptr; });
    Hosted* h = current();
    if (h == nullptr) return;  // replaced while loading (resign dropped what was loaded)
    if (s.ok()) {
      h->loaded = true;
      // Sessions start now, as Kafka's do once a load completes: nobody could heartbeat before.
      for (auto& [id, g] : groups_) {
        if (g->partition != partition) continue;
        for (auto& [mid, m] : g->members) m.last_heartbeat = rt_.now();
      }
      // An empty partition (most of the 50, most of the time) is not worth a line.
      logf(rt_, log->log_end_offset() > log->log_start_offset() ? LogLevel::info : LogLevel::debug,
           "group coordinator: {}-{} loaded (leader epoch {})", kOffsetsTopic, partition, h->leader_epoch);
      return;
    }
    // The log could not be read (a disk error): start over after a pause, from nothing, while
    // the broker still leads the partition (COORDINATOR_LOAD_IN_PROGRESS meanwhile).
    logf(rt_, LogLevel::warn, "group coordinator: loading {}-{} failed: {} (retried)", kOffsetsTopic, partition, s.name());
    drop_groups(partition);
    if (rt_.sleep(kLoadRetryBackoff).code() == Errc::cancelled) return;
  }
}

void GroupCoordinator::resign(int32_t partition) {
  auto it = hosted_.find(partition);
  if (it == hosted_.end()) return;
  // Its load, if still running (it ends at once after a successful one), stops.
  if (auto loader = loaders_.find(it->second.token); loader != loaders_.end()) rt_.cancel(loader->second);
  hosted_.erase(it);
  drop_groups(partition);
}

void GroupCoordinator::drop_groups(int32_t partition) {
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (it->second->partition != partition) {
      ++it;
      continue;
    }
    it->second->dropped = true;
    it->second->changed.notify_all();
    it = groups_.erase(it);
  }
}

std::map<int32_t, int32_t> GroupCoordinator::hosted() const {
  std::map<int32_t, int32_t> out;
  for (const auto& [p, h] : hosted_) out[p] = h.leader_epoch;
  return out;
}

bool GroupCoordinator::loaded(int32_t partition) const {
  auto it = hosted_.find(partition);
  return it != hosted_.end() && it->second.loaded;
}

bool GroupCoordinator::loading() const {
  return std::any_of(hosted_.begin(), hosted_.end(), [](const auto& kv) { return !kv.second.loaded; });
}

Error GroupCoordinator::serves(const std::string& group_id) const {
  auto it = hosted_.find(partition_for(group_id, partitions_));
  if (it == hosted_.end()) return Error::not_coordinator;
  return it->second.loaded ? Error::none : Error::coordinator_load_in_progress;
}

std::shared_ptr<GroupCoordinator::Group> GroupCoordinator::group_or_null(const std::string& id, bool loading) {
  auto it = groups_.find(id);
  if (it == groups_.end()) {
    // A load takes every group its log holds: the limit is for clients creating new ones.
    if (!loading && groups_.size() >= config_.groups_max) {
      logf(rt_, LogLevel::warn, "refusing group {}: the coordinator already holds {} groups", id, config_.groups_max);
      return nullptr;
    }
    auto g = std::make_shared<Group>(rt_);
    g->id = id;
    g->partition = partition_for(id, partitions_);
    it = groups_.emplace(id, std::move(g)).first;
  }
  return it->second;
}

size_t GroupCoordinator::member_count() const {
  size_t n = 0;
  for (const auto& [id, g] : groups_) n += g->members.size();
  return n;
}

bool GroupCoordinator::admit_pending(Group& g, const std::string& member_id, int32_t session_timeout_ms) {
  const Instant now = rt_.now();
  const Duration keep = std::chrono::milliseconds(std::max(session_timeout_ms, config_.min_session_timeout_ms));
  for (auto it = g.pending_ids.begin(); it != g.pending_ids.end();) {
    it = now - it->second > keep ? g.pending_ids.erase(it) : std::next(it);
  }
  if (g.pending_ids.size() >= config_.members_max) return false;
  g.pending_ids.emplace(member_id, now);
  return true;
}

std::shared_ptr<GroupCoordinator::Group> GroupCoordinator::find(const std::string& id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second;
}

void GroupCoordinator::begin_rebalance(Group& g, const char* why) {
  const bool was_empty = g.state == GroupState::empty;
  g.state = GroupState::preparing_rebalance;
  for (auto& [id, m] : g.members) m.joined = false;
  int32_t timeout_ms = 0;
  for (const auto& [id, m] : g.members) timeout_ms = std::max(timeout_ms, m.rebalance_timeout_ms);
  g.initial_delay = was_empty && config_.initial_rebalance_delay_ms > 0;
  const int32_t wait_ms = g.initial_delay ? std::min(config_.initial_rebalance_delay_ms, std::max(timeout_ms, 1)) : timeout_ms;
  g.rebalance_deadline = rt_.now() + std::chrono::milliseconds(wait_ms);
  logf(rt_, LogLevel::info, "group {}: rebalance (generation {}): {}", g.id, g.generation, why);
  g.changed.notify_all();
}

bool GroupCoordinator::join_complete(const Group& g) const {
  if (g.state != GroupState::preparing_rebalance) return true;
  if (rt_.now() >= g.rebalance_deadline) return true;
  if (g.initial_delay) return false;  // a new group waits the whole delay for more members
  return std::all_of(g.members.begin(), g.members.end(), [](const auto& kv) { return kv.second.joined; });
}

void GroupCoordinator::complete_join(Group& g) {
  if (g.state != GroupState::preparing_rebalance) return;
  for (auto it = g.members.begin(); it != g.members.end();) {
    if (!it->second.joined) {
      logf(rt_, LogLevel::info, "group {}: member {} did not rejoin in time", g.id, it->first);
      it = g.members.erase(it);
    } else {
      ++it;
    }
  }
  ++g.generation;
  if (g.members.empty()) {
    g.state = GroupState::empty;
    g.leader.clear();
    g.protocol_name.clear();
  } else {
    if (g.members.count(g.leader) == 0) g.leader = g.members.begin()->first;
    // The leader's first protocol that every member supports.
    g.protocol_name.clear();
    for (const auto& p : g.members.at(g.leader).protocols) {
      const bool everyone = std::all_of(g.members.begin(), g.members.end(), [&](const auto& kv) {
        return std::any_of(kv.second.protocols.begin(), kv.second.protocols.end(), [&](const auto& q) { return q.name == p.name; });
      });
      if (everyone) {
        g.protocol_name = p.name;
        break;
      }
    }
    g.state = GroupState::completing_rebalance;
    for (auto& [id, m] : g.members) m.last_heartbeat = rt_.now();
  }
  logf(rt_, LogLevel::info, "group {}: generation {} with {} members", g.id, g.generation, g.members.size());
  g.changed.notify_all();
}

JoinGroupResponse GroupCoordinator::join(JoinGroupRequest& req, int16_t version, const std::string& client_id,
                                         const std::string& client_host) {
  JoinGroupResponse resp;
  auto fail = [&](Error e) {
    resp.error_code = code(e);
    resp.member_id = req.member_id;
    return resp;
  };
  if (req.group_id.empty()) return fail(Error::invalid_group_id);
  if (req.session_timeout_ms < config_.min_session_timeout_ms || req.session_timeout_ms > config_.max_session_timeout_ms) {
    return fail(Error::invalid_session_timeout);
  }
  if (req.protocol_type.empty() || req.protocols.empty()) return fail(Error::inconsistent_group_protocol);
  std::shared_ptr<Group> created = group_or_null(req.group_id);
  if (created == nullptr) return fail(Error::group_max_size_reached);  // the coordinator holds groups_max groups
  Group& g = *created;
  if (req.group_instance_id) {
    std::optional<JoinGroupResponse> settled = join_static(g, req, version, client_id, client_host);
    if (settled) return *settled;
  } else if (req.member_id.empty()) {
    req.member_id = new_member_id(client_id);
    if (version >= 4) {
      if (!admit_pending(g, req.member_id, req.session_timeout_ms)) return fail(Error::group_max_size_reached);
      return fail(Error::member_id_required);
    }
  } else if (g.members.count(req.member_id) == 0 && g.pending_ids.count(req.member_id) == 0) {
    return fail(Error::unknown_member_id);
  }
  const bool others = g.members.size() > (g.members.count(req.member_id) ? 1u : 0u);
  if (others && req.protocol_type != g.protocol_type) return fail(Error::inconsistent_group_protocol);
  if (g.members.count(req.member_id) == 0 &&
      (g.members.size() >= config_.members_max || member_count() >= config_.members_total_max)) {
    return fail(Error::group_max_size_reached);
  }
  g.pending_ids.erase(req.member_id);
  g.protocol_type = req.protocol_type;
  Member& m = g.members[req.member_id];
  const bool is_new = m.id.empty();
  m.id = req.member_id;
  update_member(m, req, version, client_id, client_host);
  if (m.instance_id) g.static_members[*m.instance_id] = m.id;
  if (g.state != GroupState::preparing_rebalance) begin_rebalance(g, is_new ? "a member joined" : "a member rejoined");
  m.joined = true;
  g.changed.notify_all();
  while (!g.dropped && !join_complete(g)) {
    Status s = g.changed.wait(Deadline{g.rebalance_deadline});
    if (s.code() == Errc::cancelled) return fail(Error::rebalance_in_progress);
  }
  if (g.dropped) return fail(Error::not_coordinator);  // its partition moved to another broker
  complete_join(g);
  if (g.members.count(req.member_id) == 0) return fail(Error::unknown_member_id);
  return join_response(g, req.member_id);
}

std::string GroupCoordinator::new_member_id(const std::string& client_id) {
  return fmt::format("{}-{:016x}", client_id.empty() ? "member" : client_id, rt_.random_u64());
}

void GroupCoordinator::update_member(Member& m, const JoinGroupRequest& req, int16_t version, const std::string& client_id,
                                     const std::string& client_host) {
  m.client_id = client_id;
  m.client_host = client_host;
  m.protocols = req.protocols;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = version >= 1 && req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  m.instance_id = req.group_instance_id;
  m.last_heartbeat = rt_.now();
}

JoinGroupResponse GroupCoordinator::join_response(const Group& g, const std::string& member_id) const {
  JoinGroupResponse resp;
  resp.generation_id = g.generation;
  resp.protocol_name = g.protocol_name;
  resp.leader = g.leader;
  resp.member_id = member_id;
  if (member_id != g.leader) return resp;
  for (const auto& [id, member] : g.members) {
    const auto proto = std::find_if(member.protocols.begin(), member.protocols.end(), [&](const auto& p) { return p.name == g.protocol_name; });
    resp.members.push_back({.member_id = id, .group_instance_id = member.instance_id,
                            .metadata = proto == member.protocols.end() ? std::vector<std::byte>{} : proto->metadata});
  }
  return resp;
}

// KIP-345: a join naming a group.instance.id. A new instance gets its member id at once (no
// MEMBER_ID_REQUIRED round trip) and joins like any member. A known instance without a member id
// is the same consumer restarted: its new member id takes the old one's place, keeping the
// assignment, and unless a rebalance is already being prepared it gets the current generation
// back without a rebalance. A member id that differs from the instance's current one is a
// duplicate or a zombie: FENCED_INSTANCE_ID. Returns the response when the join ends here.
std::optional<JoinGroupResponse> GroupCoordinator::join_static(Group& g, JoinGroupRequest& req, int16_t version,
                                                               const std::string& client_id, const std::string& client_host) {
  auto fail = [&](Error e) {
    JoinGroupResponse resp;
    resp.error_code = code(e);
    resp.member_id = req.member_id;
    return std::optional<JoinGroupResponse>(resp);
  };
  const auto known = g.static_members.find(*req.group_instance_id);
  const bool present = known != g.static_members.end() && g.members.count(known->second) != 0;
  if (!req.member_id.empty()) {
    if (present && known->second != req.member_id) return fail(Error::fenced_instance_id);
    if (!present && g.members.count(req.member_id) == 0 && g.pending_ids.count(req.member_id) == 0) {
      return fail(Error::unknown_member_id);
    }
    return std::nullopt;
  }
  req.member_id = new_member_id(client_id);
  if (!present) {
    if (!admit_pending(g, req.member_id, req.session_timeout_ms)) return fail(Error::group_max_size_reached);
    return std::nullopt;
  }
  if (!req.protocol_type.empty() && req.protocol_type != g.protocol_type) return fail(Error::inconsistent_group_protocol);
  Member m = std::move(g.members.at(known->second));
  g.members.erase(known->second);
  logf(rt_, LogLevel::info, "group {}: static member {} rejoined as {} (was {})", g.id, *req.group_instance_id,
       req.member_id, m.id);
  if (g.leader == m.id) g.leader = req.member_id;
  m.id = req.member_id;
  update_member(m, req, version, client_id, client_host);
  known->second = m.id;
  g.members[m.id] = std::move(m);
  if (g.state == GroupState::preparing_rebalance) return std::nullopt;  // joins the rebalance under way
  // Stored before answering: a coordinator that took over would otherwise know only the old id
  // and fence the new one. On failure the client rejoins (and replaces whichever id is held).
  if (const Error stored = persist_group(g); stored != Error::none) return fail(g.dropped ? Error::not_coordinator : stored);
  g.changed.notify_all();
  return join_response(g, req.member_id);
}

// The member id a static member's request must carry: FENCED_INSTANCE_ID for another one.
Error GroupCoordinator::check_instance(const Group& g, const std::optional<std::string>& instance_id,
                                       const std::string& member_id) const {
  if (!instance_id) return Error::none;
  auto it = g.static_members.find(*instance_id);
  if (it != g.static_members.end() && it->second != member_id) return Error::fenced_instance_id;
  return Error::none;
}

SyncGroupResponse GroupCoordinator::sync(SyncGroupRequest& req) {
  SyncGroupResponse resp;
  std::shared_ptr<Group> g = find(req.group_id);
  if (g != nullptr && check_instance(*g, req.group_instance_id, req.member_id) != Error::none) {
    resp.error_code = code(Error::fenced_instance_id);
    return resp;
  }
  if (g == nullptr || g->members.count(req.member_id) == 0) {
    resp.error_code = code(Error::unknown_member_id);
    return resp;
  }
  if (req.generation_id != g->generation) {
    resp.error_code = code(Error::illegal_generation);
    return resp;
  }
  if (g->state == GroupState::completing_rebalance && req.member_id == g->leader) {
    for (auto& a : req.assignments) {
      auto it = g->members.find(a.member_id);
      if (it != g->members.end()) it->second.assignment = std::move(a.assignment);
    }
    // The generation and its assignment are durable before any member may act on them: else a
    // coordinator that restarts would hand out this generation number again, differently.
    const int32_t storing = g->generation;
    const Error stored = persist_group(*g);
    if (g->dropped) {
      resp.error_code = code(Error::not_coordinator);
      return resp;
    }
    if (g->state != GroupState::completing_rebalance || g->generation != storing) {
      resp.error_code = code(Error::rebalance_in_progress);  // the group moved on while storing
      return resp;
    }
    if (stored != Error::none) {
      begin_rebalance(*g, "storing the group failed");
      resp.error_code = code(stored);
      return resp;
    }
    g->state = GroupState::stable;
    g->changed.notify_all();
  }
  if (rt_.buggify("groups.delay_sync") && !rt_.sleep(std::chrono::milliseconds(rt_.random_u64() % 300)).ok()) {
    resp.error_code = code(Error::rebalance_in_progress);
    return resp;
  }
  g = find(req.group_id);  // the sleep may have seen the group go
  if (g == nullptr || g->members.count(req.member_id) == 0) {
    resp.error_code = code(Error::unknown_member_id);
    return resp;
  }
  const int32_t generation = g->generation;
  const Deadline deadline = rt_.after(std::chrono::milliseconds(g->members.at(req.member_id).rebalance_timeout_ms));
  while (!g->dropped && g->state == GroupState::completing_rebalance && g->generation == generation) {
    if (!g->changed.wait(deadline).ok()) break;
  }
  if (g->dropped) {
    resp.error_code = code(Error::not_coordinator);
    return resp;
  }
  auto me = g->members.find(req.member_id);
  if (g->state != GroupState::stable || g->generation != generation || me == g->members.end()) {
    resp.error_code = code(Error::rebalance_in_progress);
    return resp;
  }
  me->second.last_heartbeat = rt_.now();
  resp.assignment = me->second.assignment;
  return resp;
}

Error GroupCoordinator::heartbeat(const HeartbeatRequest& req) {
  std::shared_ptr<Group> g = find(req.group_id);
  if (g != nullptr && check_instance(*g, req.group_instance_id, req.member_id) != Error::none) return Error::fenced_instance_id;
  if (g == nullptr || g->members.count(req.member_id) == 0) return Error::unknown_member_id;
  if (req.generation_id != g->generation) return Error::illegal_generation;
  g->members.at(req.member_id).last_heartbeat = rt_.now();
  // Legal: a coordinator may start a rebalance whenever it likes (Kafka's does on metadata changes).
  if (g->state == GroupState::stable && rt_.buggify("groups.spurious_rebalance")) begin_rebalance(*g, "buggify");
  return g->state == GroupState::preparing_rebalance ? Error::rebalance_in_progress : Error::none;
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id, const char* why) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  if (it->second.instance_id) g.static_members.erase(*it->second.instance_id);
  g.members.erase(it);
  logf(rt_, LogLevel::info, "group {}: member {} removed: {}", g.id, member_id, why);
  if (g.members.empty() && g.state != GroupState::preparing_rebalance) {
    g.state = GroupState::empty;
    ++g.generation;
    g.leader.clear();
    (void)persist_group(g);
    g.changed.notify_all();
  } else if (g.state == GroupState::preparing_rebalance) {
    g.changed.notify_all();  // maybe everyone left has now rejoined
  } else {
    begin_rebalance(g, why);
  }
}

LeaveGroupResponse GroupCoordinator::leave(const LeaveGroupRequest& req, int16_t version) {
  LeaveGroupResponse resp;
  std::shared_ptr<Group> g = find(req.group_id);
  std::vector<LeaveGroupRequest::Member> leaving = req.members;
  if (version <= 2) leaving = {{.member_id = req.member_id, .group_instance_id = std::nullopt}};
  for (const auto& m : leaving) {
    std::string id = m.member_id;
    Error e = Error::none;
    if (g != nullptr && m.group_instance_id) {  // static: by instance id (member id may be empty)
      auto it = g->static_members.find(*m.group_instance_id);
      if (it == g->static_members.end()) e = Error::unknown_member_id;
      else if (!id.empty() && it->second != id) e = Error::fenced_instance_id;
      else id = it->second;
    }
    if (e == Error::none) e = g != nullptr && g->members.count(id) != 0 ? Error::none : Error::unknown_member_id;
    if (e == Error::none) remove_member(*g, id, "left the group");
    if (version >= 3) resp.members.push_back({.member_id = m.member_id, .group_instance_id = m.group_instance_id, .error_code = code(e)});
    else resp.error_code = code(e);
  }
  return resp;
}

void GroupCoordinator::expire_sessions() {
  // A copy: removing a member stores the group, which suspends, and groups may come and go.
  std::vector<std::shared_ptr<Group>> groups;
  for (const auto& [id, g] : groups_) groups.push_back(g);
  for (const std::shared_ptr<Group>& g : groups) {
    if (g->dropped || !loaded(g->partition)) continue;
    if (g->state == GroupState::preparing_rebalance) {
      if (join_complete(*g)) g->changed.notify_all();  // let a waiting joiner finish it
      continue;
    }
    std::vector<std::string> expired;
    for (const auto& [mid, m] : g->members) {
      if (rt_.now() - m.last_heartbeat > std::chrono::milliseconds(m.session_timeout_ms)) expired.push_back(mid);
    }
    for (const std::string& mid : expired) {
      if (!g->dropped) remove_member(*g, mid, "session timed out");
    }
  }
}

OffsetCommitResponse GroupCoordinator::commit(OffsetCommitRequest& req) {
  OffsetCommitResponse resp;
  Error e = Error::none;
  std::shared_ptr<Group> found = group_or_null(req.group_id);
  if (found == nullptr) {
    for (const auto& t : req.topics) {
      OffsetCommitResponse::Topic out{.name = t.name};
      for (const auto& p : t.partitions) out.partitions.push_back({.partition_index = p.partition_index, .error_code = code(Error::group_max_size_reached)});
      resp.topics.push_back(std::move(out));
    }
    return resp;
  }
  Group& g = *found;
  const bool standalone = req.generation_id < 0 && req.member_id.empty();
  if (req.group_id.empty()) {
    e = Error::invalid_group_id;
  } else if (!standalone) {
    if (check_instance(g, req.group_instance_id, req.member_id) != Error::none) e = Error::fenced_instance_id;
    else if (g.members.count(req.member_id) == 0) e = Error::unknown_member_id;
    else if (req.generation_id != g.generation &&
             !(req.generation_id < g.generation && rt_.bug(Bug::groups_accept_stale_generation))) {
      e = Error::illegal_generation;
    }
    // Members commit while revoking, before they rejoin: allowed while the rebalance is being
    // prepared (their generation still holds), refused while it is completing, as in Kafka.
    else if (g.state == GroupState::completing_rebalance) e = Error::rebalance_in_progress;
  } else if (!g.members.empty()) {
    e = Error::unknown_member_id;  // an active group only takes commits from its members
  }
  logf(rt_, LogLevel::debug, "group {}: commit by {} generation {} (group at {} {}): {}", req.group_id, req.member_id,
       req.generation_id, g.generation, state_name(static_cast<int>(g.state)), error_name(e));
  std::vector<std::pair<std::string, std::optional<std::vector<std::byte>>>> records;
  if (e == Error::none) {
    for (const auto& t : req.topics) {
      for (const auto& p : t.partitions) {
        Writer w;
        w.i64(p.committed_offset);
        w.nstr(p.committed_metadata);
        records.push_back({offset_key(req.group_id, t.name, p.partition_index), w.take_bytes()});
      }
    }
    e = append_records(g.partition, records, !rt_.bug(Bug::groups_ack_commit_before_durable));
  }
  // Stored: acknowledged even if the partition moved meanwhile (the new coordinator loads it).
  if (e == Error::none && !g.dropped) {
    for (const auto& t : req.topics) {
      for (const auto& p : t.partitions) g.offsets[{t.name, p.partition_index}] = {p.committed_offset, p.committed_metadata};
    }
  }
  for (const auto& t : req.topics) {
    OffsetCommitResponse::Topic out{t.name, {}};
    for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, code(e)});
    resp.topics.push_back(std::move(out));
  }
  return resp;
}

OffsetFetchResponse GroupCoordinator::fetch_offsets(const OffsetFetchRequest& req) {
  OffsetFetchResponse resp;
  const std::shared_ptr<Group> g = find(req.group_id);
  if (!req.topics) {
    if (g == nullptr) return resp;
    for (const auto& [tp, off] : g->offsets) {
      if (resp.topics.empty() || resp.topics.back().name != tp.topic) resp.topics.push_back({tp.topic, {}});
      resp.topics.back().partitions.push_back({tp.partition, off.first, -1, off.second, 0});
    }
    return resp;
  }
  for (const auto& t : *req.topics) {
    OffsetFetchResponse::Topic out{t.name, {}};
    for (int32_t p : t.partition_indexes) {
      OffsetFetchResponse::Partition part{p, -1, -1, std::string(), 0};
      if (g != nullptr) {
        auto it = g->offsets.find({t.name, p});
        if (it != g->offsets.end()) {
          part.committed_offset = it->second.first;
          part.metadata = it->second.second;
        }
      }
      out.partitions.push_back(std::move(part));
    }
    resp.topics.push_back(std::move(out));
  }
  return resp;
}

ListGroupsResponse GroupCoordinator::list(const std::vector<std::string>& states) const {
  ListGroupsResponse resp;
  for (const auto& [id, g] : groups_) {
    if (g->members.empty() && g->offsets.empty()) continue;
    const std::string state = state_name(static_cast<int>(g->state));
    if (!states.empty() && std::find(states.begin(), states.end(), state) == states.end()) continue;
    resp.groups.push_back({.group_id = id, .protocol_type = g->protocol_type, .group_state = state});
  }
  return resp;
}

DescribeGroupsResponse GroupCoordinator::describe(const DescribeGroupsRequest& req) const {
  DescribeGroupsResponse resp;
  for (const std::string& id : req.groups) {
    DescribeGroupsResponse::Group out;
    out.group_id = id;
    const std::shared_ptr<Group> g = find(id);
    if (g == nullptr) {
      out.group_state = "Dead";
      resp.groups.push_back(std::move(out));
      continue;
    }
    out.group_state = state_name(static_cast<int>(g->state));
    out.protocol_type = g->protocol_type;
    out.protocol_data = g->protocol_name;
    for (const auto& [mid, m] : g->members) {
      const auto proto = std::find_if(m.protocols.begin(), m.protocols.end(), [&](const auto& p) { return p.name == g->protocol_name; });
      out.members.push_back({mid, m.instance_id, m.client_id, m.client_host,
                             proto == m.protocols.end() ? std::vector<std::byte>{} : proto->metadata, m.assignment});
    }
    resp.groups.push_back(std::move(out));
  }
  return resp;
}

DeleteGroupsResponse GroupCoordinator::delete_groups(const DeleteGroupsRequest& req) {
  DeleteGroupsResponse resp;
  for (const std::string& id : req.groups_names) {
    std::shared_ptr<Group> g = find(id);
    Error e = serves(id);  // again for each: deleting the previous one suspended
    if (e != Error::none) {
      resp.results.push_back({.group_id = id, .error_code = code(e)});
      continue;
    }
    if (g == nullptr || (g->members.empty() && g->offsets.empty() && g->generation == 0)) e = Error::group_id_not_found;
    else if (!g->members.empty()) e = Error::non_empty_group;
    std::vector<std::pair<std::string, std::optional<std::vector<std::byte>>>> tombstones;
    if (e == Error::none) {
      for (const auto& [tp, off] : g->offsets) tombstones.push_back({offset_key(id, tp.topic, tp.partition), std::nullopt});
      tombstones.push_back({"g2\x1f" + id, std::nullopt});
      e = append_records(g->partition, tombstones);
    }
    if (e == Error::none && !g->dropped) {
      groups_.erase(id);
      logf(rt_, LogLevel::info, "group {} deleted", id);
    }
    resp.results.push_back({.group_id = id, .error_code = code(e)});
  }
  return resp;
}

// OffsetDelete: committed offsets of topics that no member of the group subscribes to.
OffsetDeleteResponse GroupCoordinator::delete_offsets(const OffsetDeleteRequest& req) {
  OffsetDeleteResponse resp;
  std::shared_ptr<Group> g = find(req.group_id);
  if (g == nullptr || (g->members.empty() && g->offsets.empty())) {
    resp.error_code = code(Error::group_id_not_found);
    return resp;
  }
  const std::set<std::string> subscribed = subscribed_topics(*g);
  std::vector<std::pair<std::string, std::optional<std::vector<std::byte>>>> tombstones;
  for (const auto& t : req.topics) {
    OffsetDeleteResponse::Topic out{.name = t.name};
    const Error e = subscribed.count(t.name) != 0 ? Error::group_subscribed_to_topic : Error::none;
    for (const auto& p : t.partitions) {
      out.partitions.push_back({.partition_index = p.partition_index, .error_code = code(e)});
      if (e == Error::none && g->offsets.count({t.name, p.partition_index}) != 0) {
        tombstones.push_back({offset_key(req.group_id, t.name, p.partition_index), std::nullopt});
      }
    }
    resp.topics.push_back(std::move(out));
  }
  if (const Error stored = append_records(g->partition, tombstones); stored != Error::none) {
    resp = OffsetDeleteResponse{};
    resp.error_code = code(stored);
    return resp;
  }
  for (const auto& [key, value] : tombstones) apply_record(key, value);
  return resp;
}

std::set<std::string> GroupCoordinator::subscribed_topics(const Group& g) const {
  std::set<std::string> out;
  if (g.protocol_type != "consumer") return out;
  for (const auto& [id, m] : g.members) {
    for (const auto& p : m.protocols) {
      Result<ConsumerSubscription> sub = decode_prefix<ConsumerSubscription>(p.metadata);
      if (sub.ok()) out.insert(sub->topics.begin(), sub->topics.end());
    }
  }
  return out;
}

std::string GroupCoordinator::offset_key(const std::string& group, const std::string& topic, int32_t partition) {
  return fmt::format("o\x1f{}\x1f{}\x1f{}", group, topic, partition);
}

std::optional<GroupCoordinator::Snapshot> GroupCoordinator::snapshot(const std::string& id) const {
  const std::shared_ptr<Group> g = find(id);
  if (g == nullptr) return std::nullopt;
  Snapshot s{state_name(static_cast<int>(g->state)), g->generation, {}};
  for (const auto& [mid, m] : g->members) s.members.push_back(mid);
  return s;
}

// --- persistence in __consumer_offsets ---

Error GroupCoordinator::append_records(int32_t partition,
                                       const std::vector<std::pair<std::string, std::optional<std::vector<std::byte>>>>& records,
                                       bool durable) {
  if (records.empty()) return Error::none;
  auto it = hosted_.find(partition);
  if (it == hosted_.end()) return Error::not_coordinator;
  if (!it->second.loaded) return Error::coordinator_load_in_progress;  // no write before the log is read
  BatchBuilder b(rt_.wall_clock_ms());
  for (const auto& [key, value] : records) {
    b.add(rt_.wall_clock_ms(), as_bytes(key), value ? std::optional<ConstBytes>(ConstBytes(*value)) : std::nullopt);
  }
  const std::vector<std::byte> batch = b.build();
  return store_->append(partition, it->second.leader_epoch, batch, durable);
}

Error GroupCoordinator::persist_group(const Group& g) {
  Writer w;
  w.i32(g.generation);
  w.str(g.protocol_type);
  w.str(g.protocol_name);
  w.str(g.leader);
  w.i32(static_cast<int32_t>(g.members.size()));
  for (const auto& [id, m] : g.members) {
    w.str(id);
    w.str(m.client_id);
    w.str(m.client_host);
    w.i32(m.session_timeout_ms);
    w.i32(m.rebalance_timeout_ms);
    w.bytes(m.assignment);
    w.nstr(m.instance_id);
  }
  // "g2": members carry their group.instance.id ("g", written before static membership, not).
  return append_records(g.partition, {{"g2\x1f" + g.id, w.take_bytes()}});
}

void GroupCoordinator::apply_record(const std::string& key, const std::optional<std::vector<std::byte>>& value) {
  std::vector<std::string> parts;
  size_t at = 0;
  for (size_t i = 0; i <= key.size(); ++i) {
    if (i == key.size() || key[i] == '\x1f') {
      parts.push_back(key.substr(at, i - at));
      at = i + 1;
    }
  }
  if (!value) {  // a tombstone: DeleteGroups, OffsetDelete
    if (parts.size() == 4 && parts[0] == "o") {
      if (std::shared_ptr<Group> g = find(parts[1])) g->offsets.erase({parts[2], std::atoi(parts[3].c_str())});
    } else if (parts.size() == 2 && (parts[0] == "g" || parts[0] == "g2")) {
      groups_.erase(parts[1]);
    }
    return;
  }
  Reader r(*value);
  if (parts.size() == 4 && parts[0] == "o" && !rt_.bug(Bug::groups_forget_commits_on_restart)) {
    int64_t offset = 0;
    std::optional<std::string> metadata;
    r.i64(offset);
    r.nstr(metadata);
    std::shared_ptr<Group> g = group_or_null(parts[1], /*loading=*/true);
    if (r.ok() && g != nullptr) g->offsets[{parts[2], std::atoi(parts[3].c_str())}] = {offset, metadata};
  } else if (parts.size() == 2 && (parts[0] == "g" || parts[0] == "g2")) {
    std::shared_ptr<Group> loaded = group_or_null(parts[1], /*loading=*/true);
    if (loaded == nullptr) return;
    Group& g = *loaded;
    int32_t n = 0;
    r.i32(g.generation);
    r.str(g.protocol_type);
    r.str(g.protocol_name);
    r.str(g.leader);
    r.i32(n);
    g.members.clear();
    g.static_members.clear();
    for (int32_t i = 0; i < n && r.ok() && i < static_cast<int32_t>(config_.members_max); ++i) {
      Member m;
      r.str(m.id);
      r.str(m.client_id);
      r.str(m.client_host);
      r.i32(m.session_timeout_ms);
      r.i32(m.rebalance_timeout_ms);
      r.bytes(m.assignment);
      if (parts[0] == "g2") r.nstr(m.instance_id);
      m.last_heartbeat = rt_.now();  // sessions restart with the broker, as in Kafka
      if (m.instance_id) g.static_members[*m.instance_id] = m.id;
      g.members[m.id] = std::move(m);
    }
    g.state = g.members.empty() ? GroupState::empty : GroupState::stable;
  }
}

Status GroupCoordinator::replay(PartitionLog& log, const std::function<bool()>& current) {
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    if (!current()) return Errc::cancelled;
    LogSlice slice;
    SAMSA_TRY_ASSIGN(slice, log.read_slice(offset, 1 << 20));
    if (slice.length == 0) break;
    std::vector<std::byte> data(slice.length);
    size_t n = 0;
    SAMSA_TRY_ASSIGN(n, slice.file->pread(slice.position, data));
    if (!current()) return Errc::cancelled;  // the read suspended: was this load replaced?
    std::vector<ConstBytes> batches;
    SAMSA_TRY_ASSIGN(batches, split_batches(ConstBytes(data).first(n), 64 << 20));
    for (ConstBytes b : batches) {
      std::vector<Record> records;
      SAMSA_TRY_ASSIGN(records, decode_records(b));
      for (const Record& rec : records) {
        if (rec.key) apply_record(std::string(reinterpret_cast<const char*>(rec.key->data()), rec.key->size()), rec.value);
        offset = rec.offset + 1;
      }
    }
  }
  logf(rt_, LogLevel::debug, "group coordinator: {} groups held after loading {}", groups_.size(), log.dir());
  return Status{};
}

}  // namespace samsa::groups
