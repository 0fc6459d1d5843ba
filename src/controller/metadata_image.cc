#include "controller/metadata_image.h"

#include <algorithm>

#include "util/endian.h"

namespace samsa::controller {
namespace {

constexpr uint32_t kFrameVersion = 1;

// Every record samsa writes is v0 (no directories or leader recovery state) but the partition
// records, v2 for their ELR.
constexpr int16_t kRecordVersion = 0;
constexpr int16_t kPartitionRecordVersion = 2;

template <typename M>
Result<MetadataRecord> decode_body(kafka::Reader& r, int16_t version) {
  if (version < M::kMinVersion || version > M::kMaxVersion) return Errc::corrupt;
  M m;
  m.serde(r, version);
  if (!r.ok() || r.remaining() != 0) return Errc::corrupt;
  return MetadataRecord{std::move(m)};
}

bool valid_broker_id(int32_t id) { return id >= 0; }

UuidKey key_of(const kafka::Uuid& id) { return id.bytes; }

}  // namespace

bool has_duplicates(const std::vector<int32_t>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    for (size_t j = i + 1; j < ids.size(); ++j) {
      if (ids[i] == ids[j]) return true;
    }
  }
  return false;
}

bool contains(const std::vector<int32_t>& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

bool is_subset(const std::vector<int32_t>& part, const std::vector<int32_t>& whole) {
  return std::all_of(part.begin(), part.end(), [&](int32_t id) { return contains(whole, id); });
}

// ELR (KIP-966) needs v2 of the partition records.
template <typename M>
constexpr int16_t version_of() {
  if constexpr (std::is_same_v<M, kafka::PartitionRecord> || std::is_same_v<M, kafka::PartitionChangeRecord>) {
    return kPartitionRecordVersion;
  }
  return kRecordVersion;
}

int16_t record_version(const MetadataRecord& r) {
  return std::visit([](const auto& m) { return version_of<std::decay_t<decltype(m)>>(); }, r);
}

namespace {

// ELR members are distinct replicas outside the ISR.
bool valid_elr(const std::vector<int32_t>& elr, const std::vector<int32_t>& isr, const std::vector<int32_t>& replicas) {
  if (has_duplicates(elr) || !is_subset(elr, replicas)) return false;
  return std::none_of(elr.begin(), elr.end(), [&](int32_t id) { return contains(isr, id); });
}

}  // namespace

std::vector<std::byte> encode_record(const MetadataRecord& r) {
  kafka::Writer w;
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        const int16_t version = version_of<M>();
        w.uvarint(kFrameVersion);
        w.uvarint(static_cast<uint32_t>(M::kRecordType));
        w.uvarint(static_cast<uint32_t>(version));
        const_cast<M&>(m).serde(w, version);  // serde is shared with decoding; a Writer only reads
      },
      r);
  return w.take_bytes();
}

Result<MetadataRecord> decode_record(ConstBytes value) {
  kafka::Reader r(value);
  uint32_t frame = 0, type = 0, version = 0;
  r.uvarint(frame);
  r.uvarint(type);
  r.uvarint(version);
  if (!r.ok() || frame != kFrameVersion || version > 0x7fff) return Errc::corrupt;
  const auto v = static_cast<int16_t>(version);
  switch (type) {
    case kafka::RegisterBrokerRecord::kRecordType: return decode_body<kafka::RegisterBrokerRecord>(r, v);
    case kafka::BrokerRegistrationChangeRecord::kRecordType:
      return decode_body<kafka::BrokerRegistrationChangeRecord>(r, v);
    case kafka::FenceBrokerRecord::kRecordType: return decode_body<kafka::FenceBrokerRecord>(r, v);
    case kafka::UnfenceBrokerRecord::kRecordType: return decode_body<kafka::UnfenceBrokerRecord>(r, v);
    case kafka::TopicRecord::kRecordType: return decode_body<kafka::TopicRecord>(r, v);
    case kafka::PartitionRecord::kRecordType: return decode_body<kafka::PartitionRecord>(r, v);
    case kafka::PartitionChangeRecord::kRecordType: return decode_body<kafka::PartitionChangeRecord>(r, v);
    case kafka::RemoveTopicRecord::kRecordType: return decode_body<kafka::RemoveTopicRecord>(r, v);
    case kafka::ConfigRecord::kRecordType: return decode_body<kafka::ConfigRecord>(r, v);
    default: return Errc::corrupt;
  }
}

