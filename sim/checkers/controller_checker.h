// ControllerChecker: the KRaft controller's rules, checked on the metadata images that the nodes
// of a simulated cluster actually applied from the replicated metadata log (not on the pure
// Controller, which properties/controller_properties.cc covers). The scenario shows it every
// node's image whenever that node's applied offset moved:
// - fenced-broker-role: a fenced broker leads nothing and is in no ISR, except as the last
//   member of a leaderless partition's ISR (Kafka keeps it there so the partition can come back
//   cleanly);
// - leader-in-isr: a leader is in its ISR and the ISR is a subset of the replicas (no unclean
//   election in this scenario);
// - partition-epoch-grows: within one incarnation of a node, a partition whose replicas, ISR or
//   leader changed has a higher partition epoch, and a new leader a higher leader epoch;
// - image-agreement: two nodes that applied the log to the same offset hold equal images
//   (compared by a hash the checker computes from what the image holds), and no image refuses
//   a committed record.
//
// Threading: the simulator's thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "controller/metadata_image.h"
#include "sim/checkers/verdict.h"

namespace samsa::sim {

class ControllerChecker {
 public:
  ControllerChecker();

  // Node `node` (incarnation `incarnation`) has applied the log up to `applied_end`.
  void observe(int32_t node, uint64_t incarnation, int64_t applied_end, const controller::MetadataImage& image);
  // The node's image refused `count` committed records so far (a corrupt log, or records the
  // controller wrote against a stale image): an image-agreement failure.
  void refused(int32_t node, uint64_t count);

  CheckResult fenced_role() const { return fenced_role_; }
  CheckResult leader_in_isr() const { return leader_in_isr_; }
  CheckResult epoch_grows() const { return epoch_grows_; }
  CheckResult agreement() const { return agreement_; }
  uint64_t observations() const { return observations_; }

 private:
  using PartitionKey = std::tuple<int32_t, controller::UuidKey, int32_t>;  // node, topic id, partition
  void check_partition(int32_t node, const controller::MetadataImage& image, const std::string& topic, int32_t index,
                       const controller::PartitionState& p);

  CheckResult fenced_role_{"fenced-broker-role"};
  CheckResult leader_in_isr_{"leader-in-isr"};
  CheckResult epoch_grows_{"partition-epoch-grows"};
  CheckResult agreement_{"image-agreement"};
  std::map<int32_t, uint64_t> incarnation_;  // node -> incarnation whose history is kept
  std::map<PartitionKey, controller::PartitionState> last_;
  std::map<int64_t, uint64_t> image_hash_at_;  // applied end -> hash of the image there
  static constexpr size_t kImageHashesMax = 100'000;
  uint64_t observations_ = 0;
};

}  // namespace samsa::sim
