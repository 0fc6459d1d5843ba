#include "client/compression.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "util/endian.h"

namespace samsa::client {

namespace {

Result<std::vector<std::byte>> gunzip(ConstBytes in, size_t max) {
  z_stream z{};
  if (inflateInit2(&z, 32 + MAX_WBITS) != Z_OK) return Errc::resource_exhausted;  // 32: gzip or zlib header
  std::vector<std::byte> out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() >= max) { inflateEnd(&z); return Errc::too_large; }
    const size_t chunk = std::min<size_t>(64 * 1024, max - out.size());
    const size_t at = out.size();
    out.resize(at + chunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(at + chunk - z.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END) { inflateEnd(&z); return Errc::corrupt; }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) { inflateEnd(&z); return Errc::corrupt; }  // truncated
  }
  inflateEnd(&z);
  return out;
}

Result<std::vector<std::byte>> unsnappy_raw(ConstBytes in, size_t max, std::vector<std::byte>& out) {
  size_t len = 0;
  if (snappy_uncompressed_length(reinterpret_cast<const char*>(in.data()), in.size(), &len) != SNAPPY_OK) return Errc::corrupt;
  if (out.size() + len > max) return Errc::too_large;
  const size_t at = out.size();
  out.resize(at + len);
  if (snappy_uncompress(reinterpret_cast<const char*>(in.data()), in.size(), reinterpret_cast<char*>(out.data() + at), &len) != SNAPPY_OK) {
    return Errc::corrupt;
  }
  out.resize(at + len);
  return std::vector<std::byte>{};
}

// Java clients frame snappy in xerial's format: magic "\x82SNAPPY\0", two version ints, then
// blocks each prefixed by a big-endian int32 length.
Result<std::vector<std::byte>> unsnappy(ConstBytes in, size_t max) {
  static constexpr unsigned char kXerial[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
  std::vector<std::byte> out;
  if (in.size() >= 16 && std::memcmp(in.data(), kXerial, 8) == 0) {
    size_t pos = 16;
    while (pos < in.size()) {
      if (in.size() - pos < 4) return Errc::corrupt;
      const uint32_t n = get_u32_be(&in[pos]);
      pos += 4;
      if (n > in.size() - pos) return Errc::corrupt;
      Result<std::vector<std::byte>> r = unsnappy_raw(in.subspan(pos, n), max, out);
      if (!r.ok()) return r.status();
      pos += n;
    }
    return out;
  }
  Result<std::vector<std::byte>> r = unsnappy_raw(in, max, out);
  if (!r.ok()) return r.status();
  return out;
}

Result<std::vector<std::byte>> unlz4(ConstBytes in, size_t max) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return Errc::resource_exhausted;
  std::vector<std::byte> out;
  size_t pos = 0;
  size_t hint = 1;
  while (pos < in.size() && hint != 0) {
    if (out.size() >= max) { LZ4F_freeDecompressionContext(ctx); return Errc::too_large; }
    const size_t at = out.size();
    size_t dst = std::min<size_t>(64 * 1024, max - at);
    size_t src = in.size() - pos;
    out.resize(at + dst);
    hint = LZ4F_decompress(ctx, out.data() + at, &dst, in.data() + pos, &src, nullptr);
    out.resize(at + dst);
    if (LZ4F_isError(hint)) { LZ4F_freeDecompressionContext(ctx); return Errc::corrupt; }
    pos += src;
    if (src == 0 && dst == 0) break;
  }
  LZ4F_freeDecompressionContext(ctx);
  if (hint != 0) return Errc::corrupt;  // the frame did not end
  return out;
}

