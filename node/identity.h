// A node's identity on disk: a host id chosen at first start, and an incarnation epoch.
//
// Writes are named by dots (actor, counter) of an actor id derived from both; a key's counters
// for one actor are contiguous (common/version.h: the next write takes the local clock's entry
// + 1). A node must never issue one dot for two different values, or replicas would merge the two
// writes as one and silently drop one of them.
//
// When does a restart keep the actor? The local object's clock holds every dot the node wrote to
// it and kept, so the next write on the key takes a dot above them all. A crash can only make it
// reissue a dot it wrote but lost, and that is harmful only if the lost dot had been exposed: sent
// to a replica or acknowledged to a client. The coordinator exposes a dot only in the local write's
// completion (Coordinator::CoordinateWrite sends the object to the other replicas and answers the
// client from there; KvService holds the key until then, so no read of the key sees it, and a
// scan reads LevelDB, which shows a synced write only after its fsync), and Storage runs that
// completion once the write is as durable as the sync mode promises. So:
//   - sync=always or batch: the completion follows the fsync; every exposed dot is on the local
//     disk after any crash, and the next write takes a higher counter. The actor is KEPT across
//     unclean restarts, and a key's clock stays at one entry per node that coordinated it.
//   - sync=periodic: the completion runs before the fsync, so a machine crash can lose exposed
//     dots (a process crash alone cannot, but the next start cannot tell which it was). After an
//     unclean stop of a periodic run the node takes a new epoch, and with it a new actor.
// The record therefore remembers the sync mode of the run marked running; a record written before
// modes were recorded counts as periodic (the conservative choice).
//
// Why not "lease blocks of counters durably and jump past the lease after a crash"? Counters are
// per key and contiguous, and a clock entry (A, n) claims to have seen every dot (A, 1..n). If the
// counter jumped past dots the node lost, say (A, 3) that only replica B still holds, the local
// clock would claim to cover (A, 3) without holding its value, and merging with B would drop that
// acknowledged sibling as superseded. A new actor (or never losing an exposed dot) is the only
// safe answer with these clocks.
//
// A clean shutdown drains every write (and fsyncs, under periodic) first, so the next start keeps
// the actor whatever the mode.
//
// The same reuse would happen without a crash when the node erases a key's object while another
// replica still holds its clock: the next write would restart at (A, 1), which that replica's
// clock already covers. So every local erasure of objects whose clocks may live on elsewhere
// (`kvctl cleanup`, node/cleanup.h; tombstone collection, node/tombstone_gc.h, when the object's
// clock names the current actor) first takes a new actor with RenewActor; the new actor's dots
// are fresh on every replica. TODO(versions): PurgeKeyspace after a drop that a re-creation of
// the same name overtakes must do the same.
#ifndef RINGKV_NODE_IDENTITY_H_
#define RINGKV_NODE_IDENTITY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "storage/storage.h"

namespace ringkv {

struct NodeIdentity {
  uint64_t host_id = 0;
  uint64_t epoch = 0;
  uint64_t actor = 0;
  SyncMode sync_mode = SyncMode::kBatch;  // this run's, recorded with the identity
  bool recovered_unclean = false;  // the last run did not shut down cleanly
  // The sync mode the last run recorded (kPeriodic for a record that predates modes); meaningful
  // only when the record existed.
  SyncMode last_sync_mode = SyncMode::kPeriodic;
  // This start took a new epoch and actor: the last run stopped uncleanly under sync=periodic
  // and may have lost dots it had exposed.
  bool new_actor = false;
};

// Loads (or creates, taking `fresh_host_id`) the identity and records that the node is running
// with `sync_mode`, so that a crash, and what it may have lost, is known at the next start.
// REQUIRES: called before the node issues any write (the record is synced before it returns).
Result<NodeIdentity> OpenIdentity(Storage* storage, uint64_t fresh_host_id,
                                  SyncMode sync_mode);
// Records a clean shutdown. REQUIRES: every write has been drained and is durable.
Status CloseIdentity(Storage* storage, const NodeIdentity& identity);
// Takes the next epoch, and with it a new actor, recorded (synced) before it returns; the caller
// then names its writes by identity->actor. For a node about to erase objects whose clocks other
// replicas may hold (see above).
Status RenewActor(Storage* storage, NodeIdentity* identity);

// The node's vnode tokens: chosen at its first start (`count` random tokens, seeded by the host
// id and name) and kept, so the node owns the same ranges across restarts.
Result<std::vector<Token>> OpenTokens(Storage* storage, const std::string& name, uint64_t host_id,
                                      uint32_t count);
// Records the node's tokens (a joining node's, from the allocator), for OpenTokens to find.
Status SaveTokens(Storage* storage, const std::vector<Token>& tokens);
// Whether tokens were recorded (by OpenTokens or SaveTokens).
bool HasTokens(Storage* storage);

}  // namespace ringkv

#endif  // RINGKV_NODE_IDENTITY_H_
