// A node's identity on disk: a host id chosen at first start, and an incarnation epoch.
//
// Writes are named by dots of an actor id derived from both. A node that may have lost unsynced
// writes in a crash (sync=periodic) must not reuse the dots those writes took, or a later write
// would wear the same dot as a different value and replicas would merge them as one. So the epoch,
// and with it the actor, changes on every start that follows an unclean shutdown; a clean
// shutdown, which drains every write first, lets the next start keep it.
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
  bool recovered_unclean = false;  // the last run did not shut down cleanly
};

// Loads (or creates, taking `fresh_host_id`) the identity and records that the node is running, so
// that a crash is noticed at the next start.
Result<NodeIdentity> OpenIdentity(Storage* storage, uint64_t fresh_host_id);
// Records a clean shutdown. REQUIRES: every write has been drained.
Status CloseIdentity(Storage* storage, const NodeIdentity& identity);

// The node's vnode tokens: chosen at its first start (`count` random tokens, seeded by the host
// id and name) and kept, so the node owns the same ranges across restarts.
Result<std::vector<Token>> OpenTokens(Storage* storage, const std::string& name, uint64_t host_id,
                                      uint32_t count);

}  // namespace ringkv

#endif  // RINGKV_NODE_IDENTITY_H_
