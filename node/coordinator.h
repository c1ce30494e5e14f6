// Coordinator: runs a client's get / put / del across the key's replicas (DESIGN.md §4).
//
//   put/del  A node of the key's preference list coordinates: it writes locally (issuing the new
//            dot), sends the stored object to every other replica that is up, and answers once W
//            replicas, itself included, have it. A node outside the list forwards the write to
//            the first replica that is up. A blind delete first reads the key at the request's
//            consistency and deletes what that read saw.
//   get      Any node coordinates: it asks every replica that is up, answers once R have
//            answered, with their merged siblings and context, and then repairs each replica that
//            answered with less than the merge (read repair; asynchronous unless
//            blocking_read_repair, which repairs the R answering replicas before answering).
//
// Hinted handoff (node/hinted_handoff.h), when set: a write stores a hint for every replica it
// missed. Consistency ANY with none of the key's replicas up: the node that received the write
// coordinates it itself, though it is no replica (it stores the object locally, which issues the
// dot, as a forwarded write does), and answers once hints for the replicas are durable; when a
// replica's hint would be refused (window, caps) it is UNAVAILABLE at once instead.
//
// Strict quorum: only preference-list replicas count. Fewer than R or W up -> kUnavailable at once,
// naming needed and alive. A node whose ring is not settled yet (node/cluster_view.h) refuses
// every request kUnavailable with a message starting "not ready: " (NotReady), so that clients
// try another node. Sloppy quorum (writes whose RequestOptions::quorum, or else keyspace,
// says so): each replica that is down gets a stand-in, the next node clockwise past the preference
// list that is up (this node only when it has hinted handoff), which stores the write as a durable
// hint for it (PeerTransport::FallbackWrite) and counts toward W (and a replica whose write fails
// before the answer gets the next such node left, node/write_op.h); fewer than W replicas and
// stand-ins together -> kUnavailable at once. A write none of whose replicas is up is then
// coordinated by the node that received it, as ANY's is. Reads count replicas only: a stand-in's
// hint is invisible to reads until delivered, so R + W > N does not promise that a read sees a
// write acknowledged by stand-ins (README, "Sloppy quorum"). The deadline passing first -> kTimeout; for writes in_doubt is set,
// since some replicas may have applied it.
//
// Each request runs as an operation object with named states: node/read_op.h, node/write_op.h,
// node/forward_op.h. The callbacks an operation waits on own it (node/coordinator_op.h).
//
// Thread safety: none; everything runs on the node's loop. Pointers given to the constructor must
// outlive the coordinator, and the coordinator must outlive the callbacks of `peers` and `timers`:
// pending operations count into its stats.
#ifndef RINGKV_NODE_COORDINATOR_H_
#define RINGKV_NODE_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "node/coordinator_op.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/requests.h"
#include "node/trace.h"

namespace ringkv {

struct CoordinatorOptions {
  int64_t default_timeout_ms = 2000;
  bool blocking_read_repair = false;
  // false: reads repair no replica (kvnode --read-repair off: for tests that make replicas
  // diverge on purpose, so only anti-entropy repairs them).
  bool read_repair = true;
};

struct CoordinatorStats {
  uint64_t reads = 0, writes = 0, forwarded = 0;
  uint64_t read_repairs = 0;  // repair writes sent
  uint64_t unavailable = 0, timeouts = 0;
  uint64_t scans = 0, replica_scans_sent = 0;
};

class Coordinator {
 public:
  Coordinator(KvService* local, PeerTransport* peers, const Placement* placement, Timers* timers,
              const Clock* clock, const KeyspaceCatalog* keyspaces,
              CoordinatorOptions options = {});

  using ReadDone = std::function<void(Result<ReadReply>)>;
  using WriteDone = std::function<void(Result<WriteReply>)>;

  void Get(std::string_view keyspace, std::string_view key, const RequestOptions& options,
           ReadDone done);
  // `forwarded`: sent on by another node; coordinate it here whatever this node's view says.
  void Put(std::string_view keyspace, std::string_view key, std::string_view value,
           std::string_view context, uint32_t ttl_s, const RequestOptions& options, bool forwarded,
           WriteDone done);
  void Del(std::string_view keyspace, std::string_view key, std::string_view context,
           const RequestOptions& options, bool forwarded, WriteDone done);

  // A range scan at the request's consistency (node/coordinator_scan.cc): splits the range by
  // the ring's vnode ranges, reads R replicas of each and merges them key by key; paged.
  using ScanDone = std::function<void(Result<ScanReply>)>;
  void Scan(const ScanSpec& spec, const RequestOptions& options, ScanDone done);

  const CoordinatorStats& stats() const { return stats_; }

  // Enables hinted handoff: writes store hints for the replicas they miss, and ANY may be met by
  // hints alone. `hints` must outlive the coordinator's operations; null disables it again.
  void SetHintedHandoff(HintedHandoff* hints) { hints_ = hints; }

 private:
  using Plan = ReplicaPlan;
  // Works out replicas and the count needed; fails with kInvalidArgument or kUnavailable.
  // `write`: a write at ANY with no replica up is planned to be met by hints (when enabled).
  Result<Plan> MakePlan(std::string_view keyspace, std::string_view key,
                        const RequestOptions& options, bool write = false);
  // An active tracer when options.trace, with the "received" event; else an off one.
  Tracer StartTrace(const RequestOptions& options, std::string_view what, std::string_view keyspace,
                    std::string_view key);
  void TracePlan(Tracer tr, const Plan& plan, std::string_view what);
  // Plans a read and starts a ReadOp; `before_delete`: the read of a blind delete.
  void Read(std::string_view keyspace, std::string_view key, const RequestOptions& options,
            Tracer tr, bool before_delete, ReadDone done);
  // Plans a write and starts a WriteOp here, or a ForwardOp when this node is no replica.
  void Write(ForwardedWrite write, bool forwarded, Tracer tr, WriteDone done);
  OpEnv Env();

  KvService* const local_;
  PeerTransport* const peers_;
  const Placement* const placement_;
  Timers* const timers_;
  const Clock* const clock_;
  const KeyspaceCatalog* const keyspaces_;
  const CoordinatorOptions options_;
  CoordinatorStats stats_;
  HintedHandoff* hints_ = nullptr;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_COORDINATOR_H_
