// The Kafka messages samsa speaks. They are described in schema/*.def (written from the published
// protocol guide and KIPs) and generated at build time into protocol/generated/*.h: one struct
// per request, response or data record, whose serde(io, version) is the description of its wire
// layout. The same code decodes (Reader) and encodes (Writer), so broker and client can never
// disagree. This header includes them all and adds the helpers to encode and decode bodies and
// headers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/generated/all_messages.h"
#include "protocol/wire.h"

namespace samsa::kafka {

// Encodes a message body at a version.
template <typename M>
std::vector<std::byte> encode(M& m, int16_t version) {
  Writer w;
  m.serde(w, version);
  return w.take_bytes();
}

// Decodes body, a part of *frame, with RECORDS fields as views into the frame (shared with the
// message) rather than copies; with a null frame they are copies. Errc::corrupt if the body is
// malformed or has bytes left over.
template <typename M>
Result<M> decode_shared(ConstBytes body, std::shared_ptr<const FrameBuffer> frame, int16_t version) {
  Reader r(body, std::move(frame));
  M m;
  m.serde(r, version);
  if (!r.ok() || r.remaining() != 0) return Errc::corrupt;
  return m;
}

// Decodes a whole body that owns no frame: RECORDS fields are copies.
template <typename M>
Result<M> decode(ConstBytes body, int16_t version) {
  return decode_shared<M>(body, nullptr, version);
}

// Decodes a blob written by a newer client at version 0: fields it appends are ignored.
template <typename M>
Result<M> decode_prefix(ConstBytes body) {
  Reader r(body);
  M m;
  m.serde(r, 0);
  if (!r.ok()) return Errc::corrupt;
  return m;
}

// Request header v2 for flexible versions of an API, v1 otherwise.
inline int16_t request_header_version(ApiKey key, int16_t version) { return is_flexible(key, version) ? 2 : 1; }
// Response header v1 for flexible versions, v0 otherwise; ApiVersions always answers in v0 so
// that a client can parse the answer before it knows what the broker supports.
inline int16_t response_header_version(ApiKey key, int16_t version) {
  return key != ApiKey::api_versions && is_flexible(key, version) ? 1 : 0;
}

}  // namespace samsa::kafka
