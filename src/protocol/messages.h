// The Kafka messages samsa speaks, written from the published protocol guide. Each struct's
// serde(io, version) is the description of its wire layout: the same code decodes (Reader) and
// encodes (Writer), so broker and client can never disagree. Field comments give the version a
// field appears in. Only non-flexible versions (those samsa advertises) are described.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace samsa::kafka {

enum class ApiKey : int16_t {
  produce = 0, fetch = 1, list_offsets = 2, metadata = 3, offset_commit = 8, offset_fetch = 9,
  find_coordinator = 10, join_group = 11, heartbeat = 12, leave_group = 13, sync_group = 14,
  describe_groups = 15, list_groups = 16, api_versions = 18, create_topics = 19, delete_topics = 20,
  describe_configs = 32,
};

struct RequestHeader {  // v1: api_key, api_version, correlation_id, client_id
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;

  template <typename IO>
  void serde(IO& io) {
    io.i16(api_key);
    io.i16(api_version);
    io.i32(correlation_id);
    io.nstr(client_id);
  }
};

// --- ApiVersions (18) ---
struct ApiVersionsRequest {
  template <typename IO>
  void serde(IO&, int16_t) {}
};
struct ApiVersionsResponse {
  struct Key {
    int16_t api_key = 0, min_version = 0, max_version = 0;
  };
  int16_t error_code = 0;
  std::vector<Key> api_keys;
  int32_t throttle_time_ms = 0;  // v1+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.i16(error_code);
    io.array(api_keys, [&](Key& k) {
      io.i16(k.api_key);
      io.i16(k.min_version);
      io.i16(k.max_version);
    });
    if (v >= 1) io.i32(throttle_time_ms);
  }
};

// --- Metadata (3) ---
struct MetadataRequest {
  std::optional<std::vector<std::string>> topics;  // v0: empty array = all; v1+: null = all
  bool allow_auto_topic_creation = true;           // v4+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v == 0) {
      if constexpr (IO::kDecoding) {
        std::vector<std::string> t;
        io.array(t, [&](std::string& s) { io.str(s); });
        if (t.empty()) topics.reset(); else topics = std::move(t);
      } else {
        io.array(topics ? *topics : std::vector<std::string>{}, [&](std::string& s) { io.str(s); });
      }
    } else {
      io.narray(topics, [&](std::string& s) { io.str(s); });
    }
    if (v >= 4) io.boolean(allow_auto_topic_creation);
  }
};
struct MetadataResponse {
  struct Broker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;  // v1+
  };
  struct Partition {
    int16_t error_code = 0;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    std::vector<int32_t> replica_nodes, isr_nodes;
    std::vector<int32_t> offline_replicas;  // v5+
  };
  struct Topic {
    int16_t error_code = 0;
    std::string name;
    bool is_internal = false;  // v1+
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Broker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  int32_t controller_id = -1;             // v1+
  std::vector<Topic> topics;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 3) io.i32(throttle_time_ms);
    io.array(brokers, [&](Broker& b) {
      io.i32(b.node_id);
      io.str(b.host);
      io.i32(b.port);
      if (v >= 1) io.nstr(b.rack);
    });
    if (v >= 2) io.nstr(cluster_id);
    if (v >= 1) io.i32(controller_id);
    io.array(topics, [&](Topic& t) {
      io.i16(t.error_code);
      io.str(t.name);
      if (v >= 1) io.boolean(t.is_internal);
      io.array(t.partitions, [&](Partition& p) {
        io.i16(p.error_code);
        io.i32(p.partition_index);
        io.i32(p.leader_id);
        io.array(p.replica_nodes, [&](int32_t& n) { io.i32(n); });
        io.array(p.isr_nodes, [&](int32_t& n) { io.i32(n); });
        if (v >= 5) io.array(p.offline_replicas, [&](int32_t& n) { io.i32(n); });
      });
    });
  }
};

