// FrameServer: the request loop the broker runs on every listener. It accepts connections,
// reads size-prefixed frames up to a limit, hands each to a FrameHandler and writes responses in
// request order. Pipelined requests queue up to a per-connection byte budget; past it the reader
// stops reading, so a client that never reads its responses cannot grow the broker's memory.
//
// Like Kafka, one request per connection is handled at a time, and responses go out in request
// order; concurrency comes from many connections. One step beyond Kafka: a handler may defer its
// answer (Response::deferred) once the request has had its effect, and the next request is
// handled while a third fiber, the responder, waits for that answer. Appends stay in request
// order; a producer's pipelined requests then share one fsync (group commit) or one replication
// round instead of waiting for each other's.
//
// Ownership and threading: owned by the node's main fiber; every method is called from fibers of
// that node. The handler must outlive the server. Per connection there are two fibers: a reader
// (owns the socket, reads and queues frames) and a worker (calls the handler, writes responses);
// the responder is spawned at a connection's first deferred response and writes every response
// from then on.
// An oversize, negative-size or truncated frame closes the connection; the server goes on.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/framing.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace samsa {

struct FrameServerLimits {
  uint32_t frame_bytes_max = 100 * 1024 * 1024;       // Kafka's socket.request.max.bytes
  uint64_t queued_bytes_max = 16 * 1024 * 1024;       // per connection: read but not yet answered
  // All connections together (Kafka's queued.max.request.bytes): request bytes held in memory.
  // A reader takes budget as its bytes arrive, so claiming a large frame costs nothing.
  uint64_t queued_bytes_total_max = 256 * 1024 * 1024;
  size_t queued_frames_max = 128;
  size_t connections_max = 4096;
  size_t connections_per_peer_max = SIZE_MAX;  // Kafka's max.connections.per.ip
  Duration idle_timeout = std::chrono::minutes(10);   // Kafka's connections.max.idle.ms
  // A frame that has begun must keep arriving (and find budget) at least this often, or its
  // connection is closed and what it held is freed.
  Duration stall_timeout = std::chrono::seconds(30);
  Duration write_timeout = std::chrono::seconds(30);
};

struct ConnectionInfo {
  uint64_t id = 0;
  Address peer;
};

// One piece of a response body: bytes, or a range of a file sent with Runtime::send_file.
struct ResponsePart {
  std::vector<std::byte> bytes;
  std::shared_ptr<File> file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;

  uint64_t size() const { return file ? file_length : bytes.size(); }
};

struct Response {
  // deferred: the request is done with but its answer is not ready (a produce waiting for its
  // fsync or its replicas). The server goes on to the connection's next request and calls
  // `finish` on the connection's responder fiber, in request order; it may block, and returns a
  // reply, no_reply or close. What it captures must be small: up to kDeferredResponsesMax of
  // them wait per connection, outside the request byte budget.
  enum class Kind : uint8_t { reply, no_reply, close, deferred } kind = Kind::reply;
  std::vector<ResponsePart> parts;  // the body; the server writes the size prefix
  std::function<Response()> finish;

  static Response reply(std::vector<std::byte> body);
  static Response no_reply() { return Response{Kind::no_reply, {}, {}}; }
  static Response close() { return Response{Kind::close, {}, {}}; }
  static Response deferred(std::function<Response()> finish) { return Response{Kind::deferred, {}, std::move(finish)}; }
};

class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  // Called on the connection's worker fiber, one frame at a time, in arrival order. May block
  // (a long-polling fetch does).
  virtual Response handle(const ConnectionInfo& connection, FrameBuffer frame) = 0;
  virtual void on_close(const ConnectionInfo& /*connection*/) {}
  // A file range of a response could not be read (EIO while sending it): the connection is
  // closed, and the handler may take whatever owns the file out of service.
  virtual void on_file_error(const File& /*file*/, Status /*cause*/) {}
};

struct FrameServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // over connections_max or connections_per_peer_max
  uint64_t frames_handled = 0;
  uint64_t frames_rejected = 0;      // oversize or negative size
  uint64_t frames_truncated = 0;
  uint64_t frames_stalled = 0;       // closed: a begun frame stopped arriving
  uint64_t budget_waits = 0;         // a reader waited for total budget
  uint64_t responses_deferred = 0;
};

class FrameServer {
 public:
  // Responses handed to a connection's responder and not yet written; past it the worker waits.
  static constexpr size_t kDeferredResponsesMax = 8;

  FrameServer(Runtime& rt, FrameHandler& handler, FrameServerLimits limits);
  ~FrameServer();
  FrameServer(const FrameServer&) = delete;
  FrameServer& operator=(const FrameServer&) = delete;

  // Binds and starts the accept fiber.
  Status start(const Address& listen_address);
  // Closes the listener and cancels every connection's fibers; returns once they are gone.
  void stop();

  const Address& local_address() const;
  size_t connection_count() const { return connections_.size(); }
  uint64_t queued_bytes_total() const { return queued_bytes_total_; }
  const FrameServerStats& stats() const { return stats_; }

 private:
  struct Connection;
  void accept_loop();
  void reader_loop(const std::shared_ptr<Connection>& c);
  void worker_loop(const std::shared_ptr<Connection>& c);
  void responder_loop(const std::shared_ptr<Connection>& c);
  // Writes the response now, or hands it to the responder; false: the connection is done.
  bool answer(const std::shared_ptr<Connection>& c, Response response);
  // Writes (or for no_reply, skips) a response that is not deferred; false: close the connection.
  bool send_ready(Connection& c, const Response& response);
  Status write_response(Connection& c, const Response& response);
  Status take_budget(Connection& c, size_t bytes);
  void return_budget(Connection& c, uint64_t bytes);

  Runtime& rt_;
  FrameHandler& handler_;
  FrameServerLimits limits_;
  std::unique_ptr<Listener> listener_;
  FiberId accept_fiber_ = kNoFiber;
  uint64_t next_connection_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::map<std::string, size_t> connections_per_peer_;  // by peer host
  uint64_t queued_bytes_total_ = 0;
  std::unique_ptr<WaitQueue> budget_freed_total_;
  FrameServerStats stats_;
};

}  // namespace samsa
