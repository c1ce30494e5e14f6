#include "jepsen-tests/workload/history.h"

#include <chrono>

namespace ringkv::jepsen {

Outcome Classify(const Error& error) {
  switch (error.code()) {
    // Refused before anything was applied: the request was not sent, or the coordinator found
    // too few replicas up and wrote nothing, or the request itself was refused.
    case ErrorCode::kUnavailable:
    case ErrorCode::kDisconnected:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOverloaded:
    case ErrorCode::kTooManySiblings:
    case ErrorCode::kUnauthorized:
    case ErrorCode::kIoError:
      return Outcome::kFail;
    // kTimeout (in doubt by the client's contract), and anything else we cannot rule out.
    default:
      return Outcome::kInfo;
  }
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "ok";
    case Outcome::kFail: return "fail";
    case Outcome::kInfo: return "info";
  }
  return "info";
}

History::History(const std::string& path) : file_(std::fopen(path.c_str(), "w")) {}

History::~History() {
  if (file_ != nullptr) std::fclose(file_);
}

int64_t History::NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void History::Write(nlohmann::json event) {
  std::lock_guard<std::mutex> lock(mu_);
  // The time is taken under the lock, so lines are in time order.
  event["t_us"] = NowUs();
  const std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fputs(line.c_str(), file_);
  std::fputc('\n', file_);
}

int64_t History::NextOp() {
  std::lock_guard<std::mutex> lock(mu_);
  return next_op_++;
}

}  // namespace ringkv::jepsen
