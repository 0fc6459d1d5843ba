// 4-byte big-endian size-prefixed frames, as every Kafka request and response is sent. Shared by
// the server loop (frame_server.h) and by clients. Every size read off the wire is checked
// against the caller's limit before anything is allocated.
//
// Callable from any fiber of the node that owns the socket.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/runtime.h"
#include "util/endian.h"

namespace samsa {

inline constexpr size_t kFrameHeaderBytes = 4;

// Reads the size prefix of the next frame. Errc::end_of_file if the stream ends cleanly before
// it; Errc::too_large for a size above frame_bytes_max or negative as a signed int32 (Kafka's
// size field is an INT32).
Result<uint32_t> read_frame_size(Socket& socket, uint32_t frame_bytes_max, Deadline deadline);

// Reads a whole frame. A stream that ends inside the frame gives Errc::end_of_file.
Result<std::vector<std::byte>> read_frame(Socket& socket, uint32_t frame_bytes_max, Deadline deadline);

// Writes one frame: the size prefix and `payload` in one writev.
Status write_frame(Socket& socket, ConstBytes payload, Deadline deadline);

}  // namespace samsa
