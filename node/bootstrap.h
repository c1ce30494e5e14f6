// Bootstrap: a new node joining a running cluster (DESIGN.md §5).
//
//   1. Gossip until the ring is settled (it has heard of every seed) and no other node is joining
//      or leaving: range movements are serialised, one in the cluster at a time. A join that
//      finds one in flight waits for it, logging which.
//   2. Take tokens with the balanced allocator against the ring (ring/tokens.h), save them, and
//      gossip JOINING with them. Every node that hears it computes the ranges this node will gain
//      (OwnershipDiff between the ring and the ring with it) and sends writes for them here too,
//      without counting them toward W (ClusterView::PendingReplicas).
//   3. Wait ring_delay_ms for that news to reach every coordinator, then stream each gained range
//      of each keyspace from a current replica: pages of the token-range scan, each object merged
//      here through its version (so nothing newer is overwritten and concurrent writes become
//      siblings). Pages are throttled to stream_bytes_per_s. A range done is saved, so a node
//      killed while joining restarts only the ranges it had not finished.
//   4. Gossip NORMAL: the node now owns its ranges and serves reads for them.
//
// The old replicas keep their copies of the ranges they lost until `kvctl cleanup`.
//
// Thread safety: none; the node's loop. Pointers must outlive the Bootstrap.
#ifndef RINGKV_NODE_BOOTSTRAP_H_
#define RINGKV_NODE_BOOTSTRAP_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "node/membership.h"
#include "node/range_streamer.h"
#include "storage/storage.h"

namespace ringkv {

struct BootstrapOptions {
  uint32_t tokens = 16;
  uint32_t allocation_replication_factor = 3;
  uint64_t seed = 1;
  int64_t ring_delay_ms = 3000;
  StreamOptions stream;
};

class Bootstrap {
 public:
  // `tokens`: the tokens taken by an earlier, interrupted run (empty for a fresh join).
  // `on_done` runs once the node is NORMAL.
  Bootstrap(ClusterView* view, Membership* membership, KvService* service, PeerTransport* peers,
            Timers* timers, const Clock* clock, const KeyspaceCatalog* keyspaces,
            Storage* storage, Logger* log, BootstrapOptions options, std::vector<Token> tokens);

  // Starts the join; steps that must wait retry on their own.
  void Start();
  const StreamProgress& progress() const { return progress_; }

 private:
  void TryAnnounce();
  void PlanStreams();
  void RangeDone(const StreamTask& task);
  void Finish();
  void Retry(std::function<void()> fn);

  ClusterView* const view_;
  Membership* const membership_;
  KvService* const service_;
  PeerTransport* const peers_;
  Timers* const timers_;
  const Clock* const clock_;
  const KeyspaceCatalog* const keyspaces_;
  Storage* const storage_;
  Logger* const log_;
  const BootstrapOptions options_;
  std::vector<Token> tokens_;
  std::vector<StreamTask> tasks_;
  std::set<std::string> done_ranges_;  // StreamTask::Id of ranges finished, saved
  StreamProgress progress_;
  RangeStreamer streamer_;
  std::string waiting_for_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_BOOTSTRAP_H_
