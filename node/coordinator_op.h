// What the coordinator's operations share (node/read_op.h, node/write_op.h, node/forward_op.h):
// the plan a request is run by, and the effects and coordinator state an operation reaches.
//
// Ownership: an operation is created by the Coordinator with std::make_shared and owned by the
// callbacks it waits on (replica answers, its deadline timer); it lives exactly as long as one of
// them can still reach it, so it may outlive the call that started it. It reaches the
// Coordinator only through OpEnv's pointers to its options and stats.
//
// Thread safety: none; everything runs on the node's loop.
#ifndef RINGKV_NODE_COORDINATOR_OP_H_
#define RINGKV_NODE_COORDINATOR_OP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "node/effects.h"
#include "node/kv_service.h"

namespace ringkv {

struct CoordinatorOptions;
struct CoordinatorStats;
class HintedHandoff;

// The replicas one request runs on, worked out once when it arrives (Coordinator::MakePlan).
struct ReplicaPlan {
  std::vector<std::string> replicas;  // preference list
  std::vector<std::string> up;        // those the failure detector believes up; self always is
  size_t needed = 0;                  // R or W
  // Sloppy quorum (writes): a stand-in for each replica that is down, as far as healthy nodes past
  // the preference list go, in the order of `replicas`. Each stores the write as a durable hint
  // for its owner, and its acknowledgement counts toward `needed`.
  struct Fallback {
    std::string node;
    std::string owner;
  };
  std::vector<Fallback> fallbacks;
  // Sloppy quorum: the nodes past the preference list believed up that stand in for no one yet,
  // in ring order. A replica believed up whose write fails before the answer takes the next one.
  std::vector<std::string> spare_stand_ins;
  bool sloppy = false;                // a write under sloppy quorum
  // Consistency ANY with no replica up: the write is coordinated here as a non-replica's and
  // durable hints for the replicas are what counts toward W (node/write_op.h).
  bool hints_count = false;
  // Writes: while a node joins or leaves, the nodes gaining this key's range (Placement::
  // PendingReplicas), not in `replicas`. Each is sent the write too, and the write then needs
  // `needed` + pending.size() acknowledgements from replicas and pending replicas together (as
  // Cassandra's blockFor): of the acknowledging nodes at most pending.size() lose the range when
  // the movement ends, so at least `needed` of them hold the key on the ring after it.
  std::vector<std::string> pending;
  size_t PendingNeeded() const { return hints_count ? 0 : pending.size(); }
  int64_t deadline_us = 0;            // Clock::MonoUs time by which the client is answered
};

// Sloppy quorum: fills plan->fallbacks with a stand-in for each replica of plan->replicas not in
// plan->up, and plan->spare_stand_ins with the rest: the nodes clockwise past the preference list
// that `placement` believes up (itself only when `self_hints`, it has hinted handoff), in order.
void PlanStandIns(const Placement& placement, bool self_hints, std::string_view key,
                  ReplicaPlan* plan);

// How a node that has not settled its ring (Placement::MembershipSettled) refuses a request: an
// UNAVAILABLE (so that older clients treat it as any refusal: nothing was done) whose message
// starts with kNotReadyPrefix, which tells a client to take the request to another node rather
// than conclude that too few replicas are up.
inline constexpr std::string_view kNotReadyPrefix = "not ready: ";
Status NotReady(const Placement& placement, uint32_t needed);

// The effects an operation reaches the world through, and the coordinator state it updates.
// Every pointer must outlive the operations: `options` and `stats` point into the Coordinator,
// so the Coordinator must outlive every callback of the transport and timers (kvnode_main
// destroys the peer client, which answers its pending calls, before the coordinator).
struct OpEnv {
  KvService* local;
  PeerTransport* peers;
  const Placement* placement;
  Timers* timers;
  const Clock* clock;
  const CoordinatorOptions* options;
  CoordinatorStats* stats;
  HintedHandoff* hints;  // null: no hinted handoff (a missed replica is left to repair)

  bool IsSelf(const std::string& node) const { return node == placement->self(); }

  // A replica's whole copy of a key: this node's from the local service (which may answer before
  // returning), any other's over the transport.
  void ReplicaRead(const std::string& node, std::string_view keyspace, std::string_view key,
                   int64_t deadline_us, PeerTransport::ReadDone done) const {
    if (IsSelf(node)) {
      local->ReplicaRead(keyspace, key, std::move(done));
    } else {
      peers->ReplicaRead(node, keyspace, key, deadline_us, std::move(done));
    }
  }

  // Has `node` (this one, or another) store `object` as a durable hint for `owner`: the write of a
  // fallback under sloppy quorum.
  void FallbackWrite(const std::string& node, const std::string& owner, std::string_view keyspace,
                     std::string_view key, const VersionedObject& object, int64_t deadline_us,
                     PeerTransport::WriteDone done) const;

  // Merges `object` into a replica's copy, this node's or another's.
  void ReplicaWrite(const std::string& node, std::string_view keyspace, std::string_view key,
                    const VersionedObject& object, int64_t deadline_us,
                    PeerTransport::WriteDone done) const {
    if (IsSelf(node)) {
      local->ReplicaWrite(keyspace, key, object, std::move(done));
    } else {
      peers->ReplicaWrite(node, keyspace, key, object, deadline_us, std::move(done));
    }
  }
};

}  // namespace ringkv

#endif  // RINGKV_NODE_COORDINATOR_OP_H_
