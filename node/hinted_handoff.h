// HintedHandoff: stores the writes a replica missed and hands them back when it returns (DESIGN.md
// §4, §5; Dynamo's hinted handoff, Cassandra's rules).
//
// Storing (Store, called by WriteOp, node/write_op.h): a coordinator whose local write succeeded
// stores a hint for every replica of the key that did not acknowledge it: one that failed or timed
// out, or that was not sent the write because the failure detector believed it down; and for a
// pending replica (a node gaining the key's range) that failed every attempt. Under strict
// quorum hints do not count toward W, so they are stored after the answer when the answer came
// first; under ANY with no replica up they are the write, and WriteOp answers only once they are
// durable. A hint is refused (and counted, never silently) when its target:
//   - is not a member of the ring nor joining it (left or removed;        dropped_not_member
//     Placement::IsMember; but see "departed targets" below)
//   - has been believed down for longer than the hint window; the first     dropped_window
//     refusal per down period logs that the target needs repair            needs_repair
//   - would pass its byte cap, or the store would pass the total cap        dropped_cap
// and a hint the store fails to write is counted in dropped_io.
//
// Replay (a tick every tick_ms on the injected Timers): for every target with hints that the
// failure detector (Placement::IsUp) believes up, a batch of its oldest hints is sent through
// PeerTransport::ReplicaWrite: at most one batch in flight per target and max_targets_in_flight
// targets at once, each batch paid for from two token buckets (per target, and in total) refilled
// by the Clock's monotonic time; after a batch all of whose hints were delivered the next one
// goes at once while the buckets allow. A hint is deleted once its target acknowledged it (the
// replica stored it durably); a failed delivery leaves it for a later tick. A replica merge is
// idempotent, so a hint delivered twice (its deletion lost in a crash) makes no new sibling.
// A hint older than the tombstone grace period (gc_grace_s, on this node's wall clock) is never
// delivered, but deleted and counted in dropped_expired: the delete it might carry past, or undo,
// may already have been collected.
//
// Departed targets. Hints held for a node that has since left or been removed carry writes its
// ranges' new owners may lack (a coordinator that had not yet heard of a decommission wrote to the
// leaving node, which was cut off, and pushed its ranges before the hint could reach it). When
// the keyspace's replication factor is known (options.replication_factor), each such hint is
// *rehomed*: written to every current replica of its key (this node's own copy through
// options.apply_locally), and deleted once every one of them acknowledged (rehomed); a replica
// down keeps it for a later tick. Without a factor, they are dropped (dropped_not_member).
//
// How long a target has been down is tracked here, from IsUp observed at each tick and at each
// Store: the first observation of it down starts its down period, any observation of it up ends
// it. A restart of this node restarts every down period (the window then counts from the restart).
//
// Thread safety: none; the node's loop. The pointers given to the constructor must outlive the
// HintedHandoff; callbacks that outlive it (store completions, transport answers) do nothing.
#ifndef RINGKV_NODE_HINTED_HANDOFF_H_
#define RINGKV_NODE_HINTED_HANDOFF_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "node/effects.h"
#include "node/log.h"
#include "storage/hint_store.h"

namespace ringkv {

struct HintedHandoffOptions {
  int64_t max_hint_window_s = 10800;  // 3 h, as Cassandra
  int64_t gc_grace_s = 864000;        // 10 days, as Cassandra
  uint64_t max_hints_bytes_per_target = uint64_t{1} << 30;
  uint64_t max_hints_bytes = uint64_t{4} << 30;
  uint64_t throughput_kb_per_s = 1024;        // per target
  uint64_t total_throughput_kb_per_s = 4096;  // all targets together
  int64_t tick_ms = 200;
  size_t batch_hints_max = 64;
  size_t batch_bytes_max = 256u << 10;
  size_t max_targets_in_flight = 4;
  int64_t delivery_timeout_ms = 2000;
  // Tick even with no hint stored and every node up (kvnode: down periods are then measured from
  // the tick that first saw them). The simulator turns it off, so that a healed cluster runs out
  // of events: the tick then runs only while a hint is pending (or a batch is out), and a Store
  // arms it again. Down periods are then measured from the first Store or tick that saw them.
  bool tick_when_idle = true;
  // Whether this node still has a keyspace (kvnode: the KeyspaceCatalog). A hint of a keyspace
  // dropped since is deleted when its turn comes (dropped_no_keyspace): every replica refuses it,
  // and kept at the head of its target's queue it would stall the replay behind it. Unset: every
  // keyspace counts as present.
  std::function<bool(std::string_view keyspace)> keyspace_exists;
  // The replication factor of a keyspace (0: unknown), and a merge into this node's own copy:
  // for rehoming the hints of departed targets (above). Unset: those hints are dropped.
  std::function<uint32_t(std::string_view keyspace)> replication_factor;
  std::function<void(std::string_view keyspace, std::string_view key, const VersionedObject&,
                     std::function<void(Status)>)>
      apply_locally;
};

struct HintStats {
  uint64_t stored = 0;     // durably stored
  uint64_t delivered = 0;  // acknowledged by their target and deleted
  uint64_t delivery_failures = 0;  // sends that failed (the hint stays)
  uint64_t dropped_window = 0;
  uint64_t dropped_cap = 0;
  uint64_t dropped_not_member = 0;
  uint64_t rehomed = 0;  // hints of departed targets written to their keys' current replicas
  uint64_t dropped_expired = 0;  // older than gc_grace_s when their turn came
  uint64_t dropped_no_keyspace = 0;  // their keyspace was dropped before their turn came
  uint64_t dropped_io = 0;       // the store failed to write them
  uint64_t corrupt_skipped = 0;  // records the store could not decode (from the store)
  uint64_t needs_repair = 0;     // down periods that passed the window (one per target and period)
  uint64_t pending = 0, pending_bytes = 0;  // in the store now
};

class HintedHandoff {
 public:
  // `log` may be null (the simulator).
  HintedHandoff(HintStore* store, PeerTransport* peers, const Placement* placement, Timers* timers,
                const Clock* clock, Logger* log, HintedHandoffOptions options = {});
  ~HintedHandoff();

