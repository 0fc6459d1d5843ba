// Small string helpers shared by the properties parsers (broker and node configs).
// Pure functions; any fiber.
#pragma once

#include <charconv>
#include <string_view>

namespace samsa {

// `s` without leading and trailing spaces, tabs and carriage returns.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Parses all of `v` as a base-10 integer; false (and *out unspecified) on anything else.
template <typename T>
bool parse_int(std::string_view v, T* out) {
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc{} && end == v.data() + v.size();
}

}  // namespace samsa
