// RateLimiter: at most `rows_per_s` rows a second over the whole load, shared by the workers.
// Each Acquire(n) is given the next n/rate seconds of the schedule and sleeps until its slot
// starts, so bursts never exceed one batch and the long-run rate is exact.
//
// Thread safety: Acquire may be called from any thread.
#ifndef RINGKV_TOOLS_KVLOAD_RATE_LIMITER_H_
#define RINGKV_TOOLS_KVLOAD_RATE_LIMITER_H_

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

namespace ringkv::kvload {

class RateLimiter {
 public:
  // rows_per_s <= 0: no limit.
  explicit RateLimiter(double rows_per_s) : rows_per_s_(rows_per_s) {}

  void Acquire(size_t rows) {
    if (rows_per_s_ <= 0) return;
    using Clock = std::chrono::steady_clock;
    Clock::time_point start;
    {
      std::lock_guard lock(mu_);
      auto now = Clock::now();
      // A limiter idle for a while does not bank the idle time as a burst.
      next_ = std::max(next_, now);
      start = next_;
      next_ += std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(static_cast<double>(rows) / rows_per_s_));
    }
    std::this_thread::sleep_until(start);
  }

 private:
  const double rows_per_s_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_{};  // guarded by mu_
};

}  // namespace ringkv::kvload

#endif  // RINGKV_TOOLS_KVLOAD_RATE_LIMITER_H_
