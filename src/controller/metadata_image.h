// MetadataImage: what the cluster's metadata log says, as a value. It is built only by applying
// KRaft metadata records (src/protocol/schema/metadata_records.def) in log order, and it can be
// written back out as the list of records that rebuilds it (a snapshot).
//
// Contract:
// - apply(record) either changes the image exactly as Kafka replays that record or refuses it
//   with a Status and leaves the image untouched. A record that does not fit the image (applied
//   twice, out of order, naming an unknown broker, topic or partition, a stale broker epoch, an
//   ISR outside the replicas, a collection past its limit) is refused: input never crashes it.
// - A PartitionChangeRecord bumps the partition epoch; one that names a leader (anything but
//   -2) also bumps the leader epoch. Epochs are never carried by change records.
// - Fencing state, epochs and the partition table live here; session deadlines do not (they are
//   the active controller's, see controller.h).
// - snapshot() lists records that rebuild an equal image through from_records().
// - encode_record/decode_record give Kafka's framing of a metadata record value: unsigned
//   varints frame version (1), record type, record version, then the record's flexible body.
//
// Plain value: copy freely; not thread-safe (one owner).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "controller/controller_config.h"
#include "model/ids.h"
#include "protocol/messages.h"
#include "runtime/status.h"

namespace samsa::controller {

// The records the image understands. The controller writes BrokerRegistrationChangeRecord for
// (un)fencing; Fence/UnfenceBrokerRecord (older metadata versions) are replayed too.
using MetadataRecord =
    std::variant<kafka::RegisterBrokerRecord, kafka::BrokerRegistrationChangeRecord, kafka::FenceBrokerRecord,
                 kafka::UnfenceBrokerRecord, kafka::TopicRecord, kafka::PartitionRecord,
                 kafka::PartitionChangeRecord, kafka::RemoveTopicRecord, kafka::ConfigRecord>;

// The version each record is written in.
int16_t record_version(const MetadataRecord& r);
std::vector<std::byte> encode_record(const MetadataRecord& r);
// Errc::corrupt for a malformed value, an unknown frame version or a type this image ignores.
Result<MetadataRecord> decode_record(ConstBytes value);

inline constexpr int32_t kNoLeader = -1;
inline constexpr int32_t kLeaderUnchanged = -2;
inline constexpr int8_t kConfigTopic = 2;   // ConfigRecord.resource_type of a topic
inline constexpr int8_t kConfigBroker = 4;  // ... of a broker; resource_name "" is the cluster default

struct BrokerEndpoint {
  std::string name;
  std::string host;
  uint16_t port = 0;
  int16_t security_protocol = 0;
  bool operator==(const BrokerEndpoint&) const = default;
};

struct BrokerRegistration {
  int32_t id = -1;
  model::BrokerEpoch epoch{-1};
  kafka::Uuid incarnation_id;
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
  bool fenced = true;
  bool operator==(const BrokerRegistration&) const = default;
};

struct PartitionState {
  std::vector<int32_t> replicas;  // assignment order
  std::vector<int32_t> isr;
  // KIP-966's eligible leader replicas: out of the ISR, but holding everything committed (the
  // ISR shrank below min.insync.replicas, when the high watermark stops). Disjoint from the ISR.
  std::vector<int32_t> elr;
  int32_t leader = kNoLeader;
  model::LeaderEpoch leader_epoch{0};
  model::PartitionEpoch partition_epoch{0};
  bool operator==(const PartitionState&) const = default;
};

struct TopicImage {
  std::string name;
  kafka::Uuid id;
  std::vector<PartitionState> partitions;  // index = partition id, dense from 0
  bool operator==(const TopicImage&) const = default;
};

using UuidKey = std::array<uint8_t, 16>;

class MetadataImage {
 public:
  explicit MetadataImage(ImageLimits limits = {}, ControllerBugs bugs = {}) : limits_(limits), bugs_(bugs) {}

  Status apply(const MetadataRecord& record);
  std::vector<MetadataRecord> snapshot() const;
  // An image rebuilt from records (a snapshot, or a log from the start); the first refused
  // record's Status otherwise.
  static Result<MetadataImage> from_records(std::span<const MetadataRecord> records, ImageLimits limits = {},
                                            ControllerBugs bugs = {});

  const std::map<int32_t, BrokerRegistration>& brokers() const { return brokers_; }
  const BrokerRegistration* broker(int32_t id) const;
  bool is_unfenced(int32_t id) const;  // registered and not fenced
  const std::map<std::string, TopicImage>& topics() const { return topics_; }
  const TopicImage* topic(const std::string& name) const;
  const TopicImage* topic_by_id(const kafka::Uuid& id) const;
  size_t partition_count() const { return partition_count_; }
  std::optional<std::string> config(int8_t resource_type, const std::string& resource, const std::string& key) const;
  size_t config_count() const { return config_count_; }
  // Every config of one resource; nullptr when it has none.
  const std::map<std::string, std::string>* configs(int8_t resource_type, const std::string& resource) const;

  // Equality of the metadata, not of limits or bugs.
  bool operator==(const MetadataImage& o) const {
    return brokers_ == o.brokers_ && topics_ == o.topics_ && configs_ == o.configs_;
  }

 private:
  using ConfigKey = std::pair<int8_t, std::string>;

  Status apply_register(const kafka::RegisterBrokerRecord& r);
  Status apply_fencing(int32_t id, int64_t epoch, int8_t change);
  Status apply_topic(const kafka::TopicRecord& r);
  Status apply_partition(const kafka::PartitionRecord& r);
  Status apply_partition_change(const kafka::PartitionChangeRecord& r);
  Status apply_remove_topic(const kafka::RemoveTopicRecord& r);
  Status apply_config(const kafka::ConfigRecord& r);
  TopicImage* mutable_topic_by_id(const kafka::Uuid& id);

  ImageLimits limits_;
  ControllerBugs bugs_;
  std::map<int32_t, BrokerRegistration> brokers_;
  std::map<std::string, TopicImage> topics_;
  std::map<UuidKey, std::string> topic_names_;  // topic id -> name
  std::map<ConfigKey, std::map<std::string, std::string>> configs_;
  size_t partition_count_ = 0;
  size_t config_count_ = 0;
};

// A snapshot's bytes: each record of image.snapshot() as a 4-byte big-endian length and its
// encode_record() value. decode_image refuses (Errc::corrupt) a truncated or malformed one, and
// a list of records that does not rebuild an image.
std::vector<std::byte> encode_image(const MetadataImage& image);
Result<MetadataImage> decode_image(ConstBytes bytes, ImageLimits limits = {}, ControllerBugs bugs = {});

// Partition-level checks shared by the image and the controller.
bool has_duplicates(const std::vector<int32_t>& ids);
bool contains(const std::vector<int32_t>& ids, int32_t id);
bool is_subset(const std::vector<int32_t>& part, const std::vector<int32_t>& whole);

}  // namespace samsa::controller
