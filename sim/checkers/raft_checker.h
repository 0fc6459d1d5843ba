// RaftChecker: the metadata quorum's safety properties, checked as the simulation runs. Each
// node's RaftClient reports every state and log change through a RaftObserver (synchronously,
// inside the simulator step that made it), and the checker keeps a shadow of every node's log
// (offset -> epoch and a hash of the batch's records), so each property is checked at the step
// where it could first break, at the cost of the change itself:
// - single-leader: at most one leader per epoch, ever;
// - epoch-monotonic: a node's epoch never goes backwards, across its restarts too;
// - hw-monotonic: a node's high watermark never goes backwards within an incarnation;
// - committed-agreement: every entry below any node's high watermark is the same (epoch and
//   records) as what any node ever committed at that offset: nothing committed changes or is lost
//   and replaced;
// - leader-completeness: a node that becomes leader of epoch E holds every entry committed in an
//   epoch before E (Raft's Leader Completeness: a stale leader of an older epoch, elected late
//   by old votes, need not, and can commit nothing), and keeps them while it leads.
// Each verdict counts what it examined; a property that examined nothing says so.
//
// Threading: the simulator's thread (called from fibers that must not suspend in it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raft/raft_client.h"

namespace samsa::sim {

struct RaftVerdict {
  enum class Status { pass, fail, vacuous } status = Status::vacuous;
  std::string name;
  uint64_t examined = 0;
  std::string detail;  // the first violation, or what was examined
};

class RaftChecker {
 public:
  struct Entry {
    int64_t last_offset = 0;
    int32_t epoch = 0;
    uint64_t records_hash = 0;
    bool control = false;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  RaftChecker();
  ~RaftChecker();
  RaftChecker(const RaftChecker&) = delete;
  RaftChecker& operator=(const RaftChecker&) = delete;

  // An observer for one node (raft node id); lives as long as the checker.
  raft::RaftObserver& observer(int32_t node);
  // The scenario crashed the node: its next incarnation's high watermark starts afresh.
  void on_crash(int32_t node);

  const std::map<int64_t, Entry>& committed() const { return committed_; }
  // Non-control entries committed so far (the client's records), and their record count.
  uint64_t committed_batches() const { return committed_batches_; }
  // The live node that leads the highest epoch, and that epoch (crashed nodes lead nothing).
  std::optional<std::pair<int32_t, int32_t>> current_leader() const;
  int32_t max_epoch() const { return max_epoch_; }
  // What the checker last saw of a node (for schedules that react to the cluster's state).
  struct NodeView {
    raft::RaftRole role = raft::RaftRole::unattached;
    int32_t epoch = 0;
    int64_t high_watermark = 0;
    int64_t log_end = 0;
  };
  NodeView view(int32_t node) const;
  // Steps in which some node's state changed (what "checked after every step" cost).
  uint64_t changes() const { return changes_; }
  bool ok() const { return violations_ == 0; }
  std::vector<RaftVerdict> verdicts() const;
  // Called at the end: every entry committed is in the log of `leader` (final completeness).
  void check_final_leader(int32_t leader);

 private:
  class NodeObserver;
  struct Shadow {
    std::map<int64_t, Entry> log;  // by base offset
    int64_t log_start = 0;
    int64_t high_watermark = 0;
    int32_t epoch = 0;
    int32_t max_epoch = 0;
    raft::RaftRole role = raft::RaftRole::unattached;
    bool seen = false;
  };
  struct Property {
    uint64_t examined = 0;
    uint64_t violations = 0;
    std::string first;
  };

  void state(int32_t node, const raft::RaftStateView& view);
  void append(int32_t node, int64_t base, int64_t last, int32_t epoch, ConstBytes batch);
  void truncate(int32_t node, int64_t end);
  void reset(int32_t node, int64_t start);
  void log_start(int32_t node, int64_t start);
  void commit_range(int32_t node, int64_t from, int64_t to);
  void check_complete(int32_t node, const char* when);
  void violate(Property& p, std::string what);

  std::map<int32_t, std::unique_ptr<NodeObserver>> observers_;
  std::map<int32_t, Shadow> nodes_;
  std::map<int64_t, Entry> committed_;  // by base offset
  std::map<int64_t, int32_t> committed_in_epoch_;  // base offset -> lowest epoch a node committed it in
  std::map<int32_t, std::set<int32_t>> leaders_;  // epoch -> nodes that led it
  uint64_t committed_batches_ = 0;
  int32_t max_epoch_ = 0;
  uint64_t changes_ = 0;
  uint64_t violations_ = 0;
  Property single_leader_, epoch_monotonic_, hw_monotonic_, agreement_, completeness_;
};

}  // namespace samsa::sim
