#include "sim/checkers/raft_checker.h"

#include <fmt/format.h>

#include "log/record_batch.h"

namespace samsa::sim {

namespace {
// FNV-1a of a batch's bytes: enough to tell two batches apart (checkers need no world).
uint64_t batch_hash(ConstBytes data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::byte b : data) h = (h ^ std::to_integer<uint64_t>(b)) * 0x100000001b3ULL;
  return h;
}
}  // namespace

class RaftChecker::NodeObserver final : public raft::RaftObserver {
 public:
  NodeObserver(RaftChecker& checker, int32_t node) : checker_(checker), node_(node) {}
  void on_state(const raft::RaftStateView& state) override { checker_.state(node_, state); }
  void on_append(int64_t base, int64_t last, int32_t epoch, ConstBytes batch) override {
    checker_.append(node_, base, last, epoch, batch);
  }
  void on_truncate(int64_t end) override { checker_.truncate(node_, end); }
  void on_reset(int64_t start) override { checker_.reset(node_, start); }
  void on_log_start(int64_t start) override { checker_.log_start(node_, start); }

 private:
  RaftChecker& checker_;
  int32_t node_;
};

RaftChecker::RaftChecker() = default;
RaftChecker::~RaftChecker() = default;

raft::RaftObserver& RaftChecker::observer(int32_t node) {
  auto& o = observers_[node];
  if (!o) o = std::make_unique<NodeObserver>(*this, node);
  return *o;
}

void RaftChecker::violate(Property& p, std::string what) {
  ++p.violations;
  ++violations_;
  if (p.first.empty()) p.first = std::move(what);
}

void RaftChecker::on_crash(int32_t node) {
  Shadow& s = nodes_[node];
  s.high_watermark = 0;  // per incarnation; the log shadow is replaced when it recovers
  s.role = raft::RaftRole::unattached;
}

void RaftChecker::state(int32_t node, const raft::RaftStateView& view) {
  ++changes_;
  Shadow& s = nodes_[node];
  ++epoch_monotonic_.examined;
  if (view.epoch < s.max_epoch) {
    violate(epoch_monotonic_, fmt::format("node {} went from epoch {} back to {}", node, s.max_epoch, view.epoch));
  }
  s.max_epoch = std::max(s.max_epoch, view.epoch);
  max_epoch_ = std::max(max_epoch_, view.epoch);
  s.epoch = view.epoch;
  if (view.role == raft::RaftRole::leader) {
    std::set<int32_t>& leaders = leaders_[view.epoch];
    leaders.insert(node);
    ++single_leader_.examined;
    if (leaders.size() > 1) {
      violate(single_leader_, fmt::format("epoch {} has leaders {} and {}", view.epoch, *leaders.begin(), *leaders.rbegin()));
    }
    if (s.role != raft::RaftRole::leader) check_complete(node, "on becoming leader");
  }
  s.role = view.role;
  if (view.high_watermark != s.high_watermark) {
    ++hw_monotonic_.examined;
    if (view.high_watermark < s.high_watermark) {
      violate(hw_monotonic_, fmt::format("node {} high watermark went from {} back to {}", node, s.high_watermark, view.high_watermark));
    } else {
      commit_range(node, s.high_watermark, view.high_watermark);
    }
    s.high_watermark = view.high_watermark;
  }
  s.seen = true;
}

void RaftChecker::commit_range(int32_t node, int64_t from, int64_t to) {
  const Shadow& s = nodes_[node];
  for (auto it = s.log.lower_bound(from); it != s.log.end() && it->first < to; ++it) {
    if (it->second.last_offset >= to) break;  // a batch commits whole
    ++agreement_.examined;
    auto [g, inserted] = committed_.emplace(it->first, it->second);
    int32_t& in_epoch = committed_in_epoch_.try_emplace(it->first, s.epoch).first->second;
    in_epoch = std::min(in_epoch, s.epoch);
    if (inserted) {
      committed_batches_ += it->second.control ? 0 : 1;
    } else if (!(g->second == it->second)) {
      violate(agreement_, fmt::format("offset {}: node {} committed epoch {} records {:016x}, but epoch {} records {:016x} was committed before",
                                      it->first, node, it->second.epoch, it->second.records_hash, g->second.epoch, g->second.records_hash));
    }
  }
}

