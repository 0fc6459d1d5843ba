// LeaderConnections: the node's replication::LeaderChannel — how its follower partitions reach
// their leaders. One client connection per leader broker, to the client listener the metadata
// image gives for it, opened on first use and again after it breaks.
//
// Threading: fibers of the node; each leader's connection is used by one fetcher fiber at a time.
#pragma once

#include <map>
#include <memory>

#include "client/connection.h"
#include "replication/replica_fetcher.h"
#include "server/metadata_publisher.h"

namespace samsa::server {

class LeaderConnections final : public replication::LeaderChannel {
 public:
  LeaderConnections(Runtime& rt, const MetadataPublisher& metadata, int32_t self)
      : rt_(rt), metadata_(metadata), self_(self) {}

  Result<kafka::FetchResponse> fetch(int32_t leader, kafka::FetchRequest& request, int16_t version,
                                     Deadline deadline) override;

 private:
  Result<client::Connection*> connection(int32_t leader, Deadline deadline);

  Runtime& rt_;
  const MetadataPublisher& metadata_;
  int32_t self_;
  std::map<int32_t, std::unique_ptr<client::Connection>> connections_;  // at most the cluster's brokers
};

}  // namespace samsa::server
