// The KRaft controller's rules as properties. RapidCheck generates sequences of operations on up
// to five brokers and four topics: registrations (retries and new incarnations), heartbeats
// (caught up or behind), time passing and session expiry, topic creation, deletion and new
// partitions, AlterPartition requests with current and stale epochs, and unclean election
// switched on and off per topic. Every returned record is applied to the image; after every
// step:
// - every record the controller returned applies;
// - ISR ⊆ replicas, without duplicates; a leader is in its ISR and unfenced;
// - a fenced broker is in no ISR, except as the last member of a leaderless partition's ISR;
// - partition and leader epochs never decrease; any change to a partition bumps its partition
//   epoch, any leader change its leader epoch;
// - the ELR (KIP-966) is a set of replicas outside the ISR (the image refuses anything else);
// - with unclean election off, a new leader comes from the partition's previous ISR or ELR,
//   unless none of them is live (KIP-966's unclean recovery);
// - an AlterPartition with a stale leader or partition epoch is refused;
// - the image survives its snapshot (through the record encoding) unchanged.
// Each planted ControllerBugs switch makes one of these fail (checked below).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>

#include <optional>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include "controller/controller.h"

namespace samsa::controller {
namespace {

enum Kind {
  k_register, k_heartbeat, k_heartbeat_behind, k_advance, k_expire, k_create, k_delete, k_add_partitions,
  k_alter_shrink, k_alter_expand, k_alter_stale_leader, k_alter_stale_partition, k_toggle_unclean, k_kinds
};
constexpr const char* kKindNames[] = {"register", "heartbeat", "heartbeat-behind", "advance", "expire",
                                      "create", "delete", "add-partitions", "alter-shrink", "alter-expand",
                                      "alter-stale-leader", "alter-stale-partition", "toggle-unclean"};

struct Op {
  int kind = 0;
  int a = 0, b = 0, c = 0;
};

struct ControllerCase {
  std::vector<Op> ops;
};

void showValue(const ControllerCase& c, std::ostream& os) {
  os << "ops=[";
  for (const Op& op : c.ops) os << kKindNames[op.kind] << "(" << op.a << "," << op.b << "," << op.c << ") ";
  os << "]";
}

}  // namespace
}  // namespace samsa::controller

namespace rc {
template <>
struct Arbitrary<samsa::controller::Op> {
  static Gen<samsa::controller::Op> arbitrary() {
    using samsa::controller::Op;
    return gen::build<Op>(gen::set(&Op::kind, gen::inRange(0, static_cast<int>(samsa::controller::k_kinds))),
                          gen::set(&Op::a, gen::inRange(0, 100)), gen::set(&Op::b, gen::inRange(0, 100)),
                          gen::set(&Op::c, gen::inRange(0, 100)));
  }
};
template <>
struct Arbitrary<samsa::controller::ControllerCase> {
  static Gen<samsa::controller::ControllerCase> arbitrary() {
    using samsa::controller::ControllerCase;
    using samsa::controller::Op;
    return gen::build<ControllerCase>(gen::set(&ControllerCase::ops, gen::container<std::vector<Op>>(gen::arbitrary<Op>())));
  }
};
}  // namespace rc

namespace samsa::controller {
namespace {

using kafka::Error;

constexpr int kBrokers = 5;
constexpr int kTopics = 4;

kafka::Uuid uuid(uint64_t n) { return kafka::Uuid::from_random(n, ~n); }
std::string topic_name(int a) { return "t" + std::to_string(a % kTopics); }

// One run: the image, the controller, and the first rule broken.
class Run {
 public:
  explicit Run(ControllerBugs bugs) : image_(ImageLimits{}, bugs), controller_(config(bugs)) {}

  std::optional<std::string> step(const Op& op) {
    const MetadataImage before = image_;
    if (auto v = perform(op)) return v;
    if (auto v = check_partitions()) return v;
    if (auto v = check_changes(before)) return v;
    return check_snapshot();
  }

 private:
  static ControllerConfig config(ControllerBugs bugs) {
    ControllerConfig c;
    c.bugs = bugs;
    return c;
  }

  std::optional<std::string> apply(const ControllerResult& r, const char* what) {
    if (r.error != Error::none && !r.records.empty()) return fmt::format("{}: an error with records", what);
    for (const MetadataRecord& rec : r.records) {
      Status s = image_.apply(rec);
      if (!s.ok()) return fmt::format("{}: record {} refused: {}", what, rec.index(), s.name());
      ++offset_;
    }
    return std::nullopt;
  }

