// TombstoneCollector: erases a node's tombstones once no replica can need them (DESIGN.md §5,
// issue 12).
//
// A tombstone shadows the older values it deleted. Erase it while some replica still holds one of
// those values without it, and anti-entropy or read repair copies the value back: deleted data
// lives again. Cassandra erases a tombstone once gc_grace_seconds have passed, whether or not
// every replica saw it, so a replica away for longer resurrects what was deleted meanwhile. Here
// an object is collected only when both of these hold:
//   - It is dead past the grace period: every sibling is a tombstone or has expired (TTL), and
//     the last of them died more than grace_s ago, plus in_flight_ms (by this node's wall clock).
//     By then no hint can still carry one of the values it shadows (a hint older than the grace
//     period is dropped, node/hinted_handoff.h, and one whose delivery began just before that
//     has landed or failed within in_flight_ms) and no request of that time is in flight.
//   - Every other replica of the key (on the ring that serves requests, with no member joining or
//     leaving) is up and, asked now, answers with the very same object (the same version hash,
//     aae/version_hash.h) or with none. Then no replica holds a value without the tombstone
//     that shadows it, and none can be sent one any more.
// So a replica away for any length of time keeps the tombstones of its ranges alive on the others
// until it is back and holds them too (anti-entropy brings them): it cannot resurrect anything.
// ScyllaDB's `tombstone_gc = repair` mode is the idea; here it is checked key by key at the moment
// of collection rather than per range after a repair.
//
// A walk runs every interval_ms over every keyspace's objects in storage order, a page at a time;
// the dead objects of a page are then checked one at a time and erased only if unchanged
// meanwhile (KvService::EraseIfUnchanged). One a replica does not yet agree on is kept for a
// later walk (anti-entropy brings that replica the tombstone). The other replicas collect their
// copies on their own walks; until then anti-entropy does not copy such a dead object back here
// (anti_entropy.h).
//
// Versions: an erased object forgets its clock while other replicas may still hold it, so before
// erasing one whose clock names this node's current actor the node takes a new actor
// (node/identity.h, RenewActor): its later writes to the key never reuse a dot.
//
// Thread safety: none; the node's loop. Pointers must outlive the collector.
#ifndef RINGKV_NODE_TOMBSTONE_GC_H_
#define RINGKV_NODE_TOMBSTONE_GC_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/version.h"
#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "storage/storage.h"

namespace ringkv {

// Whether every sibling of `object` is a tombstone or expired, the last of them at least
// `grace_us` before `now_us` (a tombstone dies at its timestamp, a TTL value at its expiry).
bool DeadPastGrace(const VersionedObject& object, int64_t now_us, int64_t grace_us);

struct TombstoneGcOptions {
  int64_t grace_s = 864'000;        // 10 days, as Cassandra's gc_grace_seconds
  int64_t interval_ms = 600'000;    // between walks; 0: never
  int64_t request_timeout_ms = 5'000;
  // The longest a request or a hint's delivery may be in flight (kvnode: --request-timeout-ms),
  // added to the grace period.
  int64_t in_flight_ms = 2'000;
};

struct TombstoneGcStats {
  uint64_t walks = 0;
  uint64_t examined = 0;   // objects the walks looked at
  uint64_t dead = 0;       // of those, dead past the grace period
  uint64_t collected = 0;  // erased
  uint64_t kept = 0;       // dead, kept: a replica holds something else, is down or did not answer
};

class TombstoneCollector {
 public:
  // `renew_actor` takes a new actor durably and hands it to the KvService (kvnode: RenewActor).
  TombstoneCollector(const ClusterView* view, KvService* service, Storage* storage,
                     PeerTransport* peers, const KeyspaceCatalog* keyspaces, Timers* timers,
                     const Clock* clock, Logger* log, std::function<Status()> renew_actor,
                     TombstoneGcOptions options);
  ~TombstoneCollector();

  // Schedules the walks (none when interval_ms is 0).
  void Start();
  // One walk now, unless one is running or the ring does not allow it (see Allowed).
  void Walk();
  bool walking() const { return walking_; }
  const TombstoneGcStats& stats() const { return stats_; }

 private:
  struct Dead {
    std::string key;
    Token token = 0;
    uint64_t version_hash = 0;
    VersionVector clock;
  };
  // OK when this node may collect: NORMAL, its ring settled, no member joining or leaving.
  Status Allowed() const;
  void Page(bool has_after, Token after_token, std::string after_key);
  void Check(std::shared_ptr<std::vector<Dead>> dead, size_t i, std::function<void()> then);
  void Erase(const Dead& d, std::function<void(bool erased)> then);
  void End(const std::string& why);

  const ClusterView* const view_;
  KvService* const service_;
  Storage* const storage_;
  PeerTransport* const peers_;
  const KeyspaceCatalog* const keyspaces_;
  Timers* const timers_;
  const Clock* const clock_;
  Logger* const log_;
  const std::function<Status()> renew_actor_;
  const TombstoneGcOptions options_;
  std::shared_ptr<TombstoneCollector*> alive_;
  bool walking_ = false;
  std::vector<std::string> todo_;  // the walk's keyspaces
  size_t next_ = 0;
  uint32_t replication_factor_ = 0;  // of todo_[next_]
  TombstoneGcStats stats_;
  TombstoneGcStats walk_;  // this walk's share, for its log line
};

}  // namespace ringkv

#endif  // RINGKV_NODE_TOMBSTONE_GC_H_
