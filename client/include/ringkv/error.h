// Errors the client returns, classified by what the caller should do next.
#ifndef RINGKV_CLIENT_ERROR_H_
#define RINGKV_CLIENT_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ringkv {

enum class ErrorCode : uint8_t {
  kInvalidArgument,   // the request is wrong (too large, malformed context); do not retry
  kUnavailable,       // too few replicas reachable; needed() / alive() say how many
  kTimeout,           // no answer by the deadline; for a write, in_doubt() is true
  kOverloaded,        // the node shed load; back off and retry
  kDisconnected,      // no node could be reached, or the connection dropped before sending
  kTooManySiblings,   // resolve the siblings: read, then write back with the context
  kUnauthorized,      // wrong cluster
  kCorruption,        // data failed a check
  kProtocol,          // the node and the client disagree on the protocol
  kCancelled,         // the Client was destroyed with the request pending
  kInternal,          // a bug on either side
  kIoError,           // the node's disk failed the write (full, read-only); nothing was
                      // acknowledged: try another node, or fix the disk
};

std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // kUnavailable: replicas needed and reachable.
  uint32_t needed() const { return needed_; }
  uint32_t alive() const { return alive_; }
  // A write whose outcome is unknown: it may have been applied. Re-read before deciding.
  bool in_doubt() const { return in_doubt_; }
  std::string ToString() const;

  Error& set_counts(uint32_t needed, uint32_t alive) {
    needed_ = needed;
    alive_ = alive;
    return *this;
  }
  Error& set_in_doubt(bool v) {
    in_doubt_ = v;
    return *this;
  }

 private:
  ErrorCode code_;
  std::string message_;
  uint32_t needed_ = 0, alive_ = 0;
  bool in_doubt_ = false;
};

// A value or an Error.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit for returns
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : e_(std::move(error)) {}  // NOLINT
  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

}  // namespace ringkv

#endif  // RINGKV_CLIENT_ERROR_H_
