// RequestHandler: turns Kafka request frames into responses for one broker. It is the
// FrameHandler the broker's FrameServer calls, once per request, in order, per connection.
//
// - The request header is parsed in v1, or v2 (with its tag buffer) for flexible versions; an
//   unknown API key, or a known API at a version samsa does not advertise, closes the connection
//   (Kafka does the same), except ApiVersions, which answers UNSUPPORTED_VERSION in a v0 body so
//   that librdkafka can fall back. Responses carry header v1 for flexible versions (v0 for
//   ApiVersions, always).
// - A body that does not decode (truncated, lengths past the frame, huge array counts) closes
//   the connection; nothing is allocated beyond what the frame holds.
// - Produce with acks=0 sends no response. Fetch long-polls up to max_wait_ms for min_bytes and
//   answers with file ranges that the FrameServer sends with send_file.
//
// Threading: called on connection worker fibers of the broker's node.
#pragma once

#include <cstdint>
#include <string>

#include "broker/broker_config.h"
#include "broker/cluster_view.h"
#include "broker/topic_manager.h"
#include "groups/group_coordinator.h"
#include "log/log_manager.h"
#include "replication/partition.h"
#include "net/frame_server.h"
#include "protocol/group_messages.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa::broker {

struct RequestStats {
  uint64_t requests = 0;
  uint64_t closed_unknown_api = 0;
  uint64_t closed_unsupported_version = 0;
  uint64_t closed_malformed = 0;
  uint64_t fetch_wakeups = 0;  // long-polling fetches woken by an append to a partition they read
};

// The listener a cluster's brokers register for clients (Kafka's default name).
inline constexpr const char* kBrokerListenerName = "PLAINTEXT";

class RequestHandler final : public FrameHandler {
 public:
  static constexpr int32_t kFetchMaxWaitMsMax = 5 * 60 * 1000;
  static constexpr int32_t kProduceTimeoutMsMax = 5 * 60 * 1000;  // how long acks=all may wait

  RequestHandler(Runtime& rt, const BrokerConfig& config, TopicManager& topics, LogManager& logs,
                 const replication::PartitionTable& partitions, groups::GroupCoordinator& groups, Address advertised);

  Response handle(const ConnectionInfo& connection, FrameBuffer frame) override;
  // Unreadable log data under a fetch: that partition goes offline (and is reopened later), so
  // its clients get KAFKA_STORAGE_ERROR instead of a connection that breaks on every fetch.
  void on_file_error(const File& file, Status cause) override { logs_.report_read_error(file.path(), cause); }
  const RequestStats& stats() const { return stats_; }
  void set_advertised(Address a) { advertised_ = std::move(a); }
  const Address& advertised() const { return advertised_; }
  // DescribeQuorum (for `samsa metadata-quorum --bootstrap-server`) goes to this handler, the
  // node's quorum member, when there is one; without it the API is unknown here.
  void set_describe_quorum_handler(FrameHandler* handler) { describe_quorum_ = handler; }
  // In a KRaft cluster: where metadata comes from and creations go (see cluster_view.h). Before
  // the first request; must outlive the handler.
  void set_cluster(ClusterView* cluster) { cluster_ = cluster; }

 private:
  // cluster_handlers.cc
  std::optional<TopicInfo> topic_info(const std::string& name) const;
  std::optional<std::string> topic_name_by_id(const kafka::Uuid& id) const;
  // The partition and its log when this broker may serve clients from it (it leads it, and in a
  // cluster has caught up with the metadata); else the Kafka error that sends the client elsewhere.
  // `current_leader_epoch`: the client's, where the request carries one (KIP-320), else -1.
  kafka::Error serving(const std::string& topic, int32_t partition, std::shared_ptr<replication::Partition>* p,
                       std::shared_ptr<PartitionLog>* log, int32_t current_leader_epoch = -1) const;
  int32_t controller_for_clients() const;
  kafka::MetadataResponse::Topic describe_image_topic(const std::string& name, bool allow_create);
  Response metadata_from_image(const kafka::RequestHeader& h, kafka::MetadataRequest& req);
  kafka::DescribeClusterResponse describe_cluster_from_image() const;
  // The leader of the group's partition of __consumer_offsets; creates the topic first when
  // the image has none (COORDINATOR_NOT_AVAILABLE meanwhile, as Kafka answers).
  kafka::FindCoordinatorResponse::Coordinator coordinator_from_image(const std::string& key);
  void create_offsets_topic();