  std::optional<std::string> perform(const Op& op) {
    const int32_t broker = op.a % kBrokers + 1;
    switch (op.kind) {
      case k_register: {
        if (op.b % 3 == 0) ++incarnation_[broker];
        BrokerRegistrationRequest req{broker, uuid(static_cast<uint64_t>(broker * 1000 + incarnation_[broker])), {}, {}};
        return apply(controller_.register_broker(image_, req, offset_, now_), "register");
      }
      case k_heartbeat:
      case k_heartbeat_behind: {
        const BrokerRegistration* b = image_.broker(broker);
        if (b == nullptr) return std::nullopt;
        const int64_t at = op.kind == k_heartbeat ? offset_ : offset_ - 1;
        return apply(controller_.heartbeat(image_, {broker, b->epoch.value, at}, offset_, now_), "heartbeat");
      }
      case k_advance: now_ += (op.a + 1) * 100; return std::nullopt;
      case k_expire:
        for (int i = 0; i <= kBrokers; ++i) {
          ControllerResult r = controller_.expire_sessions(image_, now_);
          if (r.records.empty()) break;
          if (auto v = apply(r, "expire")) return v;
        }
        return std::nullopt;
      case k_create: {
        CreateTopicRequest req{topic_name(op.a), op.b % 4 + 1, static_cast<int16_t>(op.c % 3 + 1), {}};
        PlacementChoice pc{static_cast<uint32_t>(op.a), static_cast<uint32_t>(op.c)};
        return apply(controller_.create_topic(image_, req, uuid(++topic_ids_), pc), "create");
      }
      case k_delete: return apply(controller_.delete_topic(image_, topic_name(op.a)), "delete");
      case k_add_partitions: {
        const TopicImage* t = image_.topic(topic_name(op.a));
        if (t == nullptr) return std::nullopt;
        const auto count = static_cast<int32_t>(t->partitions.size()) + op.b % 3 + 1;
        return apply(controller_.create_partitions(image_, t->name, count, {static_cast<uint32_t>(op.c), 0}), "add");
      }
      case k_toggle_unclean:
        if (image_.topic(topic_name(op.a)) == nullptr) return std::nullopt;
        return apply(controller_.alter_topic_config(image_, topic_name(op.a), kUncleanLeaderElection,
                                                    op.b % 2 ? "true" : "false"),
                     "unclean");
      default: return alter(op);
    }
  }

  // An AlterPartition from the partition's leader: shrink or expand its ISR, with current
  // epochs or with one of them stale.
  std::optional<std::string> alter(const Op& op) {
    const TopicImage* t = image_.topic(topic_name(op.a));
    if (t == nullptr) return std::nullopt;
    const auto index = static_cast<size_t>(op.b) % t->partitions.size();
    const PartitionState& p = t->partitions[index];
    if (p.leader == kNoLeader) return std::nullopt;
    AlterPartitionRequest req{p.leader, image_.broker(p.leader)->epoch, t->id, static_cast<int32_t>(index),
                              p.leader_epoch, p.partition_epoch, {}};
    std::vector<int32_t> isr = p.isr;
    if (op.kind == k_alter_expand) {
      for (int32_t id : p.replicas) {
        if (!contains(isr, id) && image_.is_unfenced(id)) {
          isr.push_back(id);
          break;
        }
      }
    } else if (isr.size() > 1) {
      auto drop = isr.begin() + static_cast<long>(static_cast<size_t>(op.c) % isr.size());
      if (*drop == p.leader) drop = isr.begin() + static_cast<long>((static_cast<size_t>(op.c) + 1) % isr.size());
      isr.erase(drop);
    }
    for (int32_t id : isr) req.new_isr.push_back({id, model::BrokerEpoch{-1}});
    const bool stale = (op.kind == k_alter_stale_leader && p.leader_epoch.value > 0) ||
                       (op.kind == k_alter_stale_partition && p.partition_epoch.value > 0);
    if (op.kind == k_alter_stale_leader && stale) req.leader_epoch = model::LeaderEpoch{req.leader_epoch.value - 1};
    if (op.kind == k_alter_stale_partition && stale) req.partition_epoch = model::PartitionEpoch{req.partition_epoch.value - 1};
    ControllerResult r = controller_.alter_partition(image_, req);
    if (stale && r.error == Error::none) return fmt::format("a stale AlterPartition ({}) was accepted", kKindNames[op.kind]);
    return apply(r, "alter");
  }