void RaftChecker::check_complete(int32_t node, const char* when) {
  const Shadow& s = nodes_[node];
  for (auto g = committed_.lower_bound(s.log_start); g != committed_.end(); ++g) {
    if (committed_in_epoch_.at(g->first) >= s.epoch) continue;
    ++completeness_.examined;
    auto it = s.log.find(g->first);
    if (it == s.log.end() || !(it->second == g->second)) {
      violate(completeness_, fmt::format("leader {} ({}) in epoch {} lacks committed offset {} (epoch {}){}", node, when, s.epoch, g->first,
                                         g->second.epoch, it == s.log.end() ? "" : fmt::format(": holds epoch {}", it->second.epoch)));
      return;
    }
  }
}

void RaftChecker::append(int32_t node, int64_t base, int64_t last, int32_t epoch, ConstBytes batch) {
  ++changes_;
  Shadow& s = nodes_[node];
  SAMSA_ASSERT_MSG(batch.size() > batch_field::attributes, "raft checker: a batch without a header");
  const BatchHeader h = *parse_batch_header(batch);
  // The records' hash: attributes to the end (offsets, epoch and CRC are tracked apart).
  const Entry e{last, epoch, batch_hash(batch.subspan(batch_field::attributes)), h.is_control()};
  s.log.erase(s.log.lower_bound(base), s.log.end());
  s.log[base] = e;
}

void RaftChecker::truncate(int32_t node, int64_t end) {
  ++changes_;
  Shadow& s = nodes_[node];
  s.log.erase(s.log.lower_bound(end), s.log.end());
  if (s.role == raft::RaftRole::leader) check_complete(node, "after truncating");
}

void RaftChecker::reset(int32_t node, int64_t start) {
  ++changes_;
  Shadow& s = nodes_[node];
  s.log.clear();
  s.log_start = start;
  if (s.role == raft::RaftRole::leader) check_complete(node, "after a reset");
}

void RaftChecker::log_start(int32_t node, int64_t start) {
  ++changes_;
  Shadow& s = nodes_[node];
  s.log.erase(s.log.begin(), s.log.lower_bound(start));
  s.log_start = start;
}

RaftChecker::NodeView RaftChecker::view(int32_t node) const {
  NodeView v;
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return v;
  v.role = it->second.role;
  v.epoch = it->second.epoch;
  v.high_watermark = it->second.high_watermark;
  v.log_end = it->second.log.empty() ? it->second.log_start : it->second.log.rbegin()->second.last_offset + 1;
  return v;
}

void RaftChecker::check_final_leader(int32_t leader) { check_complete(leader, "at the end"); }

std::optional<std::pair<int32_t, int32_t>> RaftChecker::current_leader() const {
  std::optional<std::pair<int32_t, int32_t>> best;
  for (const auto& [id, s] : nodes_) {
    if (s.role == raft::RaftRole::leader && (!best || s.epoch > best->second)) best = {id, s.epoch};
  }
  return best;
}

std::vector<RaftVerdict> RaftChecker::verdicts() const {
  std::vector<RaftVerdict> out;
  auto add = [&](const char* name, const Property& p, std::string what) {
    RaftVerdict v;
    v.name = name;
    v.examined = p.examined;
    if (p.violations > 0) {
      v.status = RaftVerdict::Status::fail;
      v.detail = fmt::format("{} violations; first: {}", p.violations, p.first);
    } else if (p.examined == 0) {
      v.status = RaftVerdict::Status::vacuous;
      v.detail = "examined nothing";
    } else {
      v.status = RaftVerdict::Status::pass;
      v.detail = fmt::format("{} {}", p.examined, what);
    }
    out.push_back(std::move(v));
  };
  add("single-leader", single_leader_, fmt::format("leader observations over {} epochs", leaders_.size()));
  add("epoch-monotonic", epoch_monotonic_, "state changes");
  add("hw-monotonic", hw_monotonic_, "high watermark moves");
  add("committed-agreement", agreement_, fmt::format("committed batches compared ({} distinct offsets)", committed_.size()));
  add("leader-completeness", completeness_, "committed entries looked up in leaders' logs");
  return out;
}

}  // namespace samsa::sim
