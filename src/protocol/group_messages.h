// The classic consumer-group APIs, written from the published protocol guide in the same style
// as messages.h: FindCoordinator (10), JoinGroup (11), Heartbeat (12), LeaveGroup (13),
// SyncGroup (14), DescribeGroups (15), ListGroups (16), OffsetCommit (8), OffsetFetch (9).
// Non-flexible versions only. Plus the consumer protocol's subscription and assignment blobs,
// which travel inside JoinGroup and SyncGroup.
#pragma once

#include "protocol/messages.h"

namespace samsa::kafka {

struct FindCoordinatorRequest {
  std::string key;       // the group id
  int8_t key_type = 0;   // v1+: 0 group, 1 transaction

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.str(key);
    if (v >= 1) io.i8(key_type);
  }
};
struct FindCoordinatorResponse {
  int32_t throttle_time_ms = 0;               // v1+
  int16_t error_code = 0;
  std::optional<std::string> error_message;   // v1+
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    io.i16(error_code);
    if (v >= 1) io.nstr(error_message);
    io.i32(node_id);
    io.str(host);
    io.i32(port);
  }
};

struct JoinGroupRequest {
  struct Protocol {
    std::string name;
    std::vector<std::byte> metadata;
  };
  std::string group_id;
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = -1;             // v1+ (v0: the session timeout)
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v5+
  std::string protocol_type;
  std::vector<Protocol> protocols;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.str(group_id);
    io.i32(session_timeout_ms);
    if (v >= 1) io.i32(rebalance_timeout_ms);
    io.str(member_id);
    if (v >= 5) io.nstr(group_instance_id);
    io.str(protocol_type);
    io.array(protocols, [&](Protocol& p) {
      io.str(p.name);
      io.bytes(p.metadata);
    });
  }
};
struct JoinGroupResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v5+
    std::vector<std::byte> metadata;
  };
  int32_t throttle_time_ms = 0;  // v2+
  int16_t error_code = 0;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<Member> members;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 2) io.i32(throttle_time_ms);
    io.i16(error_code);
    io.i32(generation_id);
    io.str(protocol_name);
    io.str(leader);
    io.str(member_id);
    io.array(members, [&](Member& m) {
      io.str(m.member_id);
      if (v >= 5) io.nstr(m.group_instance_id);
      io.bytes(m.metadata);
    });
  }
};

struct SyncGroupRequest {
  struct Assignment {
    std::string member_id;
    std::vector<std::byte> assignment;
  };
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  std::vector<Assignment> assignments;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.str(group_id);
    io.i32(generation_id);
    io.str(member_id);
    if (v >= 3) io.nstr(group_instance_id);
    io.array(assignments, [&](Assignment& a) {
      io.str(a.member_id);
      io.bytes(a.assignment);
    });
  }
};
struct SyncGroupResponse {
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::vector<std::byte> assignment;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    io.i16(error_code);
    io.bytes(assignment);
  }
};

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.str(group_id);
    io.i32(generation_id);
    io.str(member_id);
    if (v >= 3) io.nstr(group_instance_id);
  }
};
struct ErrorOnlyResponse {  // Heartbeat, and LeaveGroup before v3
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    io.i16(error_code);
  }
};

struct LeaveGroupRequest {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
  };
  std::string group_id;
  std::string member_id;        // v0-2
  std::vector<Member> members;  // v3+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.str(group_id);
    if (v <= 2) {
      io.str(member_id);
    } else {
      io.array(members, [&](Member& m) {
        io.str(m.member_id);
        io.nstr(m.group_instance_id);
      });
    }
  }
};
struct LeaveGroupResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    int16_t error_code = 0;
  };
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::vector<Member> members;  // v3+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    io.i16(error_code);
    if (v >= 3) {
      io.array(members, [&](Member& m) {
        io.str(m.member_id);
        io.nstr(m.group_instance_id);
        io.i16(m.error_code);
      });
    }
  }
};

struct OffsetCommitRequest {
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;  // v6+
    int64_t commit_timestamp = -1;        // v1 only
    std::optional<std::string> committed_metadata;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::string group_id;
  int32_t generation_id = -1;                    // v1+
  std::string member_id;                         // v1+
  std::optional<std::string> group_instance_id;  // v7+
  int64_t retention_time_ms = -1;                // v2-4
  std::vector<Topic> topics;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.str(group_id);
    if (v >= 1) {
      io.i32(generation_id);
      io.str(member_id);
    }
    if (v >= 7) io.nstr(group_instance_id);
    if (v >= 2 && v <= 4) io.i64(retention_time_ms);
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.partition_index);
        io.i64(p.committed_offset);
        if (v >= 6) io.i32(p.committed_leader_epoch);
        if (v == 1) io.i64(p.commit_timestamp);
        io.nstr(p.committed_metadata);
      });
    });
  }
};
struct OffsetCommitResponse {
  struct Partition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Topic> topics;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 3) io.i32(throttle_time_ms);
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.partition_index);
        io.i16(p.error_code);
      });
    });
  }
};

