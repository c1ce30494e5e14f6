#include "tools/kvbench/open_loop.h"

#include <cassert>
#include <cmath>

namespace ringkv::bench {

OpenLoopSchedule::OpenLoopSchedule(uint64_t start_ns, double rate_per_s)
    : start_ns_(start_ns), interval_ns_(1e9 / rate_per_s) {
  assert(rate_per_s > 0);
}

// Computed from i each time (not by adding intervals) so rounding never accumulates.
uint64_t OpenLoopSchedule::IntendedNs(uint64_t i) const {
  return start_ns_ + static_cast<uint64_t>(std::llround(static_cast<double>(i) * interval_ns_));
}

uint64_t OpenLoopSchedule::DueBy(uint64_t now_ns) const {
  if (now_ns < start_ns_) return 0;
  auto n = static_cast<uint64_t>(static_cast<double>(now_ns - start_ns_) / interval_ns_) + 1;
  // Floating point may land one off either way at an exact boundary; settle it on IntendedNs.
  while (n > 0 && IntendedNs(n - 1) > now_ns) --n;
  while (IntendedNs(n) <= now_ns) ++n;
  return n;
}

uint64_t OpenLoopSchedule::LatencyNs(uint64_t i, uint64_t done_ns) const {
  const uint64_t intended = IntendedNs(i);
  return done_ns > intended ? done_ns - intended : 0;
}

}  // namespace ringkv::bench
