// NodeAdmin: the answers to admin requests (wire AdminRequest; kvctl decommission, removenode,
// cleanup, gossipinfo, netstats, dump, repair, merkle, fingerprint), as JSON documents
// (docs/operations.md lists their fields).
//
// Thread safety: the node's loop. Every pointer but `bootstrap` and `anti_entropy` may not be
// null and must outlive the NodeAdmin.
#ifndef RINGKV_NODE_SERVER_NODE_ADMIN_H_
#define RINGKV_NODE_SERVER_NODE_ADMIN_H_

#include <functional>
#include <string>

#include "node/anti_entropy.h"
#include "node/bootstrap.h"
#include "node/cleanup.h"
#include "node/cluster_view.h"
#include "node/decommission.h"
#include "node/kv_service.h"
#include "node/membership.h"
#include "node/replica_restore.h"

namespace ringkv {

struct NodeAdmin {
  Membership* membership = nullptr;
  ClusterView* view = nullptr;
  const Bootstrap* bootstrap = nullptr;  // null: this node did not join
  Decommission* decommission = nullptr;
  const ReplicaRestore* restore = nullptr;
  Cleanup* cleanup = nullptr;
  KvService* service = nullptr;
  AntiEntropy* anti_entropy = nullptr;  // null: anti-entropy is off (kvnode --anti-entropy false)

  void Handle(const std::string& command, const std::string& argument,
              std::function<void(Result<std::string>)> done) const;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_NODE_ADMIN_H_
