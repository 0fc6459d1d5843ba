// ControllerApis: the Kafka APIs a controller serves on its CONTROLLER listener besides the
// quorum's own (Vote, Fetch, ... are RaftRequestHandler's, which hands every other frame here):
// ApiVersions, BrokerRegistration, BrokerHeartbeat, AlterPartition (partition leaders changing
// an ISR), and the CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs and
// IncrementalAlterConfigs that brokers forward (or a tool sends with --bootstrap-controller).
//
// As on the broker listener: an unknown API, an unadvertised version or a malformed body closes
// the connection; ApiVersions at an unknown version answers UNSUPPORTED_VERSION in a v0 body.
//
// Threading: connection fibers of the node; calls into QuorumController suspend.
#pragma once

#include "net/frame_server.h"
#include "protocol/messages.h"
#include "server/quorum_controller.h"

namespace samsa::server {

class ControllerApis final : public FrameHandler {
 public:
  explicit ControllerApis(QuorumController& controller) : controller_(controller) {}
  Response handle(const ConnectionInfo& connection, FrameBuffer frame) override;

 private:
  Response dispatch(const kafka::RequestHeader& h, ConstBytes body);
  QuorumController& controller_;
};

}  // namespace samsa::server
