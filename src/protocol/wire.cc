#include "protocol/wire.h"

namespace samsa::kafka {

void Reader::str(std::string& s) {
  int16_t n = 0;
  i16(n);
  if (n < 0 || !charge(static_cast<size_t>(n)) || !take(static_cast<size_t>(n))) {
    ok_ = false;
    s.clear();
    return;
  }
  s.assign(reinterpret_cast<const char*>(&data_[pos_ - static_cast<size_t>(n)]), static_cast<size_t>(n));
}

void Reader::nstr(std::optional<std::string>& s) {
  int16_t n = 0;
  i16(n);
  if (n == -1) {
    s.reset();
    return;
  }
  if (n < 0 || !charge(static_cast<size_t>(n)) || !take(static_cast<size_t>(n))) {
    ok_ = false;
    s.reset();
    return;
  }
  s.emplace(reinterpret_cast<const char*>(&data_[pos_ - static_cast<size_t>(n)]), static_cast<size_t>(n));
}

void Reader::bytes(std::vector<std::byte>& b) {
  int32_t n = 0;
  i32(n);
  b.clear();
  if (n < 0 || !charge(static_cast<size_t>(n)) || !take(static_cast<size_t>(n))) {
    ok_ = false;
    return;
  }
  b.assign(data_.begin() + static_cast<ptrdiff_t>(pos_) - n, data_.begin() + static_cast<ptrdiff_t>(pos_));
}

void Reader::nbytes(std::optional<std::vector<std::byte>>& b) {
  RecordsField r;
  records(r);
  if (r.null) b.reset(); else b = std::move(r.bytes);
}

void Reader::records(RecordsField& r) {
  int32_t n = 0;
  i32(n);
  r = RecordsField{};
  if (n == -1) {
    r.null = true;
    return;
  }
  if (n < 0 || !charge(static_cast<size_t>(n)) || !take(static_cast<size_t>(n))) {
    ok_ = false;
    return;
  }
  r.bytes.assign(data_.begin() + static_cast<ptrdiff_t>(pos_) - n, data_.begin() + static_cast<ptrdiff_t>(pos_));
}

void Writer::str(const std::string& s) {
  SAMSA_ASSERT(s.size() <= INT16_MAX);
  i16(static_cast<int16_t>(s.size()));
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  buf_.insert(buf_.end(), p, p + s.size());
}

void Writer::nstr(const std::optional<std::string>& s) {
  if (!s) {
    i16(-1);
    return;
  }
  str(*s);
}

void Writer::bytes(const std::vector<std::byte>& b) {
  i32(static_cast<int32_t>(b.size()));
  buf_.insert(buf_.end(), b.begin(), b.end());
}

void Writer::nbytes(const std::optional<std::vector<std::byte>>& b) {
  if (!b) {
    i32(-1);
    return;
  }
  bytes(*b);
}

void Writer::records(const RecordsField& r) {
  if (r.null) {
    i32(-1);
    return;
  }
  SAMSA_ASSERT(r.size() <= INT32_MAX);
  i32(static_cast<int32_t>(r.size()));
  if (!r.file) {
    buf_.insert(buf_.end(), r.bytes.begin(), r.bytes.end());
    return;
  }
  if (r.file_length == 0) return;
  flushed_bytes_ += buf_.size();
  parts_.push_back(ResponsePart{std::move(buf_), nullptr, 0, 0});
  buf_.clear();
  parts_.push_back(ResponsePart{{}, r.file, r.file_offset, r.file_length});
  flushed_bytes_ += r.file_length;
}

uint64_t Writer::size() const { return flushed_bytes_ + buf_.size(); }

std::vector<ResponsePart> Writer::take_parts() {
  if (!buf_.empty()) parts_.push_back(ResponsePart{std::move(buf_), nullptr, 0, 0});
  buf_.clear();
  flushed_bytes_ = 0;
  return std::move(parts_);
}

std::vector<std::byte> Writer::take_bytes() {
  SAMSA_ASSERT(parts_.empty());
  flushed_bytes_ = 0;
  return std::move(buf_);
}

}  // namespace samsa::kafka
