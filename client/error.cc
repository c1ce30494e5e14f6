#include "ringkv/error.h"

#include <fmt/format.h>

namespace ringkv {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kTimeout: return "Timeout";
    case ErrorCode::kOverloaded: return "Overloaded";
    case ErrorCode::kDisconnected: return "Disconnected";
    case ErrorCode::kTooManySiblings: return "TooManySiblings";
    case ErrorCode::kUnauthorized: return "Unauthorized";
    case ErrorCode::kCorruption: return "Corruption";
    case ErrorCode::kProtocol: return "Protocol";
    case ErrorCode::kCancelled: return "Cancelled";
    case ErrorCode::kInternal: return "Internal";
    case ErrorCode::kIoError: return "IoError";
  }
  return "Unknown";
}

std::string Error::ToString() const {
  std::string out(ErrorCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  // The counts and the in-doubt flag change what the reader should do, so they are never dropped.
  if (code_ == ErrorCode::kUnavailable) {
    out += fmt::format(" (needed {}, alive {})", needed_, alive_);
  }
  if (in_doubt_) out += " (in doubt: the write may have been applied)";
  return out;
}

}  // namespace ringkv