  // `body` lies in *frame (shared so that decoded records can be views into it).
  Response dispatch(const kafka::RequestHeader& h, ConstBytes body, const std::shared_ptr<const FrameBuffer>& frame,
                    const ConnectionInfo& connection);
  Response dispatch_groups(const kafka::RequestHeader& h, ConstBytes body, const ConnectionInfo& connection);
  Response api_versions(const kafka::RequestHeader& h, int16_t version, int16_t error);
  Response metadata(const kafka::RequestHeader& h, kafka::MetadataRequest& req);
  Response create_topics(const kafka::RequestHeader& h, kafka::CreateTopicsRequest& req);
  Response delete_topics(const kafka::RequestHeader& h, kafka::DeleteTopicsRequest& req);
  Response dispatch_admin(const kafka::RequestHeader& h, ConstBytes body);
  kafka::DescribeConfigsResponse::Result describe_config_resource(const kafka::DescribeConfigsRequest::Resource& r) const;
  kafka::DescribeConfigsResponse::Result describe_broker_configs(const kafka::DescribeConfigsRequest::Resource& r) const;
  std::vector<std::pair<std::string, std::string>> static_broker_configs() const;
  kafka::Error alter_configs(int8_t resource_type, const std::string& name, const std::map<std::string, std::string>& configs,
                             bool validate_only, std::string* message);
  kafka::DeleteRecordsResponse::Partition delete_records(const std::string& topic, const kafka::DeleteRecordsRequest::Partition& p);
  Response produce(const kafka::RequestHeader& h, kafka::ProduceRequest& req);
  Response fetch(const kafka::RequestHeader& h, kafka::FetchRequest& req);
  Response list_offsets(const kafka::RequestHeader& h, kafka::ListOffsetsRequest& req);
  // KIP-101/KIP-279/KIP-320: where a leader epoch ends in this leader's log (a consumer checking
  // its position after a leader change; a follower's divergence), fenced by the current epoch.
  Response offset_for_leader_epoch(const kafka::RequestHeader& h, kafka::OffsetForLeaderEpochRequest& req);

  template <typename Req, typename F>
  Response with_request(const kafka::RequestHeader& h, ConstBytes body, F&& handler) {
    return with_request<Req>(h, body, nullptr, std::forward<F>(handler));
  }
  // Decodes the body (in *frame) as Req and hands it to `handler`; a malformed body closes the
  // connection.
  template <typename Req, typename F>
  Response with_request(const kafka::RequestHeader& h, ConstBytes body, const std::shared_ptr<const FrameBuffer>& frame,
                        F&& handler) {
    Result<Req> req = kafka::decode_shared<Req>(body, frame, h.api_version);
    if (!req.ok()) return malformed(h);
    return handler(*req);
  }
  Response malformed(const kafka::RequestHeader& h);

  Result<AppendResult> append_one_by_one(PartitionLog& log, ConstBytes record_set, int32_t epoch);
  // One partition's append that still waits: for its fsync (flush.messages) and, at acks=all,
  // for its replicas. `topic` and `partition` index the response.
  struct ProduceWait {
    size_t topic = 0, partition = 0;
    std::shared_ptr<replication::Partition> replica;
    std::shared_ptr<PartitionLog> log;
    DurableWait durable;
    int64_t last_offset = -1;
    int32_t epoch = -1;  // the leader epoch the batches were appended in
    bool replicated = false;
  };
  // Validates and appends; `out` gets the error, or the base offset and *wait what is left.
  kafka::ProduceResponse::Partition produce_append(const std::string& topic, kafka::ProduceRequest::Partition& p,
                                                   int16_t acks, ProduceWait* wait);
  // Waits for what produce_append left and completes its partition's answer.
  void produce_finish(const ProduceWait& wait, Deadline deadline, kafka::ProduceResponse::Partition& out);
  Response produce_reply(const kafka::RequestHeader& h, kafka::ProduceResponse& resp);
  // A follower's fetch on the leader (replica_id >= 0): checks its last fetched epoch against
  // this log (KIP-279: a diverging epoch answers where its log went another way) and records its
  // log end, which may advance the high watermark, and its broker epoch (v15, KIP-903; -1
  // before), which the leader's ISR expansion names. false: answer `part` without records.
  bool follower_fetch(int32_t replica_id, int64_t replica_epoch, replication::Partition& partition, PartitionLog& log,
                      const kafka::FetchRequest::Partition& p, kafka::FetchResponse::Partition& part);
  uint64_t fill_fetch(kafka::FetchRequest& req, kafka::FetchResponse& resp);
  kafka::OffsetCommitResponse commit_known_partitions(kafka::OffsetCommitRequest& req);
  // none when this broker is the group's coordinator (always, for the single broker); else
  // NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS while the group's partition loads here.
  kafka::Error coordinator_error(const std::string& group_id) const;
  kafka::FindCoordinatorResponse::Coordinator coordinator_for(const std::string& key, int8_t key_type);
  kafka::MetadataResponse::Topic describe_topic(const std::string& name, bool allow_create);
  kafka::ListOffsetsResponse::Partition list_offset(PartitionLog* log, int64_t high_watermark,
                                                    const kafka::ListOffsetsRequest::Partition& p, int16_t version);

  Runtime& rt_;
  const BrokerConfig& config_;
  TopicManager& topics_;
  LogManager& logs_;
  const replication::PartitionTable& partitions_;
  groups::GroupCoordinator& groups_;
  Address advertised_;
  FrameHandler* describe_quorum_ = nullptr;
  ClusterView* cluster_ = nullptr;
  RequestStats stats_;
};

// The response frame body (after the size prefix): the response header (v1 with its tag buffer
// for flexible versions, v0 otherwise and always for ApiVersions), then the message at
// `body_version` (the request's version, except ApiVersions' UNSUPPORTED_VERSION answer in v0).
template <typename M>
Response make_reply(const kafka::RequestHeader& h, M& message, int16_t body_version) {
  kafka::Writer w;
  kafka::ResponseHeader header{.correlation_id = h.correlation_id};
  header.serde(w, kafka::response_header_version(M::kApiKey, h.api_version));
  message.serde(w, body_version);
  return Response{Response::Kind::reply, w.take_parts()};
}

}  // namespace samsa::broker
