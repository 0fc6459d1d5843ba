#include "sim/checkers/controller_checker.h"

#include <fmt/format.h>

#include <algorithm>

namespace samsa::sim {

namespace {

std::string ids(const std::vector<int32_t>& v) {
  std::string out;
  for (int32_t id : v) out += (out.empty() ? "" : ",") + std::to_string(id);
  return "[" + out + "]";
}

bool has(const std::vector<int32_t>& v, int32_t id) { return std::find(v.begin(), v.end(), id) != v.end(); }

// FNV-1a over the image as the checker reads it (not through snapshot(), which the code under
// test writes: a bug there must not hide from the comparison).
struct Fnv {
  uint64_t h = 14695981039346656037ULL;
  void add(uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ULL;
  }
  void add(const std::string& s) {
    add(s.size());
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  }
  void add(const std::vector<int32_t>& v) {
    add(v.size());
    for (int32_t x : v) add(static_cast<uint64_t>(static_cast<uint32_t>(x)));
  }
};

uint64_t image_hash(const controller::MetadataImage& image) {
  Fnv f;
  for (const auto& [id, b] : image.brokers()) {
    f.add(static_cast<uint64_t>(id));
    f.add(static_cast<uint64_t>(b.epoch.value));
    f.add(b.fenced ? 1 : 0);
    for (const auto& e : b.endpoints) f.add(e.host + ":" + std::to_string(e.port));
  }
  for (const auto& [name, t] : image.topics()) {
    f.add(name);
    for (uint8_t byte : t.id.bytes) f.add(byte);
    for (const auto& p : t.partitions) {
      f.add(p.replicas);
      f.add(p.isr);
      f.add(static_cast<uint64_t>(static_cast<uint32_t>(p.leader)));
      f.add(static_cast<uint64_t>(p.leader_epoch.value));
      f.add(static_cast<uint64_t>(p.partition_epoch.value));
    }
    if (const auto* configs = image.configs(controller::kConfigTopic, name)) {
      for (const auto& [k, v] : *configs) f.add(k + "=" + v);
    }
  }
  return f.h;
}

}  // namespace

ControllerChecker::ControllerChecker() {
  agreement_.unit = epoch_grows_.unit = fenced_role_.unit = leader_in_isr_.unit = "partition states";
  agreement_.unit = "images";
}

void ControllerChecker::observe(int32_t node, uint64_t incarnation, int64_t applied_end, const controller::MetadataImage& image) {
  ++observations_;
  auto inc = incarnation_.find(node);
  if (inc == incarnation_.end() || inc->second != incarnation) {
    incarnation_[node] = incarnation;  // a restarted node replays from scratch: a new history
    std::erase_if(last_, [node](const auto& kv) { return std::get<0>(kv.first) == node; });
  }
  for (const auto& [name, t] : image.topics()) {
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      check_partition(node, image, name, static_cast<int32_t>(i), t.partitions[i]);
      last_[{node, controller::UuidKey(t.id.bytes), static_cast<int32_t>(i)}] = t.partitions[i];
    }
  }
  const uint64_t h = image_hash(image);
  ++agreement_.examined;
  auto [it, fresh] = image_hash_at_.emplace(applied_end, h);
  if (!fresh && it->second != h) {
    agreement_.fail(fmt::format("node {} at applied offset {} holds an image unlike another node's at that offset", node, applied_end));
  }
  if (image_hash_at_.size() > kImageHashesMax) image_hash_at_.erase(image_hash_at_.begin());
}

void ControllerChecker::refused(int32_t node, uint64_t count) {
  if (count > 0) agreement_.fail(fmt::format("node {}'s image refused {} committed metadata records", node, count));
}

void ControllerChecker::check_partition(int32_t node, const controller::MetadataImage& image, const std::string& topic,
                                        int32_t index, const controller::PartitionState& p) {
  const std::string where = fmt::format("node {}'s image: {}-{} replicas {} isr {} leader {}", node, topic, index,
                                        ids(p.replicas), ids(p.isr), p.leader);
  ++fenced_role_.examined;
  if (p.leader != controller::kNoLeader && !image.is_unfenced(p.leader)) {
    fenced_role_.fail(where + ": the leader is fenced");
  }
  for (int32_t r : p.isr) {
    const bool last_member = p.isr.size() == 1 && p.leader == controller::kNoLeader;
    if (!image.is_unfenced(r) && !last_member) fenced_role_.fail(fmt::format("{}: fenced broker {} in the ISR", where, r));
  }
  ++leader_in_isr_.examined;
  if (p.leader != controller::kNoLeader && !has(p.isr, p.leader)) leader_in_isr_.fail(where + ": the leader is not in the ISR");
  for (int32_t r : p.isr) {
    if (!has(p.replicas, r)) leader_in_isr_.fail(fmt::format("{}: ISR member {} is not a replica", where, r));
  }
  const controller::TopicImage* t = image.topic(topic);
  auto it = last_.find({node, controller::UuidKey(t->id.bytes), index});
  if (it == last_.end()) return;
  const controller::PartitionState& before = it->second;
  ++epoch_grows_.examined;
  const bool changed = before.replicas != p.replicas || before.isr != p.isr || before.leader != p.leader;
  if (p.partition_epoch < before.partition_epoch || (changed && p.partition_epoch == before.partition_epoch)) {
    epoch_grows_.fail(fmt::format("{}: partition epoch {} after {} (was isr {} leader {})", where, p.partition_epoch,
                                  before.partition_epoch, ids(before.isr), before.leader));
  }
  if (p.leader_epoch < before.leader_epoch || (before.leader != p.leader && p.leader_epoch == before.leader_epoch)) {
    epoch_grows_.fail(fmt::format("{}: leader epoch {} after {} (leader was {})", where, p.leader_epoch, before.leader_epoch,
                                  before.leader));
  }
}

}  // namespace samsa::sim
