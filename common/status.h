// Status: the outcome of an operation inside ringkv, classified by what the caller should do next
// (STYLE.md, Errors). Expected outcomes are values, never exceptions.
//
// Thread safety: a Status is a value; copies are independent.
#ifndef RINGKV_COMMON_STATUS_H_
#define RINGKV_COMMON_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace ringkv {

enum class Code : uint8_t {
  kOk = 0,
  kNotFound,          // the key has no live value
  kInvalidArgument,   // the request is wrong; retrying it will not help
  kUnavailable,       // too few replicas reachable (needed / alive say how many)
  kTimeout,           // the deadline passed; a write's outcome is in doubt
  kOverloaded,        // back off and retry
  kCorruption,        // data failed a check
  kIoError,           // the disk or the network failed
  kProtocol,          // a peer broke the wire protocol
  kUnauthorized,      // wrong cluster name or secret
  kTooManySiblings,   // the key is at its sibling limit
  kInternal,          // a bug
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Overloaded(std::string m) { return {Code::kOverloaded, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Protocol(std::string m) { return {Code::kProtocol, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m, uint32_t needed, uint32_t alive) {
    Status s(Code::kUnavailable, std::move(m));
    s.needed_ = needed;
    s.alive_ = alive;
    return s;
  }
  static Status Timeout(std::string m, bool in_doubt) {
    Status s(Code::kTimeout, std::move(m));
    s.in_doubt_ = in_doubt;
    return s;
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  uint32_t needed() const { return needed_; }
  uint32_t alive() const { return alive_; }
  bool in_doubt() const { return in_doubt_; }

  // "NotFound: key 'x'"; "OK" for success.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  uint32_t needed_ = 0;
  uint32_t alive_ = 0;
  bool in_doubt_ = false;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(runtime/explicit): ergonomic returns
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(runtime/explicit)

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace ringkv

#endif  // RINGKV_COMMON_STATUS_H_
