// ManualTimers: Timers that fire only when a test says so, for unit tests of the core's state
// machines (a deadline passes exactly when the test calls FireAll).
//
// Thread safety: none.
#ifndef RINGKV_NODE_MANUAL_TIMERS_H_
#define RINGKV_NODE_MANUAL_TIMERS_H_

#include <algorithm>
#include <functional>
#include <map>

#include "node/effects.h"

namespace ringkv {

class ManualTimers final : public Timers {
 public:
  TimerId After(int64_t us, std::function<void()> fn) override {
    live_[next_] = std::move(fn);
    longest_us_ = std::max(longest_us_, us);
    return next_++;
  }
  void Cancel(TimerId id) override { live_.erase(id); }
  // Runs every live timer (timers they set wait for the next call).
  void FireAll() {
    auto live = std::move(live_);
    live_.clear();
    for (auto& [id, fn] : live) fn();
  }
  size_t live() const { return live_.size(); }
  // The longest delay asked for so far.
  int64_t longest_us() const { return longest_us_; }

 private:
  std::map<TimerId, std::function<void()>> live_;
  TimerId next_ = 1;
  int64_t longest_us_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_MANUAL_TIMERS_H_
