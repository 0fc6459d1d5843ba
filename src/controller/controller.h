// Controller: the KRaft controller's decisions, as pure deterministic functions over a
// MetadataImage, the time the caller passes in and the randomness the caller injects (topic ids,
// placement start index and shift). No Raft, no network: whoever runs it appends the records a
// call returns to the metadata log and applies them to the image before the next call.
//
// Contract:
// - Every operation returns either a Kafka error (and no records) or Error::none and the records
//   to append, in order. Applying them to the image the call was given always succeeds.
// - The controller is the only writer of leader and ISR. A clean election takes the first
//   replica in assignment order that is in the ISR and unfenced; with unclean.leader.election.enable
//   (the topic's config, else the cluster's, else ControllerConfig) and no such replica, the first
//   unfenced replica leads with ISR = [it].
// - A broker starts fenced and is unfenced by a heartbeat once its metadata offset reaches the
//   offset the caller says it must catch up to. When its session (broker.session.timeout.ms)
//   expires, or it registers again with a new incarnation, it is removed from every ISR and its
//   partitions get new leaders (PartitionChangeRecords) before its fence is recorded. As in
//   Kafka, a fenced broker stays in an ISR only when it was that ISR's last member, and then the
//   partition has no leader (so the partition can come back cleanly when it returns).
// - A fenced broker leads nothing; a leader is always in its ISR; ISR is a subset of the
//   replicas; each partition change bumps the partition epoch and each leader change the leader
//   epoch (MetadataImage does the bumping).
// - Session deadlines are the controller's own state (one per registered broker), not metadata.
//
// Not thread-safe: one owner (the active controller's fiber).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controller/controller_config.h"
#include "controller/metadata_image.h"
#include "protocol/errors.h"

namespace samsa::controller {

inline constexpr const char* kUncleanLeaderElection = "unclean.leader.election.enable";
inline constexpr const char* kMinInsyncReplicas = "min.insync.replicas";

struct ControllerResult {
  kafka::Error error = kafka::Error::none;
  std::vector<MetadataRecord> records;
};

// ElectLeaders (KIP-460): Kafka's election types.
enum class ElectionType : int8_t { preferred = 0, unclean = 1 };

struct PartitionElection {
  std::string topic;
  int32_t partition = 0;
  kafka::Error error = kafka::Error::none;
};

struct ElectLeadersResult : ControllerResult {
  std::vector<PartitionElection> partitions;  // one per partition asked for (or elected, for all)
};

struct BrokerRegistrationRequest {
  int32_t broker_id = -1;
  kafka::Uuid incarnation_id;
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
  // KIP-966: the epoch it held before a restart that kept its page cache; -1 otherwise (first
  // start, power loss, reboot): then it leaves every ELR, its logs may miss committed records.
  int64_t previous_broker_epoch = -1;
};

struct RegistrationResult : ControllerResult {
  int64_t broker_epoch = -1;
};

struct HeartbeatRequest {
  int32_t broker_id = -1;
  int64_t broker_epoch = -1;
  int64_t current_metadata_offset = -1;  // the broker's applied metadata offset
  bool want_shut_down = false;           // controlled shutdown: move my leaderships away first
};

struct HeartbeatResult : ControllerResult {
  bool is_caught_up = false;
  bool is_fenced = true;  // after the returned records
  bool should_shut_down = false;  // a controlled shutdown may proceed: the broker leads nothing
};

struct CreateTopicRequest {
  std::string name;
  int32_t num_partitions = -1;      // -1: ControllerConfig::default_partitions
  int16_t replication_factor = -1;  // -1: ControllerConfig::default_replication_factor
  std::vector<std::pair<std::string, std::string>> configs;
};

struct CreateTopicResult : ControllerResult {
  kafka::Uuid topic_id;
};

// Where the round robin of a placement starts and how far later replicas are shifted; Kafka
// draws both at random per request, the caller injects them (any values; taken modulo).
struct PlacementChoice {
  uint32_t start_index = 0;
  uint32_t shift = 0;
};

struct IsrMember {
  int32_t broker_id = -1;
  model::BrokerEpoch broker_epoch{-1};  // -1: not checked
};

struct AlterPartitionRequest {
  int32_t broker_id = -1;  // the leader asking
  model::BrokerEpoch broker_epoch{-1};
  kafka::Uuid topic_id;
  int32_t partition = -1;
  model::LeaderEpoch leader_epoch{-1};
  model::PartitionEpoch partition_epoch{-1};
  std::vector<IsrMember> new_isr;
  int8_t leader_recovery_state = 0;  // KIP-704: 0 recovered, 1 recovering
};

class Controller {
 public:
  explicit Controller(ControllerConfig config) : config_(config) {}

  const ControllerConfig& config() const { return config_; }

  // On becoming the active controller: every registered broker gets a full session from now.
  void activate(const MetadataImage& image, int64_t now_ms);
  std::optional<int64_t> session_deadline(int32_t broker_id) const;