// --- CreateTopics (19) ---
struct CreateTopicsRequest {
  struct Assignment {
    int32_t partition_index = 0;
    std::vector<int32_t> broker_ids;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
  };
  struct Topic {
    std::string name;
    int32_t num_partitions = -1;
    int16_t replication_factor = -1;
    std::vector<Assignment> assignments;
    std::vector<Config> configs;
  };
  std::vector<Topic> topics;
  int32_t timeout_ms = 30000;
  bool validate_only = false;  // v1+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.i32(t.num_partitions);
      io.i16(t.replication_factor);
      io.array(t.assignments, [&](Assignment& a) {
        io.i32(a.partition_index);
        io.array(a.broker_ids, [&](int32_t& b) { io.i32(b); });
      });
      io.array(t.configs, [&](Config& c) {
        io.str(c.name);
        io.nstr(c.value);
      });
    });
    io.i32(timeout_ms);
    if (v >= 1) io.boolean(validate_only);
  }
};
struct CreateTopicsResponse {
  struct Topic {
    std::string name;
    int16_t error_code = 0;
    std::optional<std::string> error_message;  // v1+
  };
  int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 2) io.i32(throttle_time_ms);
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.i16(t.error_code);
      if (v >= 1) io.nstr(t.error_message);
    });
  }
};

// --- DeleteTopics (20) ---
struct DeleteTopicsRequest {
  std::vector<std::string> topic_names;
  int32_t timeout_ms = 30000;

  template <typename IO>
  void serde(IO& io, int16_t) {
    io.array(topic_names, [&](std::string& s) { io.str(s); });
    io.i32(timeout_ms);
  }
};
struct DeleteTopicsResponse {
  struct Topic {
    std::string name;
    int16_t error_code = 0;
  };
  int32_t throttle_time_ms = 0;  // v1+
  std::vector<Topic> responses;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    io.array(responses, [&](Topic& t) {
      io.str(t.name);
      io.i16(t.error_code);
    });
  }
};

// --- Produce (0) ---
struct ProduceRequest {
  struct Partition {
    int32_t index = 0;
    RecordsField records;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::optional<std::string> transactional_id;  // v3+
  int16_t acks = -1;
  int32_t timeout_ms = 30000;
  std::vector<Topic> topics;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 3) io.nstr(transactional_id);
    io.i16(acks);
    io.i32(timeout_ms);
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.index);
        io.records(p.records);
      });
    });
  }
};
struct ProduceResponse {
  struct Partition {
    int32_t index = 0;
    int16_t error_code = 0;
    int64_t base_offset = -1;
    int64_t log_append_time_ms = -1;  // v2+
    int64_t log_start_offset = -1;    // v5+
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> responses;
  int32_t throttle_time_ms = 0;  // v1+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.array(responses, [&](Topic& t) {
      io.str(t.name);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.index);
        io.i16(p.error_code);
        io.i64(p.base_offset);
        if (v >= 2) io.i64(p.log_append_time_ms);
        if (v >= 5) io.i64(p.log_start_offset);
      });
    });
    if (v >= 1) io.i32(throttle_time_ms);
  }
};

// --- Fetch (1) ---
struct FetchRequest {
  struct Partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;  // v9+
    int64_t fetch_offset = 0;
    int64_t log_start_offset = -1;  // v5+
    int32_t partition_max_bytes = 0;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
  };
  struct Forgotten {
    std::string topic;
    std::vector<int32_t> partitions;
  };
  int32_t replica_id = -1;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = INT32_MAX;  // v3+
  int8_t isolation_level = 0;     // v4+
  int32_t session_id = 0;         // v7+
  int32_t session_epoch = -1;     // v7+
  std::vector<Topic> topics;
  std::vector<Forgotten> forgotten_topics_data;  // v7+
  std::string rack_id;                           // v11+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.i32(replica_id);
    io.i32(max_wait_ms);
    io.i32(min_bytes);
    if (v >= 3) io.i32(max_bytes);
    if (v >= 4) io.i8(isolation_level);
    if (v >= 7) {
      io.i32(session_id);
      io.i32(session_epoch);
    }
    io.array(topics, [&](Topic& t) {
      io.str(t.topic);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.partition);
        if (v >= 9) io.i32(p.current_leader_epoch);
        io.i64(p.fetch_offset);
        if (v >= 5) io.i64(p.log_start_offset);
        io.i32(p.partition_max_bytes);
      });
    });
    if (v >= 7) {
      io.array(forgotten_topics_data, [&](Forgotten& f) {
        io.str(f.topic);
        io.array(f.partitions, [&](int32_t& p) { io.i32(p); });
      });
    }
    if (v >= 11) io.str(rack_id);
  }
};
struct FetchResponse {
  struct Aborted {
    int64_t producer_id = 0, first_offset = 0;
  };
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t high_watermark = -1;
    int64_t last_stable_offset = -1;  // v4+
    int64_t log_start_offset = -1;    // v5+
    std::optional<std::vector<Aborted>> aborted_transactions;  // v4+
    int32_t preferred_read_replica = -1;                       // v11+
    RecordsField records;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;        // v7+
  int32_t session_id = 0;        // v7+
  std::vector<Topic> responses;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    if (v >= 7) {
      io.i16(error_code);
      io.i32(session_id);
    }
    io.array(responses, [&](Topic& t) {
      io.str(t.topic);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.partition_index);
        io.i16(p.error_code);
        io.i64(p.high_watermark);
        if (v >= 4) io.i64(p.last_stable_offset);
        if (v >= 5) io.i64(p.log_start_offset);
        if (v >= 4) {
          io.narray(p.aborted_transactions, [&](Aborted& a) {
            io.i64(a.producer_id);
            io.i64(a.first_offset);
          });
        }
        if (v >= 11) io.i32(p.preferred_read_replica);
        io.records(p.records);
      });
    });
  }
};

