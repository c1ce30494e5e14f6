// The history a workload records: one JSON object per line, one line per event, in the order the
// events happened. An operation has an "invoke" line and then exactly one completion:
//   ok    it took effect (a read: what it returned);
//   fail  it certainly did not take effect (UNAVAILABLE, not sent, refused);
//   info  in doubt: it may or may not have taken effect (a timeout, a dropped connection after
//         sending). A timeout is never a fail.
// Fields: type, process (client id, or "final"), op (unique per history), f (put | get | del),
// key, node (the node the client sent it to), t_us (CLOCK_MONOTONIC in microseconds: the harness
// times its faults on the same clock),
// and per kind: value and seen (put: the values its context came from), values (get ok), error.
//
// Thread safety: History may be written from any number of threads; each line is written whole.
#ifndef RINGKV_JEPSEN_TESTS_WORKLOAD_HISTORY_H_
#define RINGKV_JEPSEN_TESTS_WORKLOAD_HISTORY_H_

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ringkv/error.h"

namespace ringkv::jepsen {

enum class Outcome { kOk, kFail, kInfo };

// What an error means for whether the operation took effect.
Outcome Classify(const Error& error);
const char* OutcomeName(Outcome outcome);

class History {
 public:
  // Opens `path` for writing (truncating it). REQUIRES: the directory exists.
  explicit History(const std::string& path);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;
  bool ok() const { return file_ != nullptr; }

  // CLOCK_MONOTONIC (steady_clock on Linux) in microseconds: shared with the harness's
  // time.monotonic(), so fault intervals and operations sit on one time line.
  static int64_t NowUs();
  // Writes `event` with "t_us" set to now.
  void Write(nlohmann::json event);
  // A unique operation id.
  int64_t NextOp();

 private:
  std::FILE* file_;
  std::mutex mu_;
  int64_t next_op_ = 0;  // guarded by mu_
};

}  // namespace ringkv::jepsen

#endif  // RINGKV_JEPSEN_TESTS_WORKLOAD_HISTORY_H_
