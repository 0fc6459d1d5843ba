#include "net/framing.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace samsa {

Result<uint32_t> read_frame_size(Socket& socket, uint32_t frame_bytes_max, Deadline deadline) {
  std::byte header[kFrameHeaderBytes];
  SAMSA_TRY(read_exact(socket, header, deadline));
  uint32_t size = get_u32_be(header);
  if (size > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) return Errc::too_large;
  if (size > frame_bytes_max) return Errc::too_large;
  return size;
}

namespace {

// vector::reserve would move the bytes one by one: UninitializedAllocator's construct() keeps
// libstdc++ off its memmove path, and that copy loop was 40% of a loaded broker's CPU.
void grow_keeping(FrameBuffer& b, size_t capacity) {
  FrameBuffer next;
  next.reserve(capacity);
  next.resize(b.size());  // uninitialised, then overwritten
  if (!b.empty()) std::memcpy(next.data(), b.data(), b.size());
  b.swap(next);
}

}  // namespace

Status read_frame_body(Socket& socket, uint32_t size, FrameBuffer& out, const std::function<Deadline()>& read_deadline,
                       const FrameBudget* budget) {
  out.clear();
  if (out.capacity() < size) out.reserve(std::min<size_t>(size, kFrameReserveBytesMax));
  size_t chunk = kFrameChunkMinBytes;
  while (out.size() < size) {
    // Unbudgeted (a client reading its answer): the rest at once, into the reserved buffer.
    const size_t want = budget == nullptr && out.capacity() >= size ? size - out.size() : std::min<size_t>(chunk, size - out.size());
    if (budget != nullptr) SAMSA_TRY(budget->take(want));
    const size_t at = out.size();
    if (out.capacity() < at + want) grow_keeping(out, std::min<size_t>(size, std::max(out.capacity() * 2, at + want)));
    out.resize(at + want);  // uninitialised: about to be overwritten
    Result<size_t> n = socket.read_some(Bytes(out.data() + at, want), read_deadline());
    const size_t got = n.ok() ? *n : 0;
    out.resize(at + got);
    if (budget != nullptr && got < want) budget->give_back(want - got);
    if (!n.ok()) return n.status();
    if (got == want) chunk = std::min(chunk * 2, kFrameChunkBytes);
  }
  return Status{};
}

Result<FrameBuffer> read_frame(Socket& socket, uint32_t frame_bytes_max, Deadline deadline) {
  uint32_t size = 0;
  SAMSA_TRY_ASSIGN(size, read_frame_size(socket, frame_bytes_max, deadline));
  FrameBuffer frame;
  SAMSA_TRY(read_frame_body(socket, size, frame, [deadline] { return deadline; }, nullptr));
  return frame;
}

Status write_frame(Socket& socket, ConstBytes payload, Deadline deadline) {
  SAMSA_ASSERT(payload.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  std::byte header[kFrameHeaderBytes];
  put_u32_be(header, static_cast<uint32_t>(payload.size()));
  ConstBytes parts[2] = {ConstBytes(header), payload};
  return socket.writev_all(parts, deadline);
}

}  // namespace samsa
