#include "node/metrics.h"

namespace ringkv {

std::string_view MetricOpName(MetricOp op) {
  switch (op) {
    case MetricOp::kGet: return "get";
    case MetricOp::kPut: return "put";
    case MetricOp::kDel: return "del";
    case MetricOp::kScan: return "scan";
  }
  return "unknown";
}

void LatencyHistogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kLatencyBucketsS.size() && seconds > kLatencyBucketsS[i]) ++i;
  ++counts[i];
  ++count;
  sum_s += seconds;
}

void NodeMetrics::Finished(MetricOp op, Consistency consistency, Code code, int64_t latency_us) {
  if (in_flight_ > 0) --in_flight_;
  latency_[{op, consistency}].Observe(static_cast<double>(std::max<int64_t>(latency_us, 0)) / 1e6);
  if (code != Code::kOk) ++errors_[{op, code}];
}

}  // namespace ringkv
