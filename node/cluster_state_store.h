// What gossip knew, on disk (Storage metadata), so a restarted node serves the ring it knew before
// any seed answers; and the generation each start takes.
//
// Thread safety: the node's loop (Storage's metadata calls).
#ifndef RINGKV_NODE_CLUSTER_STATE_STORE_H_
#define RINGKV_NODE_CLUSTER_STATE_STORE_H_

#include <vector>

#include "gossip/state.h"
#include "storage/storage.h"

namespace ringkv {

Status SaveEndpoints(Storage* storage, const std::vector<gossip::Endpoint>& endpoints);
// Empty when nothing was saved; Corruption when the record cannot be read.
Result<std::vector<gossip::Endpoint>> LoadEndpoints(Storage* storage);
// This start's generation: max(now_us, the last one + 1), recorded (synced) before it is used.
Result<int64_t> NextGeneration(Storage* storage, int64_t now_us);

// The join's progress (node/bootstrap.h): "streaming" once tokens are taken, "done" once NORMAL;
// NotFound for a node that never joined (a founding member).
Result<std::string> LoadJoinState(Storage* storage);
Status SaveJoinState(Storage* storage, const std::string& state);

}  // namespace ringkv

#endif  // RINGKV_NODE_CLUSTER_STATE_STORE_H_
