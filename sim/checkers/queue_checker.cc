#include "sim/checkers/queue_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string_view>

#include "runtime/assert.h"

namespace samsa::sim {

namespace {

using Pos = std::pair<int32_t, int64_t>;

// Sorted vectors, not maps: a run reads hundreds of thousands of records and the index is built
// once and then only looked up. Values are views into the history, which outlives the index.
struct Read {
  Pos pos;
  Instant at;
  std::string_view value;
};
struct ValueAt {
  std::string_view value;
  Pos pos;
  auto operator<=>(const ValueAt&) const = default;
};
struct Acked {
  Pos pos;
  std::string_view value;
  Instant at;
};

// Everything the checks look up, built once from the history.
struct Index {
  std::vector<std::pair<std::string_view, size_t>> send_of;  // value -> index of its (last) send, by value
  std::vector<Acked> acked;                                  // by offset, the first acknowledgement of each
  std::vector<Read> seen_at;                                 // every read, by offset (in read order within one)
  std::vector<ValueAt> seen_value;                           // where each value was read, by value, no repeats
  std::map<int32_t, int64_t> max_read;                       // per partition, over every read
  std::vector<Pos> existing;                                 // offsets acknowledged or finally read, sorted
  std::vector<std::pair<Pos, std::string_view>> final_value; // what the final read returned where, by offset

  // The positions `value` was read at, in order.
  std::span<const ValueAt> where(std::string_view value) const {
    auto lo = std::lower_bound(seen_value.begin(), seen_value.end(), value,
                               [](const ValueAt& a, std::string_view v) { return a.value < v; });
    auto hi = std::upper_bound(lo, seen_value.end(), value, [](std::string_view v, const ValueAt& a) { return v < a.value; });
    return {lo, hi};
  }
  bool was_read(std::string_view value) const { return !where(value).empty(); }
  const Acked* acked_at(Pos pos) const {
    auto it = std::lower_bound(acked.begin(), acked.end(), pos, [](const Acked& a, const Pos& p) { return a.pos < p; });
    return it != acked.end() && it->pos == pos ? &*it : nullptr;
  }
  const std::string_view* final_at(Pos pos) const {
    auto it = std::lower_bound(final_value.begin(), final_value.end(), pos, [](const auto& a, const Pos& p) { return a.first < p; });
    return it != final_value.end() && it->first == pos ? &it->second : nullptr;
  }
};

bool contains(std::span<const ValueAt> where, Pos pos) {
  return std::any_of(where.begin(), where.end(), [&](const ValueAt& v) { return v.pos == pos; });
}

// Sorts by key, keeping of each key's elements only the first (or last) one in input order.
template <typename T, typename Key>
void sort_unique_by(std::vector<T>& v, Key key, bool keep_last) {
  if (keep_last) std::reverse(v.begin(), v.end());
  std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  v.erase(std::unique(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) == key(b); }), v.end());
}

void note_read(Index& ix, const Observation& o, Instant at) {
  const Pos pos{o.partition, o.offset};
  ix.seen_at.push_back(Read{pos, at, o.value});
  ix.seen_value.push_back(ValueAt{o.value, pos});
  auto [it, fresh] = ix.max_read.try_emplace(o.partition, o.offset);
  if (!fresh) it->second = std::max(it->second, o.offset);
}

