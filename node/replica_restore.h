// ReplicaRestore: after removenode declares a dead member REMOVED, each surviving node that now
// replicates some of its ranges copies them from every replica that held them with it (each in
// turn: a write the removed node acknowledged may be on one survivor only)
// (`kvctl removenode`, DESIGN.md §5), so every key is back to N live copies. Every node runs this
// for itself when gossip brings it the REMOVED state; removals are handled one after another.
// A restore in progress is saved (the removed member's tokens, the ranges done), so a node
// restarted while restoring resumes with the ranges it had not finished (Resume).
//
// Each restore starts ring_delay_ms after this node heard of the removal, as a join's stream
// does: until every coordinator has heard, some still write the removed node's keys to the old
// replicas only, and a range copied before such a write would miss it for good (the simulator's
// membership mode found it: sim/README.md).
//
// Thread safety: none; the node's loop. Pointers must outlive it.
#ifndef RINGKV_NODE_REPLICA_RESTORE_H_
#define RINGKV_NODE_REPLICA_RESTORE_H_

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "node/cluster_view.h"
#include "node/keyspaces.h"
#include "node/range_streamer.h"
#include "storage/storage.h"

namespace ringkv {

class ReplicaRestore {
 public:
  ReplicaRestore(const ClusterView* view, KvService* service, PeerTransport* peers,
                 Timers* timers, const Clock* clock, const KeyspaceCatalog* keyspaces,
                 Storage* storage, Logger* log, StreamOptions options,
                 int64_t ring_delay_ms = 3000);

  // `name` was removed; `before` is the ring that still held it.
  void OnRemoved(const std::string& name, const Ring& before);
  // Restarts the restores a previous run saved and did not finish. Call once the view holds the
  // ring the node restored.
  void Resume();
  const StreamProgress& progress() const { return progress_; }

 private:
  void RunNext();
  void Save();

  struct Removal {
    std::string name;
    std::vector<StreamTask> tasks;
    int64_t start_us;  // monotonic: when the ring delay is over
  };

  const ClusterView* const view_;
  const KeyspaceCatalog* const keyspaces_;
  Timers* const timers_;
  const Clock* const clock_;
  const int64_t ring_delay_ms_;
  Storage* const storage_;
  Logger* const log_;
  std::map<std::string, std::vector<Token>> pending_;  // removed member -> its tokens
  std::set<std::string> done_;                         // "name|StreamTask::Id" finished
  StreamProgress progress_;
  RangeStreamer streamer_;
  std::deque<Removal> queue_;
  bool running_ = false;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_REPLICA_RESTORE_H_
