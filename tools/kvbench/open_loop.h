// The schedule of an open-loop run: operation i is due at start + i / rate, whatever happened to
// the operations before it. Latency is measured from that intended start, not from when the
// generator got round to sending it, so a stall in the server shows up in every operation it
// delayed (no coordinated omission; Gil Tene, "How NOT to Measure Latency").
//
// Pure arithmetic, no clock: callers pass times in nanoseconds on one monotonic clock.
#ifndef RINGKV_TOOLS_KVBENCH_OPEN_LOOP_H_
#define RINGKV_TOOLS_KVBENCH_OPEN_LOOP_H_

#include <cstdint>

namespace ringkv::bench {

class OpenLoopSchedule {
 public:
  // REQUIRES: rate_per_s > 0.
  OpenLoopSchedule(uint64_t start_ns, double rate_per_s);

  // When operation `i` (0-based) is due.
  uint64_t IntendedNs(uint64_t i) const;
  // How many operations are due at `now_ns` (those with IntendedNs(i) <= now_ns).
  uint64_t DueBy(uint64_t now_ns) const;
  // The latency of operation `i` that completed at `done_ns`, from its intended start (0 if it
  // somehow completed before it was due).
  uint64_t LatencyNs(uint64_t i, uint64_t done_ns) const;

 private:
  uint64_t start_ns_;
  double interval_ns_;
};

}  // namespace ringkv::bench

#endif  // RINGKV_TOOLS_KVBENCH_OPEN_LOOP_H_