// --- ListOffsets (2) ---
struct ListOffsetsRequest {
  static constexpr int64_t kLatest = -1, kEarliest = -2;
  struct Partition {
    int32_t partition_index = 0;
    int64_t timestamp = kLatest;
    int32_t max_num_offsets = 1;  // v0 only
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t replica_id = -1;
  int8_t isolation_level = 0;  // v2+
  std::vector<Topic> topics;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.i32(replica_id);
    if (v >= 2) io.i8(isolation_level);
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.partition_index);
        io.i64(p.timestamp);
        if (v == 0) io.i32(p.max_num_offsets);
      });
    });
  }
};
struct ListOffsetsResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    std::vector<int64_t> old_style_offsets;  // v0 only
    int64_t timestamp = -1;                  // v1+
    int64_t offset = -1;                     // v1+
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 2) io.i32(throttle_time_ms);
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.partition_index);
        io.i16(p.error_code);
        if (v == 0) {
          io.array(p.old_style_offsets, [&](int64_t& o) { io.i64(o); });
        } else {
          io.i64(p.timestamp);
          io.i64(p.offset);
        }
      });
    });
  }
};

// --- DescribeConfigs (32) ---
struct DescribeConfigsRequest {
  static constexpr int8_t kTopic = 2, kBroker = 4;
  struct Resource {
    int8_t resource_type = kTopic;
    std::string resource_name;
    std::optional<std::vector<std::string>> configuration_keys;
  };
  std::vector<Resource> resources;
  bool include_synonyms = false;  // v1+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.array(resources, [&](Resource& r) {
      io.i8(r.resource_type);
      io.str(r.resource_name);
      io.narray(r.configuration_keys, [&](std::string& s) { io.str(s); });
    });
    if (v >= 1) io.boolean(include_synonyms);
  }
};
struct DescribeConfigsResponse {
  static constexpr int8_t kSourceTopic = 1, kSourceStaticBroker = 4, kSourceDefault = 5;
  struct Synonym {
    std::string name;
    std::optional<std::string> value;
    int8_t source = 0;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    bool is_default = false;  // v0 only
    int8_t config_source = kSourceDefault;  // v1+
    bool is_sensitive = false;
    std::vector<Synonym> synonyms;  // v1+
  };
  struct Result {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<Config> configs;
  };
  int32_t throttle_time_ms = 0;
  std::vector<Result> results;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.i32(throttle_time_ms);
    io.array(results, [&](Result& r) {
      io.i16(r.error_code);
      io.nstr(r.error_message);
      io.i8(r.resource_type);
      io.str(r.resource_name);
      io.array(r.configs, [&](Config& c) {
        io.str(c.name);
        io.nstr(c.value);
        io.boolean(c.read_only);
        if (v == 0) io.boolean(c.is_default); else io.i8(c.config_source);
        io.boolean(c.is_sensitive);
        if (v >= 1) {
          io.array(c.synonyms, [&](Synonym& s) {
            io.str(s.name);
            io.nstr(s.value);
            io.i8(s.source);
          });
        }
      });
    });
  }
};

// Encodes a message body at a version.
template <typename M>
std::vector<std::byte> encode(M& m, int16_t version) {
  Writer w;
  m.serde(w, version);
  return w.take_bytes();
}

// Decodes a whole body; Errc::corrupt if it is malformed or has bytes left over.
template <typename M>
Result<M> decode(ConstBytes body, int16_t version) {
  Reader r(body);
  M m;
  m.serde(r, version);
  if (!r.ok() || r.remaining() != 0) return Errc::corrupt;
  return m;
}

}  // namespace samsa::kafka
