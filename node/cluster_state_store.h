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

// How a node takes its place at start. A founding member (named in its own --seeds, or started
// without seeds) takes random tokens at its first start and is NORMAL at once, as the nodes of a
// new cluster start together. Any other node joins: it takes tokens from the balanced allocator
// once it knows the ring and streams its ranges before it turns NORMAL (node/bootstrap.h),
// resuming a join a crash cut short (its tokens then are the saved ones).
struct ClusterStart {
  bool joining = false;
  std::vector<Token> tokens;  // empty for a join that has not chosen its tokens yet
  int64_t generation = 0;     // this start's (NextGeneration)
  std::vector<gossip::Endpoint> saved;  // what the last run knew (LoadEndpoints)
};
// InvalidArgument when the saved state says this node left or was removed: it must not come
// back on the same data.
Result<ClusterStart> OpenClusterStart(Storage* storage, const std::string& name, bool founding,
                                      uint64_t host_id, uint32_t vnodes, int64_t now_us,
                                      const std::string& data_dir);

// The join's progress (node/bootstrap.h): "streaming" once tokens are taken, "done" once NORMAL;
// NotFound for a node that never joined (a founding member).
Result<std::string> LoadJoinState(Storage* storage);
Status SaveJoinState(Storage* storage, const std::string& state);

}  // namespace ringkv

#endif  // RINGKV_NODE_CLUSTER_STATE_STORE_H_