Status MetadataImage::apply(const MetadataRecord& record) {
  return std::visit(
      [&](const auto& m) -> Status {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, kafka::RegisterBrokerRecord>) return apply_register(m);
        if constexpr (std::is_same_v<M, kafka::BrokerRegistrationChangeRecord>) {
          return apply_fencing(m.broker_id, m.broker_epoch, m.fenced);
        }
        if constexpr (std::is_same_v<M, kafka::FenceBrokerRecord>) return apply_fencing(m.id, m.epoch, 1);
        if constexpr (std::is_same_v<M, kafka::UnfenceBrokerRecord>) return apply_fencing(m.id, m.epoch, -1);
        if constexpr (std::is_same_v<M, kafka::TopicRecord>) return apply_topic(m);
        if constexpr (std::is_same_v<M, kafka::PartitionRecord>) return apply_partition(m);
        if constexpr (std::is_same_v<M, kafka::PartitionChangeRecord>) return apply_partition_change(m);
        if constexpr (std::is_same_v<M, kafka::RemoveTopicRecord>) return apply_remove_topic(m);
        if constexpr (std::is_same_v<M, kafka::ConfigRecord>) return apply_config(m);
      },
      record);
}

// A registration replaces an older one of the same broker; its epoch must be newer, so the
// same record applied twice is refused.
Status MetadataImage::apply_register(const kafka::RegisterBrokerRecord& r) {
  if (!valid_broker_id(r.broker_id) || r.broker_epoch < 0) return Errc::invalid_argument;
  if (r.end_points.size() > limits_.endpoints_max) return Errc::resource_exhausted;
  auto it = brokers_.find(r.broker_id);
  if (it != brokers_.end() && model::BrokerEpoch{r.broker_epoch} <= it->second.epoch) return Errc::invalid_argument;
  if (it == brokers_.end() && brokers_.size() >= limits_.brokers_max) return Errc::resource_exhausted;
  BrokerRegistration b;
  b.id = r.broker_id;
  b.epoch = model::BrokerEpoch{r.broker_epoch};
  b.incarnation_id = r.incarnation_id;
  for (const auto& e : r.end_points) b.endpoints.push_back({e.name, e.host, e.port, e.security_protocol});
  b.rack = r.rack;
  b.fenced = r.fenced;
  brokers_[r.broker_id] = std::move(b);
  return Status{};
}

// change: 1 fence, -1 unfence, 0 nothing (refused: the controller never writes an empty change).
// Fencing a fenced broker, or unfencing an unfenced one, is refused as a replay.
Status MetadataImage::apply_fencing(int32_t id, int64_t epoch, int8_t change) {
  auto it = brokers_.find(id);
  if (it == brokers_.end() || it->second.epoch != model::BrokerEpoch{epoch}) return Errc::not_found;
  if (change != 1 && change != -1) return Errc::invalid_argument;
  const bool fence = change == 1;
  if (it->second.fenced == fence) return Errc::already_exists;
  it->second.fenced = fence;
  return Status{};
}

Status MetadataImage::apply_topic(const kafka::TopicRecord& r) {
  if (r.name.empty() || r.topic_id.is_zero()) return Errc::invalid_argument;
  if (topics_.count(r.name) != 0 || topic_names_.count(key_of(r.topic_id)) != 0) return Errc::already_exists;
  if (topics_.size() >= limits_.topics_max) return Errc::resource_exhausted;
  topics_[r.name] = TopicImage{r.name, r.topic_id, {}};
  topic_names_[key_of(r.topic_id)] = r.name;
  return Status{};
}

// Partitions of a topic arrive in id order, each once.
Status MetadataImage::apply_partition(const kafka::PartitionRecord& r) {
  TopicImage* t = mutable_topic_by_id(r.topic_id);
  if (t == nullptr) return Errc::not_found;
  if (r.partition_id < 0 || static_cast<size_t>(r.partition_id) != t->partitions.size()) {
    return Errc::invalid_argument;
  }
  if (partition_count_ >= limits_.partitions_max) return Errc::resource_exhausted;
  if (r.replicas.empty() || r.replicas.size() > limits_.replicas_max) return Errc::invalid_argument;
  if (has_duplicates(r.replicas) || !std::all_of(r.replicas.begin(), r.replicas.end(), valid_broker_id)) {
    return Errc::invalid_argument;
  }
  if (has_duplicates(r.isr) || !is_subset(r.isr, r.replicas)) return Errc::invalid_argument;
  if (r.leader != kNoLeader && !contains(r.replicas, r.leader)) return Errc::invalid_argument;
  if (r.leader_epoch < 0 || r.partition_epoch < 0) return Errc::invalid_argument;
  const std::vector<int32_t> elr = r.eligible_leader_replicas.value_or(std::vector<int32_t>{});
  if (!valid_elr(elr, r.isr, r.replicas)) return Errc::invalid_argument;
  t->partitions.push_back(PartitionState{r.replicas, r.isr, elr, r.leader, model::LeaderEpoch{r.leader_epoch},
                                         model::PartitionEpoch{r.partition_epoch}});
  ++partition_count_;
  return Status{};
}

