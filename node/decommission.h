// Decommission: this node leaves the cluster without lowering any key's replica count
// (DESIGN.md §5; `kvctl decommission`).
//
//   1. Refused unless this node is NORMAL, no other node joins or leaves (movements are
//      serialised), every keyspace keeps at least its replication factor of nodes without it, and
//      every node that will gain a range is up.
//   2. Gossip LEAVING. The node stays in the ring that serves requests; every coordinator that
//      hears also writes to the nodes gaining its ranges (ClusterView::PendingReplicas).
//   3. After ring_delay_ms, push each range it loses to each node that gains it: pages of its own
//      replica scan, each object sent as a replica write (merged there through its version).
//      Throttled like every stream; a page a gainer fails is sent again after retry_ms.
//   4. Gossip LEFT: from now on it coordinates nothing (ClusterView::Departed). Let two gossip
//      periods pass so the news spreads and the writes it took finish, hand its hints to other
//      nodes (options.hand_off_hints: HintedHandoff::HandOff), then `on_left` (kvnode stops and
//      exits 0). Its data stays on its disk; the node refuses to start again on it.
//
// Thread safety: none; the node's loop. Pointers must outlive the Decommission.
#ifndef RINGKV_NODE_DECOMMISSION_H_
#define RINGKV_NODE_DECOMMISSION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "node/membership.h"
#include "node/range_streamer.h"

namespace ringkv {

struct DecommissionOptions {
  int64_t ring_delay_ms = 3000;
  int64_t period_ms = 1000;  // gossip's
  StreamOptions stream;
  // Runs its argument once the node's hints are with other nodes. Unset: no hints to hand.
  std::function<void(std::function<void()>)> hand_off_hints;
};

class Decommission {
 public:
  Decommission(ClusterView* view, Membership* membership, KvService* service,
               PeerTransport* peers, Timers* timers, const Clock* clock,
               const KeyspaceCatalog* keyspaces, Logger* log, DecommissionOptions options,
               std::function<void()> on_left);

  // Checks and starts; InvalidArgument saying why it cannot.
  Status Start();
  bool running() const { return running_; }
  const StreamProgress& progress() const { return progress_; }

 private:
  struct Push {
    std::string keyspace;
    TokenRange range;  // non-wrapping
    std::string to;
  };
  void Plan();
  void Next();
  void SendPage(bool has_after, Token after_token, std::string after_key);
  void SendEntries(std::shared_ptr<ReplicaScanReply> reply, std::vector<size_t> which,
                   int64_t started_us);
  void Finish();

  ClusterView* const view_;
  Membership* const membership_;
  KvService* const service_;
  PeerTransport* const peers_;
  Timers* const timers_;
  const Clock* const clock_;
  const KeyspaceCatalog* const keyspaces_;
  Logger* const log_;
  const DecommissionOptions options_;
  std::function<void()> on_left_;
  bool running_ = false;
  std::vector<Push> pushes_;
  size_t next_ = 0;
  StreamProgress progress_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_DECOMMISSION_H_