struct OffsetFetchRequest {
  struct Topic {
    std::string name;
    std::vector<int32_t> partition_indexes;
  };
  std::string group_id;
  std::optional<std::vector<Topic>> topics;  // v2+: null means every committed partition

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.str(group_id);
    auto each = [&](Topic& t) {
      io.str(t.name);
      io.array(t.partition_indexes, [&](int32_t& p) { io.i32(p); });
    };
    if (v >= 2) {
      io.narray(topics, each);
    } else if constexpr (IO::kDecoding) {
      std::vector<Topic> t;
      io.array(t, each);
      topics = std::move(t);
    } else {
      io.array(topics ? *topics : std::vector<Topic>{}, each);
    }
  }
};
struct OffsetFetchResponse {
  struct Partition {
    int32_t partition_index = 0;
    int64_t committed_offset = -1;
    int32_t committed_leader_epoch = -1;  // v5+
    std::optional<std::string> metadata;
    int16_t error_code = 0;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<Topic> topics;
  int16_t error_code = 0;  // v2+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 3) io.i32(throttle_time_ms);
    io.array(topics, [&](Topic& t) {
      io.str(t.name);
      io.array(t.partitions, [&](Partition& p) {
        io.i32(p.partition_index);
        io.i64(p.committed_offset);
        if (v >= 5) io.i32(p.committed_leader_epoch);
        io.nstr(p.metadata);
        io.i16(p.error_code);
      });
    });
    if (v >= 2) io.i16(error_code);
  }
};

struct ListGroupsRequest {
  template <typename IO>
  void serde(IO&, int16_t) {}
};
struct ListGroupsResponse {
  struct Group {
    std::string group_id;
    std::string protocol_type;
  };
  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::vector<Group> groups;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    io.i16(error_code);
    io.array(groups, [&](Group& g) {
      io.str(g.group_id);
      io.str(g.protocol_type);
    });
  }
};

struct DescribeGroupsRequest {
  std::vector<std::string> groups;
  bool include_authorized_operations = false;  // v3+

  template <typename IO>
  void serde(IO& io, int16_t v) {
    io.array(groups, [&](std::string& g) { io.str(g); });
    if (v >= 3) io.boolean(include_authorized_operations);
  }
};
struct DescribeGroupsResponse {
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v4+
    std::string client_id;
    std::string client_host;
    std::vector<std::byte> member_metadata;
    std::vector<std::byte> member_assignment;
  };
  struct Group {
    int16_t error_code = 0;
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<Member> members;
    int32_t authorized_operations = INT32_MIN;  // v3+
  };
  int32_t throttle_time_ms = 0;  // v1+
  std::vector<Group> groups;

  template <typename IO>
  void serde(IO& io, int16_t v) {
    if (v >= 1) io.i32(throttle_time_ms);
    io.array(groups, [&](Group& g) {
      io.i16(g.error_code);
      io.str(g.group_id);
      io.str(g.group_state);
      io.str(g.protocol_type);
      io.str(g.protocol_data);
      io.array(g.members, [&](Member& m) {
        io.str(m.member_id);
        if (v >= 4) io.nstr(m.group_instance_id);
        io.str(m.client_id);
        io.str(m.client_host);
        io.bytes(m.member_metadata);
        io.bytes(m.member_assignment);
      });
      if (v >= 3) io.i32(g.authorized_operations);
    });
  }
};

// The "consumer" protocol type's blobs (JoinGroup metadata and SyncGroup assignment).
struct ConsumerSubscription {
  int16_t version = 0;
  std::vector<std::string> topics;
  std::optional<std::vector<std::byte>> user_data;

  template <typename IO>
  void serde(IO& io, int16_t) {
    io.i16(version);
    io.array(topics, [&](std::string& t) { io.str(t); });
    io.nbytes(user_data);
  }
};
struct ConsumerAssignment {
  struct Topic {
    std::string topic;
    std::vector<int32_t> partitions;
  };
  int16_t version = 0;
  std::vector<Topic> assigned;
  std::optional<std::vector<std::byte>> user_data;

  template <typename IO>
  void serde(IO& io, int16_t) {
    io.i16(version);
    io.array(assigned, [&](Topic& t) {
      io.str(t.topic);
      io.array(t.partitions, [&](int32_t& p) { io.i32(p); });
    });
    io.nbytes(user_data);
  }
};

// Decodes a blob written by a newer client: fields this version does not know are ignored.
template <typename M>
Result<M> decode_prefix(ConstBytes body) {
  Reader r(body);
  M m;
  m.serde(r, 0);
  if (!r.ok()) return Errc::corrupt;
  return m;
}

}  // namespace samsa::kafka
