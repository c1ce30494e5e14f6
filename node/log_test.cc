// Logger: each line is stamped with the injected clock's wall time, never the machine's.
#include "node/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ringkv {
namespace {

// Everything a Logger writes, through a memory stream.
class Captured {
 public:
  Captured() : out_(open_memstream(&buffer_, &size_)) {}
  ~Captured() {
    std::fclose(out_);
    std::free(buffer_);
  }
  std::FILE* out() { return out_; }
  std::string text() {
    std::fflush(out_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  size_t size_ = 0;
  std::FILE* out_;
};

TEST(LoggerTest, StampsLinesWithTheInjectedClock) {
  ManualClock clock(1'700'000'000'123'456);  // 2023-11-14T22:13:20.123456Z
  Captured captured;
  Logger log("n1", LogLevel::kInfo, &clock, captured.out());
  RINGKV_LOG(&log, kInfo, "listening on {}", "127.0.0.1:7000");
  clock.AdvanceUs(3'600'000'000);  // an hour later, as the clock says
  RINGKV_LOG(&log, kWarn, "peer {} is down", "n2");
  RINGKV_LOG(&log, kDebug, "not written below the level");
  EXPECT_EQ(captured.text(),
            "2023-11-14T22:13:20.123Z INFO  n1: listening on 127.0.0.1:7000\n"
            "2023-11-14T23:13:20.123Z WARN  n1: peer n2 is down\n");
}

TEST(LoggerTest, TimesBeforeTheEpochRoundDown) {
  ManualClock clock(-1'500);  // 1.5 ms before 1970
  Captured captured;
  Logger log("n1", LogLevel::kDebug, &clock, captured.out());
  RINGKV_LOG(&log, kError, "x");
  EXPECT_EQ(captured.text(), "1969-12-31T23:59:59.998Z ERROR n1: x\n");
}

}  // namespace
}  // namespace ringkv
