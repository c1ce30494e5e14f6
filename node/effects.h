// The narrow interfaces through which the replication core reaches the world (DESIGN.md §2). main()
// binds them to Boost.Asio and the ring; sim/ binds them to a virtual network and clock.
//
// Thread safety: every method is called on, and every callback runs on, the node's event loop.
#ifndef RINGKV_NODE_EFFECTS_H_
#define RINGKV_NODE_EFFECTS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "common/version.h"
#include "node/requests.h"
#include "ring/ring.h"

namespace ringkv {

// Timers on the node's loop, in the Clock's monotonic time.
class Timers {
 public:
  using TimerId = uint64_t;
  virtual ~Timers() = default;
  // Runs `fn` after `delay_us`, unless cancelled first.
  virtual TimerId After(int64_t delay_us, std::function<void()> fn) = 0;
  // Cancelling a timer that ran or was cancelled is a no-op.
  virtual void Cancel(TimerId id) = 0;
};

// Node-to-node requests. A call is answered exactly once, on the loop: with the peer's answer, or
// with kUnavailable (no connection to the peer), kTimeout (no answer by the deadline, which may
// mean it was applied), or the peer's own error.
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;

  using WriteDone = std::function<void(Status)>;
  using ReadReply = ReplicaReadReply;
  using ReadDone = std::function<void(Result<ReadReply>)>;

  virtual void ReplicaWrite(const std::string& peer, std::string_view keyspace,
                            std::string_view key, const VersionedObject& object,
                            int64_t deadline_us, WriteDone done) = 0;
  virtual void ReplicaRead(const std::string& peer, std::string_view keyspace,
                           std::string_view key, int64_t deadline_us, ReadDone done) = 0;

  // Sloppy quorum: asks `peer`, a node past the key's preference list, to stand in for the replica
  // `owner`, which is down: it stores `object` as a durable hint for `owner` (its hinted handoff
  // delivers it when `owner` returns) and answers once the hint is durable. The object is not
  // merged into `peer`'s own data, so reads never see it there.
  virtual void FallbackWrite(const std::string& peer, const std::string& owner,
                             std::string_view keyspace, std::string_view key,
                             const VersionedObject& object, int64_t deadline_us,
                             WriteDone done) = 0;

  // Hands a client write to a node of the key's preference list, which coordinates it. On
  // kTimeout the write is in doubt.
  using ForwardDone = std::function<void(Result<WriteReply>)>;
  virtual void ForwardWrite(const std::string& peer, const ForwardedWrite& write,
                            int64_t deadline_us, ForwardDone done) = 0;

  // A replica's objects in one non-wrapping range (spec.start_token < spec.end_token), tombstones
  // included (KvService::ReplicaScan).
  using ScanDone = std::function<void(Result<ReplicaScanReply>)>;
  virtual void ReplicaScan(const std::string& peer, const ScanSpec& spec, int64_t deadline_us,
                           ScanDone done) = 0;
};

// Where keys live and which nodes are up, as this node currently believes.
class Placement {
 public:
  virtual ~Placement() = default;
  virtual const std::string& self() const = 0;
  // The first min(n, nodes) distinct physical nodes clockwise from `token`.
  virtual std::vector<std::string> PreferenceList(Token token, size_t n) const = 0;
  // The failure detector's view. The node itself is always up.
  virtual bool IsUp(const std::string& node) const = 0;
  // While a node joins or leaves: the nodes that will replicate `token` at factor n once the
  // movement completes but do not yet (node/cluster_view.h). Writes reach them too, without
  // counting toward W, so a range streamed to them misses nothing written meanwhile.
  virtual std::vector<std::string> PendingReplicas(Token token, size_t n) const {
    (void)token, (void)n;
    return {};
  }
  // The ring the preference lists come from (range scans split their range by its vnodes).
  virtual const Ring& ring() const = 0;
  // Whether `node` holds, or is gaining, ranges: a member of ring(), or a node joining it (a
  // pending replica), which hinted handoff must serve as well as an owner.
  virtual bool IsMember(const std::string& node) const { return ring().Contains(node); }
  // Whether ring() holds every member (node/cluster_view.h): until then a node missing from it may
  // be one not learnt yet, not one that left.
  virtual bool MembershipSettled() const { return true; }
  // This node has left the cluster (decommissioned, or removed): it coordinates nothing more, so
  // no write it takes (a forwarder that has not heard yet) ends as a hint it then exits with.
  virtual bool Departed() const { return false; }
};

}  // namespace ringkv

#endif  // RINGKV_NODE_EFFECTS_H_
