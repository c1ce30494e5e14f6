#include "common/status.h"

namespace ringkv {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kUnavailable: return "Unavailable";
    case Code::kTimeout: return "Timeout";
    case Code::kOverloaded: return "Overloaded";
    case Code::kCorruption: return "Corruption";
    case Code::kIoError: return "IoError";
    case Code::kProtocol: return "Protocol";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kTooManySiblings: return "TooManySiblings";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace ringkv