Index build_index(const QueueHistory& h) {
  Index ix;
  for (size_t i = 0; i < h.sends.size(); ++i) {
    const SendRecord& s = h.sends[i];
    for (size_t k = 0; k < s.values.size(); ++k) {
      ix.send_of.emplace_back(s.values[k], i);
      if (s.outcome != SendRecord::Outcome::ok) continue;
      const Pos pos{s.partition, s.offsets[k]};
      ix.acked.push_back(Acked{pos, s.values[k], s.invoked});
      ix.existing.push_back(pos);
    }
  }
  for (const PollRecord& p : h.polls) {
    for (const Observation& o : p.records) note_read(ix, o, p.invoked);
  }
  for (const Observation& o : h.final_read) {
    note_read(ix, o, Instant::max());
    ix.existing.push_back({o.partition, o.offset});
    ix.final_value.emplace_back(Pos{o.partition, o.offset}, o.value);
  }
  sort_unique_by(ix.send_of, [](const auto& e) { return e.first; }, true);
  sort_unique_by(ix.acked, [](const Acked& a) { return a.pos; }, false);
  std::stable_sort(ix.seen_at.begin(), ix.seen_at.end(), [](const Read& a, const Read& b) { return a.pos < b.pos; });
  std::sort(ix.seen_value.begin(), ix.seen_value.end());
  ix.seen_value.erase(std::unique(ix.seen_value.begin(), ix.seen_value.end()), ix.seen_value.end());
  std::sort(ix.existing.begin(), ix.existing.end());
  ix.existing.erase(std::unique(ix.existing.begin(), ix.existing.end()), ix.existing.end());
  sort_unique_by(ix.final_value, [](const auto& e) { return e.first; }, false);
  return ix;
}

// The fault that may have lost or replaced (partition, offset) as observed at `observed`.
const RiskWindow* risk_for(const QueueHistory& h, int32_t partition, int64_t offset, Instant observed,
                           bool skip_epoch_changes = false) {
  for (const RiskWindow& w : h.risks) {
    if (skip_epoch_changes && w.new_leader_epoch) continue;
    if (w.partition == partition && offset >= w.from_offset && offset <= w.to_offset && observed <= w.at) return &w;
  }
  return nullptr;
}

// A window that puts any offset of [lo, hi] of the partition at risk.
const RiskWindow* risk_for_range(const QueueHistory& h, int32_t partition, int64_t lo, int64_t hi, Instant observed,
                                 bool skip_epoch_changes) {
  for (const RiskWindow& w : h.risks) {
    if (skip_epoch_changes && w.new_leader_epoch) continue;
    if (w.partition == partition && w.from_offset <= hi && lo <= w.to_offset && observed <= w.at) return &w;
  }
  return nullptr;
}

void check_lost_and_unseen(const QueueHistory& h, const Index& ix, CheckResult& lost, CheckResult& unseen) {
  auto read = ix.seen_at.begin();  // both by offset: most values were read where they were acknowledged
  for (const Acked& acked : ix.acked) {
    const Pos& pos = acked.pos;
    ++lost.examined;
    ++unseen.examined;
    while (read != ix.seen_at.end() && read->pos < pos) ++read;
    bool read_here = false;
    for (auto r = read; r != ix.seen_at.end() && r->pos == pos && !read_here; ++r) read_here = r->value == acked.value;
    if (read_here || ix.was_read(acked.value)) continue;
    auto max = ix.max_read.find(pos.first);
    CheckResult& c = max != ix.max_read.end() && max->second > pos.second ? lost : unseen;
    if (const RiskWindow* w = risk_for(h, pos.first, pos.second, acked.at)) {
      c.excuse(w->fault);
    } else {
      c.fail(fmt::format("'{}' acknowledged at {}-{} (sent at {:.3f} s) was never read", acked.value, pos.first,
                         pos.second, acked.at.ns / 1e9),
             acked.at);
    }
  }
}

