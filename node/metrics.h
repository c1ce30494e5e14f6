// NodeMetrics: the request figures the transport records as it answers clients, for /metrics:
// latency histograms per operation and consistency level, errors by class and operation, and
// requests in flight. Everything else /metrics shows is read from the components at scrape time
// (node/server/metrics_export.h).
//
// Thread safety: none; the node's loop records and the HTTP endpoint (same loop) reads.
#ifndef RINGKV_NODE_METRICS_H_
#define RINGKV_NODE_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/consistency.h"
#include "common/status.h"

namespace ringkv {

enum class MetricOp : uint8_t { kGet, kPut, kDel, kScan };
inline constexpr size_t kMetricOps = 4;
std::string_view MetricOpName(MetricOp op);

// Upper bounds of the latency buckets, in seconds (Prometheus `le`), ascending; +Inf is implied.
inline constexpr std::array<double, 14> kLatencyBucketsS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct LatencyHistogram {
  std::array<uint64_t, kLatencyBucketsS.size() + 1> counts{};  // per bucket, the last is +Inf
  uint64_t count = 0;
  double sum_s = 0;
  void Observe(double seconds);
};

class NodeMetrics {
 public:
  // A client request was admitted.
  void Started() { ++in_flight_; }
  // It was answered: OK, or failed with `code`.
  void Finished(MetricOp op, Consistency consistency, Code code, int64_t latency_us);

  int64_t in_flight() const { return in_flight_; }
  // (op, consistency) -> histogram of the requests answered OK or with an error.
  const std::map<std::pair<MetricOp, Consistency>, LatencyHistogram>& latency() const {
    return latency_;
  }
  // (op, error class) -> count.
  const std::map<std::pair<MetricOp, Code>, uint64_t>& errors() const { return errors_; }

 private:
  int64_t in_flight_ = 0;
  std::map<std::pair<MetricOp, Consistency>, LatencyHistogram> latency_;
  std::map<std::pair<MetricOp, Code>, uint64_t> errors_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_METRICS_H_
