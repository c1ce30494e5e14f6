// PhiDetector: the phi-accrual failure detector (Hayashibara et al.) for one member, fed by the
// arrivals of its heartbeats. Instead of a yes/no verdict after a fixed timeout it says how
// surprising the silence so far is: phi = -log10(P(the next heartbeat comes later than now)),
// so phi 8 means a silence this long happens once in 10^8 intervals if the member is alive.
//
// Cassandra models the intervals as exponential (phi grows linearly with the silence); with
// heartbeats that reach a node once a second that convicts after ~18 s. Heartbeats here arrive
// through gossip, at intervals that vary but have a clear mean, so we model them as normal (as
// Akka does), with bounds on the standard deviation (below). With a 1 s gossip interval the
// intervals a node sees have a mean near 1.15 s, and threshold 8 convicts after mean + ~5.2 sigma
// of silence: 5 to 8 s after a member dies, counting the spread of its last heartbeat (measured in
// gossiper_test and sim/gossip_scale; docs/operations.md states the bound).
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
  // a silent member is still convicted within mean + ~5.2 * 1 s. Heartbeats relayed through
  // gossip arrive with a spread of ~0.6 s whatever the cluster size (sim/gossip_scale measures
  // it); a floor of 250 ms and ceiling of 500 ms convicted live nodes (2 in 30 s at 50 nodes,
  // thousands at 1000), 700 ms to 1 s none at 50 and 200 nodes.
  int64_t min_std_dev_us = 700'000;
  int64_t max_std_dev_us = 1'000'000;
  int64_t first_interval_us = 2'000'000;   // assumed before two arrivals were seen
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
