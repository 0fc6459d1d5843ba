#include "net/frame_server.h"

#include <limits>

#include "net/framing.h"
#include "runtime/log.h"
#include "runtime/sync.h"

namespace samsa {

Response Response::reply(std::vector<std::byte> body) {
  Response r;
  r.kind = Kind::reply;
  r.parts.push_back(ResponsePart{std::move(body), nullptr, 0, 0});
  return r;
}

struct FrameServer::Connection {
  Connection(Runtime& rt, size_t frames_max)
      : queue(rt, frames_max), responses(rt, kDeferredResponsesMax), budget_freed(rt) {}
  ConnectionInfo info;
  std::unique_ptr<Socket> socket;
  Channel<FrameBuffer> queue;
  Channel<Response> responses;  // worker to responder, in request order
  uint64_t queued_bytes = 0;  // read and queued, response not yet written
  uint64_t budget_held = 0;   // of the server's total budget: queued frames plus the one arriving
  WaitQueue budget_freed;
  FiberId reader = kNoFiber;
  FiberId worker = kNoFiber;
  FiberId responder = kNoFiber;  // spawned at the first deferred response
};

FrameServer::FrameServer(Runtime& rt, FrameHandler& handler, FrameServerLimits limits)
    : rt_(rt), handler_(handler), limits_(limits), budget_freed_total_(std::make_unique<WaitQueue>(rt)) {
  SAMSA_ASSERT(limits_.frame_bytes_max > 0);
  SAMSA_ASSERT(limits_.queued_bytes_max > 0);
  SAMSA_ASSERT(limits_.queued_bytes_total_max >= kFrameChunkBytes);  // room for one reader's chunk
  SAMSA_ASSERT(limits_.connections_max > 0);
}

// Budget is taken chunk by chunk as bytes arrive; a reader that cannot get it before the stall
// timeout gives up (its connection closes and returns what it held), so readers holding parts
// of frames can never wait on each other forever.
Status FrameServer::take_budget(Connection& c, size_t bytes) {
  while (queued_bytes_total_ + bytes > limits_.queued_bytes_total_max) {
    ++stats_.budget_waits;
    SAMSA_TRY(budget_freed_total_->wait(rt_.after(limits_.stall_timeout)));
  }
  queued_bytes_total_ += bytes;
  c.budget_held += bytes;
  return Status{};
}

void FrameServer::return_budget(Connection& c, uint64_t bytes) {
  SAMSA_ASSERT(c.budget_held >= bytes && queued_bytes_total_ >= bytes);
  c.budget_held -= bytes;
  queued_bytes_total_ -= bytes;
  budget_freed_total_->notify_all();
}

// Never suspends: by the time a crash unwinds the owner, the (newer) connection fibers are gone.
FrameServer::~FrameServer() = default;

Status FrameServer::start(const Address& listen_address) {
  SAMSA_ASSERT(listener_ == nullptr);
  SAMSA_TRY_ASSIGN(listener_, rt_.listen(listen_address));
  accept_fiber_ = rt_.spawn("frame-accept", [this] { accept_loop(); });
  return Status{};
}

const Address& FrameServer::local_address() const {
  SAMSA_ASSERT(listener_ != nullptr);
  return listener_->local_address();
}

void FrameServer::stop() {
  if (listener_) listener_->close();
  rt_.cancel(accept_fiber_);
  std::vector<FiberId> fibers{accept_fiber_};
  for (const auto& [id, c] : connections_) {
    c->socket->close();
    fibers.push_back(c->reader);
    fibers.push_back(c->worker);
    if (c->responder != kNoFiber) fibers.push_back(c->responder);
  }
  for (FiberId f : fibers) rt_.cancel(f);
  for (FiberId f : fibers) (void)rt_.join(f, Deadline::never());
}

void FrameServer::accept_loop() {
  for (;;) {
    Result<std::unique_ptr<Socket>> accepted = listener_->accept(Deadline::never());
    if (!accepted.ok()) {
      if (accepted.error() == Errc::closed || accepted.error() == Errc::cancelled) return;
      logf(rt_, LogLevel::warn, "accept failed: {}", errc_name(accepted.error()));
      if (!rt_.sleep(10ms).ok()) return;  // e.g. out of descriptors: back off, don't spin
      continue;
    }
    const std::string peer = (*accepted)->peer_address().host;
    if (connections_.size() >= limits_.connections_max || connections_per_peer_[peer] >= limits_.connections_per_peer_max) {
      ++stats_.connections_refused;
      (*accepted)->close();
      continue;
    }
    ++connections_per_peer_[peer];
    ++stats_.connections_accepted;
    auto c = std::make_shared<Connection>(rt_, limits_.queued_frames_max);
    c->info.id = next_connection_id_++;
    c->info.peer = (*accepted)->peer_address();
    c->socket = std::move(*accepted);
    connections_.emplace(c->info.id, c);
    c->reader = rt_.spawn("conn-" + std::to_string(c->info.id) + "-reader", [this, c] { reader_loop(c); });
  }
}

void FrameServer::reader_loop(const std::shared_ptr<Connection>& c) {
  c->worker = rt_.spawn("conn-" + std::to_string(c->info.id) + "-worker", [this, c] { worker_loop(c); });
  Socket& socket = *c->socket;
  bool bad_frame = false;
  for (;;) {
    Result<uint32_t> size = read_frame_size(socket, limits_.frame_bytes_max, rt_.after(limits_.idle_timeout));
    if (!size.ok()) {
      if (size.error() == Errc::too_large) {
        ++stats_.frames_rejected;
        bad_frame = true;
        logf(rt_, LogLevel::warn, "connection {} from {}: frame size over {} bytes, closing", c->info.id,
             c->info.peer.to_string(), limits_.frame_bytes_max);
      }
      break;
    }
    // Pipelining: wait while this connection has more than its share unanswered; a frame larger
    // than the whole share is admitted alone.
    bool budget_ok = true;
    while (c->queued_bytes > 0 && c->queued_bytes + *size > limits_.queued_bytes_max) {
      if (!c->budget_freed.wait(rt_.after(limits_.idle_timeout)).ok()) { budget_ok = false; break; }
    }
    if (!budget_ok) break;
    uint64_t taken = 0;  // budget this frame holds so far
    const FrameBudget budget{[this, &c, &taken](size_t n) {
                               SAMSA_TRY(take_budget(*c, n));
                               taken += n;
                               return Status{};
                             },
                             [this, &c, &taken](size_t n) {
                               taken -= n;
                               return_budget(*c, n);
                             }};
    FrameBuffer frame;
    Status body = read_frame_body(socket, *size, frame, [this] { return rt_.after(limits_.stall_timeout); }, &budget);
    if (!body.ok()) {
      return_budget(*c, taken);  // the partial frame goes
      if (body.code() == Errc::end_of_file) ++stats_.frames_truncated;
      if (body.code() == Errc::timed_out) ++stats_.frames_stalled;
      bad_frame = body.code() == Errc::end_of_file || body.code() == Errc::timed_out;
      break;
    }
    const uint64_t frame_bytes = frame.size();
    c->queued_bytes += frame_bytes;
    if (!c->queue.send(std::move(frame), Deadline::never()).ok()) {
      c->queued_bytes -= frame_bytes;
      return_budget(*c, frame_bytes);
      break;
    }
  }
  if (bad_frame) socket.close();  // answer nothing more on a connection that broke framing
  c->queue.close();               // the worker answers what is queued, then exits
  (void)rt_.join(c->worker, Deadline::never());
  socket.close();
  // Frames the worker never took (it was cancelled): their budget comes back here; the worker
  // returns the budget of every frame it took.
  for (;;) {
    Result<FrameBuffer> left = c->queue.receive(Deadline{rt_.now()});  // closed: never waits
    if (!left.ok()) break;
    c->queued_bytes -= left->size();
    return_budget(*c, left->size());
  }
  handler_.on_close(c->info);
  auto per_peer = connections_per_peer_.find(c->info.peer.host);
  if (per_peer != connections_per_peer_.end() && --per_peer->second == 0) connections_per_peer_.erase(per_peer);
  connections_.erase(c->info.id);
}

void FrameServer::worker_loop(const std::shared_ptr<Connection>& c) {
  for (;;) {
    Result<FrameBuffer> frame = c->queue.receive(Deadline::never());
    if (!frame.ok()) break;
    const uint64_t frame_bytes = frame->size();
    // Whatever happens to this request (answered, or the fiber cancelled or unwound by a crash),
    // its budget returns exactly once, and never by suspending.
    struct Returner {
      FrameServer* server;
      Connection* c;
      uint64_t bytes;
      ~Returner() {
        SAMSA_ASSERT(c->queued_bytes >= bytes);
        c->queued_bytes -= bytes;
        server->return_budget(*c, bytes);
        c->budget_freed.notify_all();
      }
    } returner{this, c.get(), frame_bytes};
    // A slow handler lets requests pile up behind it: the byte budget and ordering get tested.
    if (rt_.buggify("frame_server.slow_worker") && !rt_.sleep(std::chrono::milliseconds(20)).ok()) break;
    Response response = handler_.handle(c->info, std::move(*frame));
    ++stats_.frames_handled;
    if (!answer(c, std::move(response))) break;
  }
  c->queue.close();  // a reader blocked on a full queue must not wait forever
  if (c->responder != kNoFiber) {
    c->responses.close();  // the responder writes what it holds, then exits
    (void)rt_.join(c->responder, Deadline::never());
  }
}

bool FrameServer::answer(const std::shared_ptr<Connection>& c, Response response) {
  const bool deferred = response.kind == Response::Kind::deferred;
  if (deferred) ++stats_.responses_deferred;
  if (!deferred && c->responder == kNoFiber) return send_ready(*c, response);
  // Once a response is deferred, every later one queues behind it, so answers keep their order.
  if (c->responder == kNoFiber) {
    if (rt_.cancelled()) return false;  // stop() is gathering this connection's fibers
    c->responder = rt_.spawn("conn-" + std::to_string(c->info.id) + "-responder", [this, c] { responder_loop(c); });
  }
  const bool closing = response.kind == Response::Kind::close;
  // The responder closes the channel when it stops early: the connection is done.
  if (!c->responses.send(std::move(response), Deadline::never()).ok()) return false;
  return !closing;
}

bool FrameServer::send_ready(Connection& c, const Response& response) {
  SAMSA_ASSERT(response.kind != Response::Kind::deferred);
  Status written = Status{};
  if (response.kind == Response::Kind::reply) written = write_response(c, response);
  // Legal: a server may close any connection after answering (idle reaping); clients reconnect.
  const bool close_anyway = rt_.buggify("frame_server.close_after_response");
  if (response.kind == Response::Kind::close || !written.ok() || close_anyway) {
    c.socket->close();  // also fails the reader's pending read
    return false;
  }
  return true;
}

void FrameServer::responder_loop(const std::shared_ptr<Connection>& c) {
  for (;;) {
    Result<Response> next = c->responses.receive(Deadline::never());
    if (!next.ok()) break;
    const Response response = next->kind == Response::Kind::deferred ? next->finish() : std::move(*next);
    if (!send_ready(*c, response)) break;
  }
  c->responses.close();  // the worker's next hand-off fails; what is left is never answered
}

Status FrameServer::write_response(Connection& c, const Response& response) {
  uint64_t total = 0;
  for (const ResponsePart& p : response.parts) total += p.size();
  if (total > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return Errc::too_large;
  std::byte header[kFrameHeaderBytes];
  put_u32_be(header, static_cast<uint32_t>(total));
  const Deadline deadline = rt_.after(limits_.write_timeout);
  std::vector<ConstBytes> pending{ConstBytes(header)};
  for (const ResponsePart& p : response.parts) {
    if (!p.file) {
      pending.emplace_back(p.bytes);
      continue;
    }
    if (!pending.empty()) SAMSA_TRY(c.socket->writev_all(pending, deadline));
    pending.clear();
    if (Status sent = rt_.send_file(*c.socket, *p.file, p.file_offset, p.file_length, deadline); !sent.ok()) {
      if (sent.code() == Errc::io_error) handler_.on_file_error(*p.file, sent);
      return sent;
    }
  }
  if (!pending.empty()) SAMSA_TRY(c.socket->writev_all(pending, deadline));
  return Status{};
}

}  // namespace samsa