  // new_epoch: the broker epoch a new registration gets (Kafka: the offset its record will
  // have); it must exceed the broker's current epoch.
  RegistrationResult register_broker(const MetadataImage& image, const BrokerRegistrationRequest& request,
                                     int64_t new_epoch, int64_t now_ms);
  // catch_up_offset: the metadata offset a fenced broker must have applied to be unfenced.
  // With want_shut_down (controlled shutdown, Kafka's BrokerHeartbeat WantShutDown) the broker is
  // fenced at once, as an expired session would be but without waiting for it: its leaderships
  // move to other ISR members and it leaves every ISR (cleanly: it keeps its place in the ELR).
  // Once that is committed it is told it should shut down; it is never unfenced meanwhile.
  HeartbeatResult heartbeat(const MetadataImage& image, const HeartbeatRequest& request, int64_t catch_up_offset,
                            int64_t now_ms);
  // Fences at most one unfenced broker whose session expired before now_ms (the lowest id);
  // call again while it returns records.
  ControllerResult expire_sessions(const MetadataImage& image, int64_t now_ms);

  CreateTopicResult create_topic(const MetadataImage& image, const CreateTopicRequest& request,
                                 const kafka::Uuid& topic_id, PlacementChoice placement) const;
  ControllerResult delete_topic(const MetadataImage& image, const std::string& name) const;
  ControllerResult create_partitions(const MetadataImage& image, const std::string& name, int32_t new_count,
                                     PlacementChoice placement) const;
  ControllerResult alter_partition(const MetadataImage& image, const AlterPartitionRequest& request) const;
  // Preferred: the first replica in assignment order leads again if it is live and in the ISR
  // (ELECTION_NOT_NEEDED if it leads, PREFERRED_LEADER_NOT_AVAILABLE otherwise). Unclean: a
  // leaderless partition gets any live replica (ELIGIBLE_LEADERS_NOT_AVAILABLE if none is live).
  // `partitions` nullopt: every partition, reporting only those elected or failing.
  ElectLeadersResult elect_leaders(const MetadataImage& image, ElectionType type,
                                   const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions) const;
  // Sets (or with nullopt deletes) one topic config; turning unclean election on elects leaders
  // for the topic's leaderless partitions in the same records.
  ControllerResult alter_topic_config(const MetadataImage& image, const std::string& topic, const std::string& key,
                                      const std::optional<std::string>& value) const;

  bool unclean_election_enabled(const MetadataImage& image, const std::string& topic) const;

 private:
  struct Election {
    int32_t leader = kNoLeader;
    std::vector<int32_t> isr;
    std::vector<int32_t> elr;
  };
  // Which brokers may lead or stay in an ISR: the image's unfenced brokers, but for the one
  // being fenced (or unfenced) by the records under construction.
  struct Liveness {
    const MetadataImage* image = nullptr;
    int32_t fencing = -1;
    int32_t unfencing = -1;
    bool operator()(int32_t id) const { return id != fencing && (id == unfencing || image->is_unfenced(id)); }
  };
  void fence_broker(const MetadataImage& image, const BrokerRegistration& b, std::vector<MetadataRecord>& out) const;
  // Appends the partition changes that take `broker` out of every ISR and leadership; with
  // `unclean` (it restarted after losing its page cache) out of every ELR too.
  void fence_partitions(const MetadataImage& image, int32_t broker, bool unclean, std::vector<MetadataRecord>& out) const;
  // Appends elections for the topic's leaderless partitions that can get a leader now.
  void elect_leaderless(const TopicImage& topic, const Liveness& live, bool unclean_ok,
                        std::vector<MetadataRecord>& out) const;
  // A leader from the live ISR, else from the live ELR (KIP-966), else (unclean allowed) any live
  // replica; with the ISR and ELR that go with it.
  Election elect(const PartitionState& p, const std::vector<int32_t>& isr, const std::vector<int32_t>& elr,
                 const Liveness& live, bool unclean_ok) const;
  // KIP-966: the ELR once the ISR becomes `isr`.
  std::vector<int32_t> next_elr(const PartitionState& p, const std::vector<int32_t>& isr, int32_t min_isr) const;
  // min.insync.replicas of the topic (its config, else the cluster's), at most its replicas.
  int32_t min_insync(const MetadataImage& image, const std::string& topic, size_t replicas) const;
  // The PartitionChangeRecord taking p to e, if anything changes.
  static void append_change(const TopicImage& topic, size_t index, const PartitionState& p, const Election& e,
                            std::vector<MetadataRecord>& out);
  std::vector<std::vector<int32_t>> place(const MetadataImage& image, int32_t first_partition, int32_t count,
                                          int16_t replication_factor, PlacementChoice placement) const;
  kafka::Error validate_topic_name(const std::string& name) const;
  kafka::Error validate_alter(const MetadataImage& image, const AlterPartitionRequest& request) const;

  ControllerConfig config_;
  std::map<int32_t, int64_t> session_deadlines_;  // broker id -> deadline; only registered brokers
};

}  // namespace samsa::controller