void check_inconsistent_offsets(const QueueHistory& h, const Index& ix, CheckResult& c) {
  std::vector<Pos> offsets;  // existing and seen_at are both by offset: a merge, not a sort
  offsets.reserve(ix.existing.size() + ix.seen_at.size());
  auto seen = ix.seen_at.begin();
  for (const Pos& e : ix.existing) {
    for (; seen != ix.seen_at.end() && seen->pos < e; ++seen) offsets.push_back(seen->pos);
    offsets.push_back(e);
  }
  for (; seen != ix.seen_at.end(); ++seen) offsets.push_back(seen->pos);
  offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
  SAMSA_ASSERT(std::is_sorted(offsets.begin(), offsets.end()));
  auto read = ix.seen_at.begin();
  std::vector<std::string_view> values;
  for (const Pos& pos : offsets) {
    ++c.examined;
    values.clear();
    Instant first = Instant::max();
    if (const Acked* a = ix.acked_at(pos)) {
      values.push_back(a->value);
      first = a->at;
    }
    while (read != ix.seen_at.end() && read->pos < pos) ++read;
    for (; read != ix.seen_at.end() && read->pos == pos; ++read) {
      values.push_back(read->value);
      first = std::min(first, read->at);
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    if (values.size() <= 1) continue;
    if (const RiskWindow* w = risk_for(h, pos.first, pos.second, first)) {
      c.excuse(w->fault);
    } else {
      c.fail(fmt::format("{}-{} holds '{}' and '{}' (first seen at {:.3f} s)", pos.first, pos.second, values.front(),
                         values.back(), first.ns / 1e9),
             first);
    }
  }
}

void check_duplicates(const QueueHistory& h, const Index& ix, CheckResult& c) {
  for (auto it = ix.seen_value.begin(); it != ix.seen_value.end();) {
    const std::string_view value = it->value;
    auto end = std::find_if(it, ix.seen_value.end(), [&](const ValueAt& v) { return v.value != value; });
    const std::span<const ValueAt> where{it, end};
    it = end;
    ++c.examined;
    if (where.size() <= 1) continue;
    auto s = std::lower_bound(ix.send_of.begin(), ix.send_of.end(), value, [](const auto& e, std::string_view v) { return e.first < v; });
    if (s != ix.send_of.end() && s->first == value && h.sends[s->second].retried_after_ambiguous) {
      c.excuse("sent again after an ambiguous failure");
    } else {
      c.fail(fmt::format("'{}' at {}-{} and {}-{}", value, where.front().pos.first, where.front().pos.second,
                         where.back().pos.first, where.back().pos.second));
    }
  }
}

void check_aborted_reads(const QueueHistory& h, const Index& ix, CheckResult& c) {
  for (const SendRecord& s : h.sends) {
    if (s.outcome != SendRecord::Outcome::failed) continue;
    ++c.examined;
    for (const std::string& v : s.values) {
      const std::span<const ValueAt> where = ix.where(v);
      if (where.empty()) continue;
      c.fail(fmt::format("'{}' from a send that failed is at {}-{}", v, where.front().pos.first, where.front().pos.second),
             s.invoked);
      break;
    }
  }
}

// An atomic send's values must be found together somewhere: at o, o+1, ... for some o. (A
// send retried after an ambiguous failure may also leave fragments of an earlier attempt that a
// power loss cut short; those are not a skip as long as one whole copy is adjacent.)
void check_int_send_skip(const QueueHistory& h, const Index& ix, CheckResult& c) {
  for (const SendRecord& s : h.sends) {
    if (s.outcome != SendRecord::Outcome::ok || !s.atomic || s.values.size() < 2) continue;
    bool all_read = true;
    for (const std::string& v : s.values) all_read = all_read && ix.was_read(v);
    if (!all_read) continue;  // lost records are another check's business
    ++c.examined;
    bool adjacent = false;
    for (const ValueAt& start : ix.where(s.values[0])) {
      bool run = true;
      for (size_t i = 1; i < s.values.size() && run; ++i) {
        run = contains(ix.where(s.values[i]), {start.pos.first, start.pos.second + static_cast<int64_t>(i)});
      }
      adjacent = adjacent || run;
    }
    if (!adjacent) {
      const Pos first = ix.where(s.values[0]).front().pos;
      const Pos last = ix.where(s.values.back()).front().pos;
      c.fail(fmt::format("producer {}: '{}' at {}-{} but '{}' at {}-{}", s.producer, s.values[0], first.first, first.second,
                         s.values.back(), last.first, last.second),
             s.invoked);
    }
  }
}

void check_send_order(const QueueHistory& h, CheckResult& c) {
  std::map<std::pair<int, int32_t>, const SendRecord*> last;  // (producer, partition) -> previous ok send
  for (const SendRecord& s : h.sends) {
    if (s.outcome != SendRecord::Outcome::ok) continue;
    const SendRecord*& prev = last[{s.producer, s.partition}];
    if (prev != nullptr) {
      ++c.examined;
      if (s.offsets.front() <= prev->offsets.back()) {
        // Explained when either acknowledgement was at risk: the later one's offset reused, or
        // the earlier one's record since replaced (so the log went back below it).
        const RiskWindow* w = risk_for(h, s.partition, s.offsets.front(), prev->invoked);
        if (w == nullptr) w = risk_for(h, s.partition, prev->offsets.back(), prev->invoked);
        if (w != nullptr) {
          c.excuse(w->fault);
        } else {
          c.fail(fmt::format("producer {}: offset {} after {} on partition {}", s.producer, s.offsets.front(),
                             prev->offsets.back(), s.partition),
                 s.invoked);
        }
      }
    }
    prev = &s;
  }
}

// Offsets known to exist strictly between a and b (exclusive) in a partition.
bool exists_between(const Index& ix, int32_t partition, int64_t a, int64_t b) {
  auto it = std::upper_bound(ix.existing.begin(), ix.existing.end(), Pos{partition, a});
  return it != ix.existing.end() && it->first == partition && it->second < b;
}

bool final_between(const Index& ix, int32_t partition, int64_t a, int64_t b) {
  auto it = std::upper_bound(ix.final_value.begin(), ix.final_value.end(), Pos{partition, a},
                             [](const Pos& p, const auto& e) { return p < e.first; });
  return it != ix.final_value.end() && it->first.first == partition && it->first.second < b;
}

bool in_final_log_at(const Index& ix, const Observation& o) {
  const std::string_view* f = ix.final_at({o.partition, o.offset});
  return f != nullptr && *f == o.value;
}

void check_poll_order(const QueueHistory& h, const Index& ix, CheckResult& skip, CheckResult& backwards) {
  std::map<std::pair<int, int32_t>, std::pair<int64_t, Instant>> last;  // (consumer, partition) -> read
  // The consumer's last read that the final log agrees with: reads of replaced records since
  // then stand for nothing, so what the final log holds after it must be read too (a consumer
  // reading on past a truncation without noticing skips it: KIP-320's case).
  std::map<std::pair<int, int32_t>, int64_t> last_final;
  for (const PollRecord& p : h.polls) {
    if (!p.ordered) continue;
    for (const auto& [partition, why] : p.moved) {
      last.erase({p.consumer, partition});
      last_final.erase({p.consumer, partition});
    }
    for (const Observation& o : p.records) {
      auto it = last.find({p.consumer, o.partition});
      const bool agrees = in_final_log_at(ix, o);
      if (it != last.end()) {
        const auto [prev, prev_at] = it->second;
        ++skip.examined;
        ++backwards.examined;
        const bool back = o.offset <= prev;
        auto lf = last_final.find({p.consumer, o.partition});
        const int64_t from = agrees && lf != last_final.end() && lf->second < prev ? lf->second : prev;
        const bool skipped = !back && (exists_between(ix, o.partition, prev, o.offset) ||
                                       (from < prev && final_between(ix, o.partition, from, o.offset)));
        if (back || skipped) {
          CheckResult& c = back ? backwards : skip;
          // A truncation that came with a new leader epoch excuses no skip or step back: the
          // consumer must notice it (KIP-320: fenced fetches, OffsetForLeaderEpoch) and move.
          // A step back: the records from o.offset on were replaced. A skip: those between were
          // lost (a damaged segment may begin in the middle of the skipped range).
          const RiskWindow* w = back ? risk_for(h, o.partition, o.offset, prev_at, true)
                                     : risk_for_range(h, o.partition, from + 1, o.offset - 1, prev_at, true);
          if (w != nullptr) {
            c.excuse(w->fault);
          } else {
            c.fail(from < prev ? fmt::format("consumer {}: read {}-{} after {}-{}, never reading what the final log holds after "
                                             "{}-{} (its reads since were of records later replaced)",
                                             p.consumer, o.partition, o.offset, o.partition, prev, o.partition, from)
                               : fmt::format("consumer {}: read {}-{} after {}-{}", p.consumer, o.partition, o.offset, o.partition, prev),
                   p.invoked);
          }
        }
      }
      last[{p.consumer, o.partition}] = {o.offset, p.invoked};
      if (agrees) last_final[{p.consumer, o.partition}] = o.offset;
    }
  }
}

void check_corrupt_reads(const QueueHistory& h, CheckResult& c) {
  // Only damage to synced data explains a batch that fails its CRC: recovery must cut torn
  // writes, so a power loss never does.
  auto dropped = [&](int32_t partition, int64_t offset, Instant read_at) -> const RiskWindow* {
    for (const RiskWindow& w : h.risks) {
      if (w.dropped_pages && w.partition == partition && offset >= w.from_offset && read_at >= w.at) return &w;
    }
    return nullptr;
  };
  auto judge = [&](int32_t partition, int64_t offset, Instant read_at) {
    if (const RiskWindow* w = risk_for(h, partition, offset, Instant::max())) {
      c.excuse(w->fault);
    } else if (const RiskWindow* d = dropped(partition, offset, read_at)) {
      c.excuse("pages dropped by " + d->fault);
    } else {
      c.fail(fmt::format("a batch at {}-{} failed its CRC at the client", partition, offset));
    }
  };
  for (const PollRecord& p : h.polls) {
    c.examined += p.records.size() + p.corrupt.size();
    for (const auto& [partition, offset] : p.corrupt) judge(partition, offset, p.at);
  }
  c.examined += h.final_read.size() + h.final_corrupt.size();
  for (const auto& [partition, offset] : h.final_corrupt) judge(partition, offset, Instant::max());
}

// A partition a destructive fault made unavailable for good (a window that never closes).
const RiskWindow* lost_partition(const QueueHistory& h, int32_t partition) {
  for (const RiskWindow& w : h.risks) {
    if (w.partition == partition && w.from_offset == 0 && w.at == Instant::max()) return &w;
  }
  return nullptr;
}

void check_producer_liveness(const QueueHistory& h, CheckResult& c) {
  for (int producer : h.producers) {
    for (Instant w = h.live_from; w + h.live_window <= h.live_until; w = w + h.live_window) {
      ++c.examined;
      uint64_t acked = 0;
      const RiskWindow* excuse = nullptr;
      bool overlapping = false, all_lost = true;
      for (const SendRecord& s : h.sends) {
        if (s.producer != producer) continue;
        acked += s.outcome == SendRecord::Outcome::ok && s.completed >= w && s.completed < w + h.live_window;
        const bool overlaps = s.invoked < w + h.live_window && (s.completed >= w || s.completed == Instant{});
        if (!overlaps) continue;
        overlapping = true;
        const RiskWindow* lost = lost_partition(h, s.partition);
        all_lost = all_lost && lost != nullptr;
        if (lost != nullptr) excuse = lost;
      }
      if (acked > 0) continue;
      if (overlapping && all_lost) {
        c.excuse(excuse->fault);
        continue;
      }
      c.fail(fmt::format("producer {} got no acknowledgement in [{:.1f} s, {:.1f} s)", producer, w.ns / 1e9,
                         (w + h.live_window).ns / 1e9),
             w);
      break;
    }
  }
}

// The first live window in which `consumer`, still short of `last` on `partition`, read nothing
// new of it; nullopt if it read on in every one (it may still end short: a consumer reading
// slower than 16 producers write, one segment per partition per Fetch, is slow, not stuck).
std::optional<std::pair<Instant, int64_t>> stalled_window(const QueueHistory& h, int consumer, int32_t partition,
                                                          int64_t last) {
  std::vector<std::pair<Instant, int64_t>> reads;  // (when, offset) of its reads of the partition
  for (const PollRecord& p : h.polls) {
    if (p.consumer != consumer) continue;
    for (const Observation& o : p.records) {
      if (o.partition == partition) reads.emplace_back(p.at, o.offset);
    }
  }
  std::sort(reads.begin(), reads.end());
  int64_t reached = -1;
  auto read = reads.begin();
  for (Instant w = h.live_from; w + h.live_window <= h.live_until; w = w + h.live_window) {
    for (; read != reads.end() && read->first < w; ++read) reached = std::max(reached, read->second);
    const int64_t at_start = reached;
    for (; read != reads.end() && read->first < w + h.live_window; ++read) reached = std::max(reached, read->second);
    if (at_start < last && reached <= at_start) return std::make_pair(w, at_start);
  }
  return std::nullopt;
}

// After the heal each consumer reaches what was acknowledged before it, or at least reads on:
// a partition it is short of and read nothing of for a whole live window is stuck.
void check_consumer_liveness(const QueueHistory& h, CheckResult& c) {
  std::map<int32_t, int64_t> target;  // last offset acknowledged before the heal
  for (const SendRecord& s : h.sends) {
    if (s.outcome != SendRecord::Outcome::ok || s.completed > h.healed) continue;
    target[s.partition] = std::max(target[s.partition], s.offsets.back());
  }
  for (int consumer : h.ordered_consumers) {
    std::map<int32_t, int64_t> reached;
    for (const PollRecord& p : h.polls) {
      if (p.consumer != consumer || p.at > h.live_until) continue;
      for (const Observation& o : p.records) reached[o.partition] = std::max(reached[o.partition], o.offset);
    }
    for (const auto& [partition, last] : target) {
      ++c.examined;
      auto r = reached.find(partition);
      const int64_t got = r == reached.end() ? -1 : r->second;
      if (got >= last) continue;
      const std::optional<std::pair<Instant, int64_t>> stalled = stalled_window(h, consumer, partition, last);
      if (!stalled) continue;
      if (const RiskWindow* w = risk_for(h, partition, got + 1, Instant{0})) {
        c.excuse(w->fault);
      } else {
        c.fail(fmt::format("consumer {} read nothing of partition {} in [{:.1f} s, {:.1f} s) at {}-{}, short of {}-{} "
                           "acknowledged before the heal (reached {}-{})",
                           consumer, partition, stalled->first.ns / 1e9, (stalled->first + h.live_window).ns / 1e9, partition,
                           stalled->second, partition, last, partition, got),
               stalled->first);
      }
    }
  }
}

}  // namespace

