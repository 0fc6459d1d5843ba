#include "net/framing.h"

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

Result<std::vector<std::byte>> read_frame(Socket& socket, uint32_t frame_bytes_max, Deadline deadline) {
  uint32_t size = 0;
  SAMSA_TRY_ASSIGN(size, read_frame_size(socket, frame_bytes_max, deadline));
  std::vector<std::byte> frame(size);
  SAMSA_TRY(read_exact(socket, frame, deadline));
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
