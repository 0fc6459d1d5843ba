// 4-byte big-endian size-prefixed frames, as every Kafka request and response is sent. Shared by
// the server loop (frame_server.h) and by clients. Every size read off the wire is checked
// against the caller's limit before anything is allocated.
//
// Callable from any fiber of the node that owns the socket.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/runtime.h"
#include "util/endian.h"

namespace samsa {

inline constexpr size_t kFrameHeaderBytes = 4;
// Frames are read in chunks that start small and double up to the largest, the buffer growing
// as bytes arrive.
inline constexpr size_t kFrameChunkMinBytes = 4 * 1024;
inline constexpr size_t kFrameChunkBytes = 64 * 1024;
// A frame's buffer is reserved up to this size before its bytes arrive (address space only: the
// buffer is never zero-filled, so a page costs memory once bytes land in it). Frames up to it are
// read without a copy; larger ones grow as they arrive. Kafka's largest default request
// (max.request.size) and a follower's fetch of one partition (replica.fetch.max.bytes) are 1 MiB.
inline constexpr size_t kFrameReserveBytesMax = 2 * 1024 * 1024;

// Memory budget for frame bodies: take(n) before reading at most n bytes (may wait; an error
// stops the read), give_back(n) for what was taken but did not arrive.
struct FrameBudget {
  std::function<Status(size_t)> take;
  std::function<void(size_t)> give_back;
};

// An allocator whose resize() leaves new bytes uninitialised: a frame buffer is always
// overwritten by the bytes read into it, so zero-filling it first is pure waste.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}  // NOLINT: as std::allocator
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using FrameBuffer = std::vector<std::byte, UninitializedAllocator<std::byte>>;

// Reads the size prefix of the next frame. Errc::end_of_file if the stream ends cleanly before
// it; Errc::too_large for a size above frame_bytes_max or negative as a signed int32 (Kafka's
// size field is an INT32).
Result<uint32_t> read_frame_size(Socket& socket, uint32_t frame_bytes_max, Deadline deadline);

// Reads `size` bytes of a frame body into `out`: reserved up to kFrameReserveBytesMax, grown past
// it only as the bytes arrive, never zero-filled, so a peer that claims a huge frame and sends
// little costs little. read_deadline() gives the deadline of each read (a stall timeout measured from
// now, or one fixed deadline). `budget`, if given, is charged with what arrives (plus at most one
// chunk reserved while a read is pending). Errc::end_of_file if the stream ends inside the frame.
Status read_frame_body(Socket& socket, uint32_t size, FrameBuffer& out, const std::function<Deadline()>& read_deadline,
                       const FrameBudget* budget);

// Reads a whole frame. A stream that ends inside the frame gives Errc::end_of_file.
Result<FrameBuffer> read_frame(Socket& socket, uint32_t frame_bytes_max, Deadline deadline);

// Writes one frame: the size prefix and `payload` in one writev.
Status write_frame(Socket& socket, ConstBytes payload, Deadline deadline);

}  // namespace samsa
