// Filler: an IO for a message's serde(io, version) that writes deterministic, non-default values
// into exactly the fields that exist at that version (arrays of one or two elements, nullable
// fields sometimes null where the version allows it, every known tagged field). Together with the
// generated for_each_message it lets a test build a full sample of every message at every
// version without naming a single field, so a message added to the schema is covered at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace samsa::kafka {

class Filler {
 public:
  static constexpr bool kDecoding = true;
  explicit Filler(uint32_t seed) : n_(seed * 7919 + 1) {}

  void i8(int8_t& v) { v = static_cast<int8_t>(next() % 100 + 1); }
  void i16(int16_t& v) { v = static_cast<int16_t>(next() % 30000 + 1); }
  void i32(int32_t& v) { v = static_cast<int32_t>(next()); }
  void i64(int64_t& v) { v = static_cast<int64_t>(next()) * 1'000'003; }
  void u16(uint16_t& v) { v = static_cast<uint16_t>(next()); }
  void u32(uint32_t& v) { v = next(); }
  void f64(double& v) { v = next() + 0.5; }
  void boolean(bool& v) { v = next() % 2 == 0; }
  void uuid(Uuid& u) {
    for (auto& b : u.bytes) b = static_cast<uint8_t>(next());
  }
  void string(std::string& s, bool) { s = std::to_string(next()).insert(0, 1, 's'); }
  void nstring(std::optional<std::string>& s, bool compact, bool nullable) {
    if (nullable && next() % 3 == 0) {
      s.reset();
      return;
    }
    string(s.emplace(), compact);
  }
  void bytes(std::vector<std::byte>& b, bool = false) { b = {std::byte{1}, static_cast<std::byte>(next())}; }
  void nbytes(std::optional<std::vector<std::byte>>& b, bool compact = false, bool nullable = true) {
    if (nullable && next() % 3 == 0) {
      b.reset();
      return;
    }
    bytes(b.emplace(), compact);
  }
  void records(RecordsField& r, bool) { r = RecordsField{.bytes = {std::byte{9}, static_cast<std::byte>(next()), std::byte{7}}}; }
  template <typename T, typename F>
  void array(std::vector<T>& v, bool, F&& each) {
    v.clear();
    const uint32_t n = 1 + next() % 2;
    for (uint32_t i = 0; i < n; ++i) each(v.emplace_back());
  }
  template <typename T, typename F>
  void narray(std::optional<std::vector<T>>& v, bool compact, bool nullable, F&& each) {
    if (nullable && next() % 4 == 0) {
      v.reset();
      return;
    }
    array(v.emplace(), compact, each);
  }
  template <typename F>
  void tagged_fields(F&& fields) {
    FillAll all{*this};
    fields(all);
  }

 private:
  struct FillAll {
    Filler& io;
    template <typename F>
    void field(uint32_t, bool, F&& fill) {
      fill(io);
    }
  };
  uint32_t next() { return n_++; }
  uint32_t n_;
};

}  // namespace samsa::kafka
