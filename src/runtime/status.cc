#include "runtime/status.h"

namespace samsa {
const char* errc_name(Errc e) {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::timed_out: return "timed_out";
    case Errc::cancelled: return "cancelled";
    case Errc::closed: return "closed";
    case Errc::end_of_file: return "end_of_file";
    case Errc::connection_refused: return "connection_refused";
    case Errc::connection_reset: return "connection_reset";
    case Errc::address_in_use: return "address_in_use";
    case Errc::host_unreachable: return "host_unreachable";
    case Errc::io_error: return "io_error";
    case Errc::no_space: return "no_space";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::too_large: return "too_large";
    case Errc::corrupt: return "corrupt";
    case Errc::resource_exhausted: return "resource_exhausted";
    case Errc::out_of_range: return "out_of_range";
    case Errc::unavailable: return "unavailable";
  }
  return "unknown";
}
}  // namespace samsa