  std::optional<std::string> check_partitions() const {
    for (const auto& [name, t] : image_.topics()) {
      for (size_t i = 0; i < t.partitions.size(); ++i) {
        const PartitionState& p = t.partitions[i];
        const std::string where = fmt::format("{}-{}", name, i);
        if (has_duplicates(p.isr) || !is_subset(p.isr, p.replicas)) return where + ": ISR not a set of replicas";
        if (p.leader != kNoLeader && !contains(p.isr, p.leader)) return where + ": leader outside the ISR";
        if (p.leader != kNoLeader && !image_.is_unfenced(p.leader)) return where + ": a fenced broker leads";
        for (int32_t id : p.isr) {
          const bool last_of_leaderless = p.isr.size() == 1 && p.leader == kNoLeader;
          if (!image_.is_unfenced(id) && !last_of_leaderless) return fmt::format("{}: fenced {} in the ISR", where, id);
        }
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> check_changes(const MetadataImage& before) const {
    for (const auto& [name, t] : image_.topics()) {
      const TopicImage* old = before.topic(name);
      if (old == nullptr || !(old->id == t.id)) continue;
      const bool unclean = controller_.unclean_election_enabled(before, name) ||
                           controller_.unclean_election_enabled(image_, name);
      for (size_t i = 0; i < old->partitions.size(); ++i) {
        const PartitionState& a = old->partitions[i];
        const PartitionState& b = t.partitions[i];
        const std::string where = fmt::format("{}-{}", name, i);
        if (b.partition_epoch < a.partition_epoch || b.leader_epoch < a.leader_epoch) return where + ": an epoch went back";
        if (!(a == b) && b.partition_epoch == a.partition_epoch) return where + ": changed without a new partition epoch";
        if (a.leader != b.leader && b.leader_epoch == a.leader_epoch) return where + ": new leader, same leader epoch";
        // KIP-966: a clean leader comes from the ISR or the ELR; only when none of them is live
        // (fenced, or registered again after losing its page cache) may anyone lead.
        const bool eligible = contains(a.isr, b.leader) || contains(a.elr, b.leader);
        bool any_eligible_live = false;
        for (const std::vector<int32_t>* set : {&a.isr, &a.elr}) {
          for (int32_t id : *set) any_eligible_live = any_eligible_live || image_.is_unfenced(id);
        }
        if (a.leader != b.leader && b.leader != kNoLeader && !unclean && !eligible && any_eligible_live) {
          return where + ": clean election from outside the ISR and the ELR";
        }
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> check_snapshot() const {
    std::vector<MetadataRecord> records;
    for (const MetadataRecord& r : image_.snapshot()) {
      Result<MetadataRecord> back = decode_record(encode_record(r));
      if (!back.ok()) return std::string("a snapshot record does not decode");
      records.push_back(std::move(back).value());
    }
    Result<MetadataImage> rebuilt = MetadataImage::from_records(records);
    if (!rebuilt.ok() || !(*rebuilt == image_)) return std::string("the snapshot does not rebuild the image");
    return std::nullopt;
  }

  MetadataImage image_;
  Controller controller_;
  int64_t offset_ = 0;
  int64_t now_ = 0;
  uint64_t topic_ids_ = 0;
  std::map<int32_t, int> incarnation_;
};

std::optional<std::string> run_case(const ControllerCase& c, ControllerBugs bugs) {
  Run run(bugs);
  for (size_t i = 0; i < c.ops.size(); ++i) {
    if (auto v = run.step(c.ops[i])) return fmt::format("step {} ({}): {}", i, kKindNames[c.ops[i].kind], *v);
  }
  return std::nullopt;
}

// Every broker registers and catches up first, so that cases start from a live cluster.
ControllerCase bootstrapped() {
  ControllerCase c;
  for (int32_t b = 0; b < kBrokers; ++b) c.ops.push_back({k_register, b, 1, 0});
  for (int32_t b = 0; b < kBrokers; ++b) c.ops.push_back({k_heartbeat, b, 0, 0});
  return c;
}

RC_GTEST_PROP(ControllerProperties, RulesHoldAfterEveryStep, (const ControllerCase& generated)) {
  ControllerCase c = bootstrapped();
  c.ops.insert(c.ops.end(), generated.ops.begin(), generated.ops.end());
  const std::optional<std::string> violation = run_case(c, {});
  RC_ASSERT_FALSE(violation.has_value());
}

// A deterministic case from a seed.
ControllerCase seeded_case(uint64_t seed, size_t steps) {
  std::mt19937_64 rng(seed);
  ControllerCase c = bootstrapped();
  for (size_t i = 0; i < steps; ++i) {
    Op op{static_cast<int>(rng() % k_kinds), static_cast<int>(rng() % 100), static_cast<int>(rng() % 100),
          static_cast<int>(rng() % 100)};
    c.ops.push_back(op);
  }
  return c;
}

TEST(ControllerProperties, SeededCasesPassWithoutBugs) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const std::optional<std::string> v = run_case(seeded_case(seed, 150), {});
    ASSERT_FALSE(v.has_value()) << "seed " << seed << ": " << *v;
  }
}

TEST(ControllerProperties, EveryPlantedBugIsCaught) {
  for (const char* name : ControllerBugs::kNames) {
    ControllerBugs bugs;
    ASSERT_TRUE(bugs.enable(name));
    std::optional<std::string> caught;
    uint64_t seed = 1;
    for (; seed <= 200 && !caught; ++seed) caught = run_case(seeded_case(seed, 150), bugs);
    ASSERT_TRUE(caught.has_value()) << name << " was not caught in 200 seeds";
    std::cout << name << " caught at seed " << seed - 1 << ": " << *caught << "\n";
  }
}

}  // namespace
}  // namespace samsa::controller
