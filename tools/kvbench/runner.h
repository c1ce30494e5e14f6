// Runs one kvbench workload against a ringkv cluster through the client library and gathers the
// latency histograms and counts.
//
// Closed loop: clients x pipeline lanes, each keeping one operation in flight and starting the
// next when it completes; latency is measured from the send. Open loop (rate > 0): operation i is
// sent at its intended time start + i / rate (OpenLoopSchedule) whatever the earlier ones are
// doing, and its latency is measured from that intended time, so queueing behind a slow server
// counts (no coordinated omission).
//
// Lanes are spread over `connections` Client instances (each with its own I/O thread and one
// connection per node), because a single connection would cap the throughput a 2-core machine
// can push.
//
// Thread safety: Run() is a blocking call; it owns every thread it starts and joins them before
// returning.
#ifndef RINGKV_TOOLS_KVBENCH_RUNNER_H_
#define RINGKV_TOOLS_KVBENCH_RUNNER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ringkv/client.h"
#include "tools/kvbench/histogram.h"
#include "tools/kvbench/workload.h"

namespace ringkv::bench {

struct RunOptions {
  std::vector<std::string> hosts;  // HOST:PORT contact points
  Workload workload;
  int clients = 1;      // independent request streams (closed loop)
  int pipeline = 1;     // operations in flight per client (closed loop)
  int connections = 0;  // Client instances; 0: min(clients, 4)
  uint64_t ops = 0;     // stop after this many operations (0: only the duration bounds the run)
  double duration_s = 10;  // stop starting operations after this long (0: only ops bounds it)
  uint64_t keys = 100'000;
  uint64_t key_offset = 0;  // key indexes run over [key_offset, key_offset + keys)
  size_t key_bytes = 16;
  size_t value_bytes = 100;
  bool zipfian = false;
  double zipf_theta = 0.99;
  uint64_t hot_keys = 100;  // readhot's hot set
  Consistency consistency = Consistency::kDefault;
  std::string keyspace;     // empty: "default"
  double rate_per_s = 0;    // > 0: open loop at this rate
  uint64_t open_loop_in_flight_max = 10'000;  // open loop: beyond this, sends wait (and count)
  uint64_t seed = 1;
  std::chrono::milliseconds request_timeout{5000};
  double progress_s = 1;    // progress line on stderr every this many seconds (0: none)
};

struct RunResult {
  uint64_t ops = 0;  // completed, successful or not
  uint64_t errors = 0;
  std::map<std::string, uint64_t> errors_by_class;  // ErrorCodeName -> count
  uint64_t reads = 0, reads_found = 0;  // successful gets (RMW's get included) and found ones
  double elapsed_s = 0;                 // first send to last completion
  LatencyHistogram all, read, write;    // ns; write includes RMW, read-modify-write as a whole
  std::string fatal;                    // non-empty: the run could not start (no cluster...)
};

RunResult Run(const RunOptions& options);

}  // namespace ringkv::bench

#endif  // RINGKV_TOOLS_KVBENCH_RUNNER_H_