Status MetadataImage::apply_partition_change(const kafka::PartitionChangeRecord& r) {
  TopicImage* t = mutable_topic_by_id(r.topic_id);
  if (t == nullptr) return Errc::not_found;
  if (r.partition_id < 0 || static_cast<size_t>(r.partition_id) >= t->partitions.size()) return Errc::not_found;
  if (!r.isr && r.leader == kLeaderUnchanged && !r.replicas && !r.eligible_leader_replicas) {
    return Errc::invalid_argument;  // an empty change
  }
  PartitionState next = t->partitions[static_cast<size_t>(r.partition_id)];
  if (r.replicas) {
    if (r.replicas->empty() || r.replicas->size() > limits_.replicas_max || has_duplicates(*r.replicas)) {
      return Errc::invalid_argument;
    }
    next.replicas = *r.replicas;
  }
  if (r.isr) next.isr = *r.isr;
  if (r.eligible_leader_replicas) next.elr = *r.eligible_leader_replicas;
  if (r.leader != kLeaderUnchanged) {
    if (r.leader < kNoLeader) return Errc::invalid_argument;
    next.leader = r.leader;
    next.leader_epoch = model::next(next.leader_epoch);
  }
  if (has_duplicates(next.isr) || !is_subset(next.isr, next.replicas)) return Errc::invalid_argument;
  if (!valid_elr(next.elr, next.isr, next.replicas)) return Errc::invalid_argument;
  if (next.leader != kNoLeader && !contains(next.replicas, next.leader)) return Errc::invalid_argument;
  const bool isr_only = r.leader == kLeaderUnchanged && !r.replicas;
  if (!(bugs_.reuse_partition_epoch && isr_only)) next.partition_epoch = model::next(next.partition_epoch);
  t->partitions[static_cast<size_t>(r.partition_id)] = std::move(next);
  return Status{};
}

// Removes the topic and its configs.
Status MetadataImage::apply_remove_topic(const kafka::RemoveTopicRecord& r) {
  auto name = topic_names_.find(key_of(r.topic_id));
  if (name == topic_names_.end()) return Errc::not_found;
  auto t = topics_.find(name->second);
  SAMSA_ASSERT(t != topics_.end());
  SAMSA_ASSERT(partition_count_ >= t->second.partitions.size());
  partition_count_ -= t->second.partitions.size();
  auto configs = configs_.find(ConfigKey{kConfigTopic, name->second});
  if (configs != configs_.end()) {
    SAMSA_ASSERT(config_count_ >= configs->second.size());
    config_count_ -= configs->second.size();
    configs_.erase(configs);
  }
  topics_.erase(t);
  topic_names_.erase(name);
  return Status{};
}

// Sets (value) or deletes (null) one config of one resource. Deleting an absent one is a no-op,
// as in Kafka.
Status MetadataImage::apply_config(const kafka::ConfigRecord& r) {
  if (r.name.empty()) return Errc::invalid_argument;
  const ConfigKey key{r.resource_type, r.resource_name};
  auto res = configs_.find(key);
  if (!r.value) {
    if (res == configs_.end() || res->second.erase(r.name) == 0) return Status{};
    --config_count_;
    if (res->second.empty()) configs_.erase(res);
    return Status{};
  }
  const bool is_new = res == configs_.end() || res->second.count(r.name) == 0;
  if (is_new && config_count_ >= limits_.configs_max) return Errc::resource_exhausted;
  configs_[key][r.name] = *r.value;
  if (is_new) ++config_count_;
  return Status{};
}