std::vector<CheckResult> check_queue(const QueueHistory& h) {
  const Index ix = build_index(h);
  CheckResult lost{"lost-write"}, unseen{"unseen"}, inconsistent{"inconsistent-offsets"}, dup{"duplicate"};
  CheckResult g1a{"G1a"}, int_skip{"int-send-skip"}, send_order{"nonmonotonic-send"};
  CheckResult skip{"poll-skip"}, backwards{"nonmonotonic-poll"};
  CheckResult live_p{"producer-liveness"}, live_c{"consumer-liveness"}, final_read{"final-read"};
  CheckResult corrupt{"corrupt-read"};
  corrupt.unit = "records read";
  lost.unit = unseen.unit = "acknowledged records";
  inconsistent.unit = "offsets";
  dup.unit = "values read";
  g1a.unit = "failed sends";
  g1a.expect_examined = false;  // a run without definite failures has nothing to look at
  int_skip.unit = "many-record sends";
  int_skip.expect_examined = false;
  skip.unit = backwards.unit = "successive reads";
  live_p.unit = "producer-windows";
  live_c.unit = "consumer-partitions";
  final_read.unit = "partitions";
  check_lost_and_unseen(h, ix, lost, unseen);
  check_inconsistent_offsets(h, ix, inconsistent);
  check_duplicates(h, ix, dup);
  check_aborted_reads(h, ix, g1a);
  check_int_send_skip(h, ix, int_skip);
  check_send_order(h, send_order);
  check_poll_order(h, ix, skip, backwards);
  check_corrupt_reads(h, corrupt);
  check_producer_liveness(h, live_p);
  check_consumer_liveness(h, live_c);
  final_read.examined = static_cast<uint64_t>(h.partitions);
  for (int32_t p : h.final_incomplete) {
    if (const RiskWindow* w = risk_for(h, p, std::numeric_limits<int64_t>::max(), Instant::max())) {
      final_read.excuse(w->fault);
    } else {
      final_read.fail(fmt::format("the final read could not read partition {} to its end", p));
    }
  }
  return {lost, unseen, inconsistent, dup, g1a, int_skip, send_order, skip, backwards, corrupt, live_p, live_c, final_read};
}

}  // namespace samsa::sim