Result<std::vector<std::byte>> unzstd(ConstBytes in, size_t max) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (ds == nullptr) return Errc::resource_exhausted;
  std::vector<std::byte> out;
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  size_t rc = 1;
  while (src.pos < src.size || rc != 0) {
    if (out.size() >= max) { ZSTD_freeDStream(ds); return Errc::too_large; }
    const size_t at = out.size();
    const size_t chunk = std::min<size_t>(64 * 1024, max - at);
    out.resize(at + chunk);
    ZSTD_outBuffer dst{out.data() + at, chunk, 0};
    rc = ZSTD_decompressStream(ds, &dst, &src);
    out.resize(at + dst.pos);
    if (ZSTD_isError(rc)) { ZSTD_freeDStream(ds); return Errc::corrupt; }
    if (src.pos == src.size && dst.pos == 0 && rc != 0) { ZSTD_freeDStream(ds); return Errc::corrupt; }
  }
  ZSTD_freeDStream(ds);
  return out;
}

}  // namespace

Result<std::vector<std::byte>> decompress(Compression codec, ConstBytes in, size_t max) {
  switch (codec) {
    case Compression::none: return std::vector<std::byte>(in.begin(), in.end());
    case Compression::gzip: return gunzip(in, max);
    case Compression::snappy: return unsnappy(in, max);
    case Compression::lz4: return unlz4(in, max);
    case Compression::zstd: return unzstd(in, max);
  }
  return Errc::corrupt;
}

Result<std::vector<std::byte>> compress(Compression codec, ConstBytes in) {
  std::vector<std::byte> out;
  switch (codec) {
    case Compression::none: return std::vector<std::byte>(in.begin(), in.end());
    case Compression::gzip: {
      z_stream z{};
      if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return Errc::resource_exhausted;
      out.resize(deflateBound(&z, static_cast<uLong>(in.size())) + 32);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      const int rc = deflate(&z, Z_FINISH);
      out.resize(out.size() - z.avail_out);
      deflateEnd(&z);
      if (rc != Z_STREAM_END) return Errc::io_error;
      return out;
    }
    case Compression::snappy: {
      size_t n = snappy_max_compressed_length(in.size());
      out.resize(n);
      if (snappy_compress(reinterpret_cast<const char*>(in.data()), in.size(), reinterpret_cast<char*>(out.data()), &n) != SNAPPY_OK) return Errc::io_error;
      out.resize(n);
      return out;
    }
    case Compression::lz4: {
      out.resize(LZ4F_compressFrameBound(in.size(), nullptr));
      const size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr);
      if (LZ4F_isError(n)) return Errc::io_error;
      out.resize(n);
      return out;
    }
    case Compression::zstd: {
      out.resize(ZSTD_compressBound(in.size()));
      const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
      if (ZSTD_isError(n)) return Errc::io_error;
      out.resize(n);
      return out;
    }
  }
  return Errc::invalid_argument;
}

Result<std::vector<Record>> decode_batch_records(ConstBytes batch) {
  BatchHeader h;
  SAMSA_TRY_ASSIGN(h, parse_batch_header(batch));
  if (h.total_bytes() != batch.size()) return Errc::corrupt;
  if (h.compression() == Compression::none) return decode_records(batch);
  std::vector<std::byte> plain;
  SAMSA_TRY_ASSIGN(plain, decompress(h.compression(), batch.subspan(kBatchHeaderBytes)));
  return decode_record_list(plain, h.records_count, h.base_offset, h.base_timestamp);
}

}  // namespace samsa::client

namespace samsa::client {
Result<std::vector<std::byte>> compress_batch(ConstBytes batch, Compression codec) {
  if (codec == Compression::none) return std::vector<std::byte>(batch.begin(), batch.end());
  std::vector<std::byte> packed;
  SAMSA_TRY_ASSIGN(packed, compress(codec, batch.subspan(kBatchHeaderBytes)));
  std::vector<std::byte> out(batch.begin(), batch.begin() + kBatchHeaderBytes);
  out.insert(out.end(), packed.begin(), packed.end());
  const uint16_t attrs = static_cast<uint16_t>((get_u16_be(&out[batch_field::attributes]) & ~0x7u) | static_cast<uint16_t>(codec));
  put_u16_be(&out[batch_field::attributes], attrs);
  put_u32_be(&out[batch_field::length], static_cast<uint32_t>(out.size() - kBatchLengthPrefixBytes));
  put_u32_be(&out[batch_field::crc], compute_batch_crc(out));
  return out;
}
}  // namespace samsa::client
