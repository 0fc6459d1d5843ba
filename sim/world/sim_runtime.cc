#include "sim/world/sim_runtime.h"

#include <algorithm>
#include <vector>

namespace samsa::sim {

// The simulated kernel has no zero-copy path to model; sending the file's bytes through the
// socket in chunks gives peers exactly what sendfile(2) would.
Status SimRuntime::send_file(Socket& socket, File& file, uint64_t offset, uint64_t length, Deadline deadline) {
  constexpr uint64_t kChunkBytes = 64 * 1024;
  std::vector<std::byte> chunk;
  while (length > 0) {
    chunk.resize(std::min(length, kChunkBytes));
    size_t n = 0;
    SAMSA_TRY_ASSIGN(n, file.pread(offset, chunk));
    if (n == 0) return Errc::end_of_file;
    SAMSA_TRY(socket.write_all(ConstBytes(chunk.data(), n), deadline));
    offset += n;
    length -= n;
  }
  return Status{};
}

}  // namespace samsa::sim
