#include "tools/kvbench/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace ringkv::bench {

// Values below kSubBuckets sit one per bucket in "group 0". A larger value with its highest bit
// at position b (b >= kSubBucketBits) falls in group g = b - kSubBucketBits + 1, whose buckets
// are 2^(g-1) wide: the top kSubBucketBits+1 bits of the value, minus the leading one, pick it.
int LatencyHistogram::BucketOf(uint64_t v) {
  if (v < static_cast<uint64_t>(kSubBuckets)) return static_cast<int>(v);
  const int b = 63 - std::countl_zero(v);
  const int group = b - kSubBucketBits + 1;
  const int shift = group - 1;
  const int sub = static_cast<int>((v >> shift) - kSubBuckets);  // 0..kSubBuckets-1
  return group * kSubBuckets + sub;
}

uint64_t LatencyHistogram::BucketUpper(int index) {
  const int group = index / kSubBuckets;
  const uint64_t sub = static_cast<uint64_t>(index % kSubBuckets);
  if (group == 0) return sub;
  const int shift = group - 1;
  return ((sub + kSubBuckets + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t value_ns) {
  if (value_ns > kMaxValue) {
    ++clamped_;
    value_ns = kMaxValue;
  }
  ++counts_[static_cast<size_t>(BucketOf(value_ns))];
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  clamped_ += other.clamped_;
}

uint64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The rank (1-based) of the value asked for: ceil(p% of count), at least the first.
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen >= rank) return std::min(BucketUpper(i), max_);
  }
  assert(false && "counts_ sum to count_");
  return max_;
}

}  // namespace ringkv::bench
