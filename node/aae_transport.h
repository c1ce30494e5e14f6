// AaeTransport: how anti-entropy asks a peer about its copy of a range (aae/messages.h): one
// request, one answer. The node binds it to short peer connections (node/server/aae_wire.h).
//
// The peer answers from its own trees (node/aae_trees.h), refusing a range it does not replicate
// as this node thinks, a tree of another shape, or a request out of bounds; those come back as
// the peer's Status.
//
// Thread safety: the node's loop.
#ifndef RINGKV_NODE_AAE_TRANSPORT_H_
#define RINGKV_NODE_AAE_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "aae/messages.h"
#include "common/status.h"
#include "ring/token_range.h"

namespace ringkv {

class AaeTransport {
 public:
  virtual ~AaeTransport() = default;
  // Asks the peer at `address` (HOST:PORT) about its copy of `range` of `keyspace`. `done` runs
  // once, on the loop: the answer, or why there is none (refused, unreachable, timed out).
  virtual void AskAae(const std::string& address, const std::string& keyspace,
                      const TokenRange& range, const AaeRequest& request, int64_t timeout_ms,
                      std::function<void(Result<AaeAnswer>)> done) = 0;
};

// What a peer's server calls to answer such a request (node/aae_trees.h, AaeTrees::Answer).
using AaeAnswerFn = std::function<Result<AaeAnswer>(
    const std::string& keyspace, const TokenRange& range, const AaeRequest& request)>;

}  // namespace ringkv

#endif  // RINGKV_NODE_AAE_TRANSPORT_H_