std::vector<MetadataRecord> MetadataImage::snapshot() const {
  std::vector<MetadataRecord> out;
  for (const auto& [id, b] : brokers_) {
    kafka::RegisterBrokerRecord r;
    r.broker_id = id;
    r.incarnation_id = b.incarnation_id;
    r.broker_epoch = b.epoch.value;
    for (const BrokerEndpoint& e : b.endpoints) r.end_points.push_back({e.name, e.host, e.port, e.security_protocol});
    r.rack = b.rack;
    r.fenced = b.fenced && !bugs_.snapshot_forgets_fencing;
    out.emplace_back(std::move(r));
  }
  for (const auto& [name, t] : topics_) {
    out.emplace_back(kafka::TopicRecord{name, t.id});
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const PartitionState& p = t.partitions[i];
      kafka::PartitionRecord r;
      r.partition_id = static_cast<int32_t>(i);
      r.topic_id = t.id;
      r.replicas = p.replicas;
      r.isr = p.isr;
      if (!p.elr.empty()) r.eligible_leader_replicas = p.elr;
      r.leader = p.leader;
      r.leader_epoch = p.leader_epoch.value;
      r.partition_epoch = p.partition_epoch.value;
      out.emplace_back(std::move(r));
    }
  }
  for (const auto& [key, entries] : configs_) {
    for (const auto& [name, value] : entries) out.emplace_back(kafka::ConfigRecord{key.first, key.second, name, value});
  }
  return out;
}

Result<MetadataImage> MetadataImage::from_records(std::span<const MetadataRecord> records, ImageLimits limits,
                                                  ControllerBugs bugs) {
  MetadataImage image(limits, bugs);
  for (const MetadataRecord& r : records) SAMSA_TRY(image.apply(r));
  return image;
}

std::vector<std::byte> encode_image(const MetadataImage& image) {
  std::vector<std::byte> out;
  for (const MetadataRecord& r : image.snapshot()) {
    const std::vector<std::byte> value = encode_record(r);
    const size_t at = out.size();
    out.resize(at + 4 + value.size());
    put_u32_be(out.data() + at, static_cast<uint32_t>(value.size()));
    std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(at + 4));
  }
  return out;
}

Result<MetadataImage> decode_image(ConstBytes bytes, ImageLimits limits, ControllerBugs bugs) {
  std::vector<MetadataRecord> records;
  for (size_t at = 0; at < bytes.size();) {
    if (bytes.size() - at < 4) return Errc::corrupt;
    const uint32_t n = get_u32_be(bytes.data() + at);
    if (n > bytes.size() - at - 4) return Errc::corrupt;
    Result<MetadataRecord> r = decode_record(bytes.subspan(at + 4, n));
    if (!r.ok()) return r.status();
    records.push_back(std::move(*r));
    at += 4 + n;
  }
  Result<MetadataImage> image = MetadataImage::from_records(records, limits, bugs);
  if (!image.ok()) return Errc::corrupt;
  return image;
}

const BrokerRegistration* MetadataImage::broker(int32_t id) const {
  auto it = brokers_.find(id);
  return it == brokers_.end() ? nullptr : &it->second;
}

bool MetadataImage::is_unfenced(int32_t id) const {
  const BrokerRegistration* b = broker(id);
  return b != nullptr && !b->fenced;
}

const TopicImage* MetadataImage::topic(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicImage* MetadataImage::topic_by_id(const kafka::Uuid& id) const {
  auto it = topic_names_.find(key_of(id));
  return it == topic_names_.end() ? nullptr : topic(it->second);
}

TopicImage* MetadataImage::mutable_topic_by_id(const kafka::Uuid& id) {
  auto it = topic_names_.find(key_of(id));
  if (it == topic_names_.end()) return nullptr;
  auto t = topics_.find(it->second);
  SAMSA_ASSERT(t != topics_.end());
  return &t->second;
}

const std::map<std::string, std::string>* MetadataImage::configs(int8_t resource_type, const std::string& resource) const {
  auto res = configs_.find(ConfigKey{resource_type, resource});
  return res == configs_.end() ? nullptr : &res->second;
}

std::optional<std::string> MetadataImage::config(int8_t resource_type, const std::string& resource,
                                                 const std::string& key) const {
  auto res = configs_.find(ConfigKey{resource_type, resource});
  if (res == configs_.end()) return std::nullopt;
  auto it = res->second.find(key);
  if (it == res->second.end()) return std::nullopt;
  return it->second;
}

}  // namespace samsa::controller
