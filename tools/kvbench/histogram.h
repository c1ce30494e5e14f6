// LatencyHistogram: an HDR-style log-linear histogram of durations in nanoseconds.
//
// Values are bucketed by their power of two and, within it, by kSubBuckets linear steps, so every
// recorded value is reported to within 1/kSubBuckets (under 0.8%) of itself at any magnitude, from
// 1 ns to about 36 minutes, in a fixed 40 KiB. Values at or above the top are clamped and counted
// (clamped()), never dropped. Percentiles return the upper bound of the bucket holding the rank,
// capped by the exact maximum, so p100 is the true max and no percentile is understated.
//
// Thread safety: none; give each thread its own and Merge() them.
#ifndef RINGKV_TOOLS_KVBENCH_HISTOGRAM_H_
#define RINGKV_TOOLS_KVBENCH_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace ringkv::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 linear steps per power of two
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kMaxBits = 41;  // values below 2^41 ns (~36 min) are kept exactly bucketed
  static constexpr uint64_t kMaxValue = (uint64_t{1} << kMaxBits) - 1;

  void Record(uint64_t value_ns);
  void Merge(const LatencyHistogram& other);
  void Clear() { *this = LatencyHistogram(); }

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  uint64_t clamped() const { return clamped_; }
  double Mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The value at or below which `p` percent of the recorded values lie (0 < p <= 100); 0 when
  // empty.
  uint64_t Percentile(double p) const;

  // Bucket math, public for tests: the index holding `v`, and the highest value in a bucket.
  static int BucketOf(uint64_t v);
  static uint64_t BucketUpper(int index);
  static constexpr int kBuckets = (kMaxBits - kSubBucketBits + 1) * kSubBuckets;

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t clamped_ = 0;
};

}  // namespace ringkv::bench

#endif  // RINGKV_TOOLS_KVBENCH_HISTOGRAM_H_
