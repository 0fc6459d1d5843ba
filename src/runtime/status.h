// Status and Result<T>: errors across the runtime interface travel as values, never as
// exceptions. Status is one byte; the success path costs a compare. Errc names the failure in
// terms a caller can act on (retry, reconnect, take the log offline), not in errno terms.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/assert.h"

namespace samsa {

enum class Errc : unsigned char {
  ok = 0,
  timed_out,           // the deadline passed
  cancelled,           // the calling fiber was cancelled
  closed,              // the object (socket, channel, listener) was closed locally
  end_of_file,         // the peer closed its side, or a read ran past the end of a file
  connection_refused,  // nobody listens at that address
  connection_reset,    // the peer reset the connection or its node crashed and came back
  address_in_use,
  host_unreachable,    // unknown host name
  io_error,            // EIO: the medium failed
  no_space,            // ENOSPC
  not_found,           // no such file or directory
  already_exists,
  invalid_argument,
  too_large,           // a length read off the wire or disk exceeded its limit
  corrupt,             // checksum or format validation failed
  resource_exhausted,  // a named limit (connections, queue) is full
  out_of_range,        // an offset outside what a log holds
  unavailable,         // the component is offline (a log dir after a disk error)
};

const char* errc_name(Errc e);

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr Status(Errc code) : code_(code) {}  // NOLINT: implicit by design
  static constexpr Status ok_status() { return Status{}; }

  constexpr bool ok() const { return code_ == Errc::ok; }
  constexpr Errc code() const { return code_; }
  const char* name() const { return errc_name(code_); }
  constexpr Status status() const { return *this; }  // lets SAMSA_TRY take Status or Result
  friend constexpr bool operator==(Status, Status) = default;

 private:
  Errc code_ = Errc::ok;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Errc e) : error_(e) { SAMSA_ASSERT(e != Errc::ok); }
  Result(Status s) : error_(s.code()) { SAMSA_ASSERT(!s.ok()); }

  bool ok() const { return value_.has_value(); }
  Errc error() const { return ok() ? Errc::ok : error_; }
  Status status() const { return Status{error()}; }

  T& value() & { SAMSA_ASSERT(ok()); return *value_; }
  const T& value() const& { SAMSA_ASSERT(ok()); return *value_; }
  T&& value() && { SAMSA_ASSERT(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Errc error_ = Errc::ok;
};

}  // namespace samsa

// Propagate a failed Status (or Result) out of a function returning Status or Result<U>.
#define SAMSA_TRY(expr)                                 \
  do {                                                  \
    auto samsa_try_status_ = (expr);                    \
    if (!samsa_try_status_.ok()) [[unlikely]]           \
      return samsa_try_status_.status();                \
  } while (0)

// Assign the value of a Result<T> to `lhs`, or propagate its error.
#define SAMSA_TRY_ASSIGN(lhs, expr) SAMSA_TRY_ASSIGN_IMPL_(SAMSA_CONCAT_(samsa_r_, __LINE__), lhs, expr)
#define SAMSA_CONCAT_INNER_(a, b) a##b
#define SAMSA_CONCAT_(a, b) SAMSA_CONCAT_INNER_(a, b)
#define SAMSA_TRY_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) [[unlikely]]                  \
    return tmp.status();                       \
  lhs = std::move(tmp).value()
