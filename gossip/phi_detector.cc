#include "gossip/phi_detector.h"

#include <algorithm>
#include <cmath>

namespace ringkv::gossip {

void PhiDetector::Arrival(int64_t now_us) {
  if (last_us_ >= 0 && now_us > last_us_) {
    const double interval = static_cast<double>(now_us - last_us_);
    intervals_.push_back(now_us - last_us_);
    sum_ += interval;
    sum_sq_ += interval * interval;
    if (intervals_.size() > options_->window) {
      const double old = static_cast<double>(intervals_.front());
      intervals_.pop_front();
      sum_ -= old;
      sum_sq_ -= old * old;
    }
  }
  last_us_ = std::max(last_us_, now_us);
}

void PhiDetector::Reset(int64_t now_us) {
  intervals_.clear();
  sum_ = sum_sq_ = 0;
  last_us_ = now_us;
}

double PhiDetector::mean_us() const {
  if (intervals_.empty()) return static_cast<double>(options_->first_interval_us);
  return sum_ / static_cast<double>(intervals_.size());
}

double PhiDetector::Phi(int64_t now_us) const {
  if (last_us_ < 0 || now_us <= last_us_) return 0;
  const double mean = mean_us();
  double variance = 0;
  if (intervals_.size() >= 2) {
    const double n = static_cast<double>(intervals_.size());
    variance = std::max(0.0, sum_sq_ / n - mean * mean);
  } else {
    variance = (mean / 4) * (mean / 4);
  }
  const double floor = static_cast<double>(options_->min_std_dev_us);
  const double ceiling = static_cast<double>(std::max(options_->max_std_dev_us,
                                                      options_->min_std_dev_us));
  const double sigma = std::clamp(std::sqrt(variance), floor, ceiling);
  const double y = (static_cast<double>(now_us - last_us_) - mean) / sigma;
  // The logistic approximation of the normal tail (Bowling et al. 2009), as Akka uses: accurate to
  // ~1e-4 and cheap. P(later) = 1 / (1 + e) with e = exp(y * (1.5976 + 0.070566 y^2)).
  const double e = std::exp(-y * (1.5976 + 0.070566 * y * y));
  const double p_later = y > 0 ? e / (1.0 + e) : 1.0 - 1.0 / (1.0 + e);
  return -std::log10(std::max(p_later, 1e-300));
}

}  // namespace ringkv::gossip
