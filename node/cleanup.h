// Cleanup: `kvctl cleanup` on a node erases the copies it holds of keys it no longer replicates.
//
// A node that loses ranges keeps its copies of them: a join moves ranges to the new node, and the
// old owners' copies stay behind as orphans (Cassandra keeps them too, until `nodetool cleanup`).
// They are harmless to reads (a node reads only the keys it replicates) but take disk, and they
// would come back to life as stale replicas if the node owned the range again. Cleanup walks every
// keyspace's stored objects in storage order, a page (kPurgeBatchKeys objects) at a time, and
// erases those whose token this node does not replicate on the ring that serves requests nor on
// the future one (a pending replica keeps what it receives).
//
// When it may run: the node is NORMAL, its ring is settled, no member joins or leaves, and every
// member of the ring is up (so this node's picture of the ring is fresh). A movement that starts
// while it runs stops it after the page in flight: a node gaining a range receives nothing
// before the movement's ring delay (3 s), much longer than a page takes.
//
// Versions: erasing an object forgets its clock here while other replicas keep it, so before the
// first erasure the node takes a new actor (node/identity.h, RenewActor); its later writes never
// reuse a dot another replica has seen.
//
// Thread safety: none; the node's loop. Pointers must outlive the Cleanup.
#ifndef RINGKV_NODE_CLEANUP_H_
#define RINGKV_NODE_CLEANUP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "node/range_streamer.h"

namespace ringkv {

class Cleanup {
 public:
  // `renew_actor` takes a new actor durably and hands it to the KvService (kvnode: RenewActor).
  Cleanup(const ClusterView* view, KvService* service, const KeyspaceCatalog* keyspaces,
          Timers* timers, const Clock* clock, Logger* log, std::function<Status()> renew_actor);

  // Checks and starts, on `keyspace` or, when empty, on every keyspace. InvalidArgument saying
  // why it cannot run now (and for an unknown keyspace).
  Status Start(const std::string& keyspace);
  bool running() const { return running_; }

  // what "cleanup"; state idle, cleaning, done, or "stopped: <why>"; ranges_*: keyspaces; keys
  // and bytes: the objects erased and their encoded size. Kept after it ends.
  const StreamProgress& progress() const { return progress_; }
  uint64_t examined() const { return examined_; }
  int64_t elapsed_ms() const { return elapsed_ms_; }

 private:
  // Why a cleanup may not run (or go on) now; OK when it may.
  Status Allowed() const;
  bool Keep(uint32_t replication_factor, Token token) const;
  void Page(bool has_after, Token after_token, std::string after_key);
  void End(const std::string& state);

  const ClusterView* const view_;
  KvService* const service_;
  const KeyspaceCatalog* const keyspaces_;
  Timers* const timers_;
  const Clock* const clock_;
  Logger* const log_;
  const std::function<Status()> renew_actor_;
  bool running_ = false;
  std::vector<std::string> todo_;  // keyspaces, in order
  size_t next_ = 0;
  StreamProgress progress_;
  uint64_t examined_ = 0;
  int64_t started_us_ = 0;
  int64_t elapsed_ms_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_CLEANUP_H_
