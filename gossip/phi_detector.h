// PhiDetector: the phi-accrual failure detector (Hayashibara et al.) for one member, fed by the
// arrivals of its heartbeats. Instead of a yes/no verdict after a fixed timeout it says how
// surprising the silence so far is: phi = -log10(P(the next heartbeat comes later than now)),
// so phi 8 means a silence this long happens once in 10^8 intervals if the member is alive.
//
// Cassandra models the intervals as exponential (phi grows linearly with the silence); with
// heartbeats that reach a node once a second that convicts after ~18 s. Heartbeats here arrive
// through gossip, at intervals that vary but have a clear mean, so we model them as normal (as
// Akka does), with a floor on the standard deviation so a run of very regular intervals does not
// make an ordinary hiccup look fatal. With a 1 s gossip interval the intervals a node sees have a
// mean near 1 s, and threshold 8 convicts after mean + ~5.6 sigma: 2.5 to 4 s in practice
// (measured in gossiper_test and the simulator; docs/operations.md states the bound).
//
// Thread safety: none.
#ifndef RINGKV_GOSSIP_PHI_DETECTOR_H_
#define RINGKV_GOSSIP_PHI_DETECTOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>

namespace ringkv::gossip {

struct PhiOptions {
  double threshold = 8.0;
  size_t window = 100;                     // intervals remembered
  // The spread of the intervals is taken as observed but kept within these bounds: the floor
  // so that very regular beats do not make an ordinary hiccup look fatal, the ceiling so that
  // heartbeats relayed irregularly through gossip still convict within mean + ~5.6 * 0.5 s.
  int64_t min_std_dev_us = 250'000;
  int64_t max_std_dev_us = 500'000;
  int64_t first_interval_us = 1'000'000;   // assumed before two arrivals were seen
};

class PhiDetector {
 public:
  explicit PhiDetector(const PhiOptions* options) : options_(options) {}

  // A heartbeat arrived at `now_us` (monotonic).
  void Arrival(int64_t now_us);
  // How suspicious the silence since the last arrival is at `now_us`; 0 before any arrival.
  double Phi(int64_t now_us) const;
  bool Alive(int64_t now_us) const { return Phi(now_us) < options_->threshold; }
  // Forget the intervals (the member restarted) but count from `now_us`.
  void Reset(int64_t now_us);
  // Pretend the last arrival was at `now_us`: used when this node itself stalled, so that its own
  // pause is not blamed on everyone else.
  void Forgive(int64_t now_us) {
    if (last_us_ >= 0) last_us_ = now_us;
  }
  int64_t last_arrival_us() const { return last_us_; }
  double mean_us() const;

 private:
  const PhiOptions* options_;
  std::deque<int64_t> intervals_;
  double sum_ = 0, sum_sq_ = 0;
  int64_t last_us_ = -1;
};

}  // namespace ringkv::gossip

#endif  // RINGKV_GOSSIP_PHI_DETECTOR_H_
