// RangeStreamer: copies token ranges of keyspaces from their current replicas into this node,
// one range at a time, in pages of the replica scan (KvService::ReplicaScan on the source), each
// object merged here through its version (KvService::ReplicaWrite), so nothing newer is
// overwritten and concurrent values become siblings. Used when this node gains ranges: a join
// (node/bootstrap.h) and a removenode of a dead replica (node/membership.h).
//
// A page that fails is asked of the range's next source; when none answers, the range is retried
// after retry_ms. Pages are throttled to bytes_per_s. Each finished range is reported (for
// resumption) before the next starts.
//
// Thread safety: none; the node's loop. Pointers must outlive the streamer.
#ifndef RINGKV_NODE_RANGE_STREAMER_H_
#define RINGKV_NODE_RANGE_STREAMER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "ring/token_range.h"

namespace ringkv {

struct StreamTask {
  std::string keyspace;
  TokenRange range;                  // non-wrapping
  std::vector<std::string> sources;  // in order of preference
  // Set when the range is copied from several sources, one task each (ReplicaRestore): names the
  // task's own source in its Id.
  std::string copy_of;
  std::string Id() const;            // "keyspace start end", then " from <copy_of>" when set
};

struct StreamOptions {
  int64_t retry_ms = 1000;
  int64_t page_timeout_ms = 10'000;
  int64_t write_timeout_ms = 2'000;  // one pushed object (decommission)
  uint32_t page_entries = 500;
  double bytes_per_s = 0;  // 0: unthrottled
};

struct StreamProgress {
  std::string what;            // "join", "removenode n3", "decommission"
  std::string state = "idle";  // waiting, announcing, streaming, done
  size_t ranges_total = 0;
  size_t ranges_done = 0;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  std::string current;  // the range in progress and its peer
};

// A rough size of an object on the wire, for throttling and progress.
uint64_t StreamBytes(std::string_view key, const VersionedObject& object);
// One page of a range's objects, after the cursor when has_after.
ScanSpec StreamPageSpec(const std::string& keyspace, const TokenRange& range, bool has_after,
                        Token after_token, const std::string& after_key, uint32_t limit);
// How long to wait after a page of `bytes` that took `elapsed_us`, so a stream keeps to
// `bytes_per_s` (0: no cap).
int64_t StreamThrottleUs(uint64_t bytes, double bytes_per_s, int64_t elapsed_us);

class RangeStreamer {
 public:
  RangeStreamer(const ClusterView* view, KvService* service, PeerTransport* peers,
                Timers* timers, const Clock* clock, Logger* log, StreamOptions options,
                StreamProgress* progress);

  // Streams every task in order; `range_done` after each, `done` after the last. One Run at a
  // time.
  void Run(std::vector<StreamTask> tasks, std::function<void(const StreamTask&)> range_done,
           std::function<void()> done);

 private:
  void Next();
  void Page(size_t source, bool has_after, Token after_token, std::string after_key);

  const ClusterView* const view_;
  KvService* const service_;
  PeerTransport* const peers_;
  Timers* const timers_;
  const Clock* const clock_;
  Logger* const log_;
  const StreamOptions options_;
  StreamProgress* const progress_;
  std::vector<StreamTask> tasks_;
  size_t next_ = 0;
  std::function<void(const StreamTask&)> range_done_;
  std::function<void()> done_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_RANGE_STREAMER_H_
