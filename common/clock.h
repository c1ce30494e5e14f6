// Clock: the only way ringkv code learns the time (DESIGN.md §2). main() builds a SystemClock; the
// simulator and tests use a manual one.
//
// Thread safety: implementations must allow calls from any thread.
#ifndef RINGKV_COMMON_CLOCK_H_
#define RINGKV_COMMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ringkv {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time in microseconds since the Unix epoch: write timestamps and TTL expiry.
  virtual int64_t NowUs() const = 0;
  // Monotonic microseconds from an arbitrary origin: deadlines and uptime.
  virtual int64_t MonoUs() const = 0;
};

// The machine's clock, shifted by a fixed offset (kvnode --clock-offset-ms) so fault tests can start
// a node skewed.
class SystemClock final : public Clock {
 public:
  explicit SystemClock(int64_t offset_ms = 0) : offset_us_(offset_ms * 1000) {}
  int64_t NowUs() const override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() + offset_us_;
  }
  int64_t MonoUs() const override {
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
  }

 private:
  int64_t offset_us_;
};

// A clock that moves only when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_us = 1'700'000'000'000'000) : now_us_(now_us) {}
  int64_t NowUs() const override { return now_us_.load(); }
  int64_t MonoUs() const override { return now_us_.load(); }
  void AdvanceUs(int64_t us) { now_us_ += us; }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace ringkv

#endif  // RINGKV_COMMON_CLOCK_H_
