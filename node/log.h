// Logger: one line per event, readable by a person:
//   2026-11-24T16:40:00.123Z INFO  n1: listening on 127.0.0.1:7000
// main() builds one and hands a pointer to whatever logs. The time of a line is the wall time of the
// Clock main() passes in (DESIGN.md §2: the core never reads the system clock itself), so a node
// started with --clock-offset-ms stamps its lines with its own skewed time, and a logger under a
// ManualClock or the simulator's clock stamps virtual time.
// Thread safety: Log may be called from any thread (Clock allows that too); lines are written whole.
#ifndef RINGKV_NODE_LOG_H_
#define RINGKV_NODE_LOG_H_

#include <fmt/format.h>

#include <cassert>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace ringkv {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
bool ParseLogLevel(std::string_view name, LogLevel* level);

class Logger {
 public:
  // REQUIRES: clock is not null (there is no default clock) and, like out, outlives the Logger.
  Logger(std::string node_name, LogLevel level, const Clock* clock, std::FILE* out = stderr)
      : node_name_(std::move(node_name)), level_(level), clock_(clock), out_(out) {
    assert(clock_ != nullptr);
  }

  bool Enabled(LogLevel level) const { return level >= level_; }

  template <typename... Args>
  void Log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (!Enabled(level)) return;
    Write(level, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  void Write(LogLevel level, std::string_view message);

  const std::string node_name_;
  const LogLevel level_;
  const Clock* const clock_;
  std::FILE* const out_;
  std::mutex mu_;
};

#define RINGKV_LOG(logger, level, ...) (logger)->Log(::ringkv::LogLevel::level, __VA_ARGS__)

}  // namespace ringkv

#endif  // RINGKV_NODE_LOG_H_
