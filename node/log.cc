#include "node/log.h"

#include <cstdint>
#include <ctime>

namespace ringkv {

bool ParseLogLevel(std::string_view name, LogLevel* level) {
  if (name == "debug") *level = LogLevel::kDebug;
  else if (name == "info") *level = LogLevel::kInfo;
  else if (name == "warn") *level = LogLevel::kWarn;
  else if (name == "error") *level = LogLevel::kError;
  else return false;
  return true;
}

void Logger::Write(LogLevel level, std::string_view message) {
  static constexpr const char* kNames[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  // Whole seconds and milliseconds of the clock's wall time, rounded down also before 1970.
  const int64_t now_us = clock_->NowUs();
  int64_t secs = now_us / 1'000'000;
  int64_t sub_us = now_us % 1'000'000;
  if (sub_us < 0) {
    secs -= 1;
    sub_us += 1'000'000;
  }
  const std::time_t time = static_cast<std::time_t>(secs);
  const int64_t ms = sub_us / 1000;
  std::tm tm{};
  gmtime_r(&time, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(mu_);
  fmt::print(out_, "{}.{:03}Z {} {}: {}\n", stamp, ms, kNames[static_cast<int>(level)], node_name_,
             message);
  std::fflush(out_);
}

}  // namespace ringkv