  // Arms the replay tick (again, after each tick: see tick_when_idle).
  void Start();

  // Whether a hint for `target` would be accepted now (member, inside the window, under the caps
  // for a record of about `bytes`). Counts nothing. For ANY, which must fail before writing when
  // its hints would be refused.
  [[nodiscard]] Status CanHint(const std::string& target, size_t bytes);

  // Stores a hint of `object` for `target`. `done` runs on the loop once it is durable (OK) or
  // refused or failed (the reason); it never runs if this HintedHandoff is destroyed first.
  void Store(const std::string& target, std::string_view keyspace, std::string_view key,
             const VersionedObject& object, std::function<void(Status)> done);

  // Before a decommissioned node exits: hands every hint it holds to another live node, which
  // stores it for the same target (PeerTransport::FallbackWrite; the first node up clockwise from
  // the key that is neither this node nor the target), and deletes it once that node has it
  // durably. `done` gets how many were handed over and how many could not be (left here).
  void HandOff(std::function<void(uint64_t handed, uint64_t kept)> done);

  // Deletes every hint for `target` (kvctl hints truncate). Returns how many.
  Result<uint64_t> Truncate(const std::string& target);

  HintStats stats() const;
  std::map<std::string, HintTargetStats> pending() const { return store_->Stats(); }

  // One replay round; the tick calls it. Public for tests.
  void Tick();

 private:
  struct Bucket {
    double tokens = 0;
    int64_t refilled_us = 0;
  };
  // Records what the failure detector says of `target` now.
  void Observe(const std::string& target);
  bool PastWindow(const std::string& target) const;
  void Refill(Bucket* b, uint64_t kb_per_s);
  void SendBatch(const std::string& target);
  // A batch of a departed target's hints to their keys' current replicas.
  void Rehome(const std::string& target);
  // A hint and the nodes it goes to.
  struct Delivery {
    Hint hint;
    std::vector<std::string> to;
  };
  // Writes each hint to its nodes (this node's own copy through options_.apply_locally; a node
  // believed down, other than the target, fails at once) and deletes it, counting it in
  // stats_.*counter, once every one acknowledged; `done(all)` after the last answer.
  void Send(const std::string& target, std::vector<Delivery> deliveries,
            uint64_t HintStats::*counter, std::function<void(bool all)> done);
  // HandOff's steps: the targets left to do, one batch of the first at a time.
  struct HandOffState;
  void HandOffNext(std::shared_ptr<HandOffState> state);
  void OnBatchDone(const std::string& target, bool all_delivered);

  HintStore* const store_;
  PeerTransport* const peers_;
  const Placement* const placement_;
  Timers* const timers_;
  const Clock* const clock_;
  Logger* const log_;
  const HintedHandoffOptions options_;
  HintStats stats_;
  std::map<std::string, int64_t> down_since_us_;  // MonoUs of the first observation down
  std::set<std::string> repair_logged_;  // targets whose current down period passed the window
  std::set<std::string> in_flight_;      // targets with a batch out
  std::map<std::string, Bucket> buckets_;
  Bucket total_bucket_;
  Timers::TimerId tick_ = 0;
  // Callbacks hold a weak_ptr to this: they do nothing once the HintedHandoff is gone.
  std::shared_ptr<HintedHandoff*> alive_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_HINTED_HANDOFF_H_
