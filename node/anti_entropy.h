// AntiEntropy: replicas of a range compare their trees and exchange only the keys on which they
// differ (DESIGN.md §5, issue 12; Riak's Tictac AAE).
//
// One exchange (aae/exchange.h) runs between this node and one other replica of one (keyspace,
// range): both are asked the same questions, this node's trees (node/aae_trees.h) answering here
// and the peer's over AaeTransport; equal roots end it at once. Each differing key is then
// repaired both ways through the versions: each side's object is read and merged into the other
// (KvService::ReplicaWrite here, PeerTransport::ReplicaWrite there), so concurrent values become
// siblings and nothing newer is overwritten. An exchange that found nothing, or whose repairs all
// succeeded, marks the two agreed on the range (AaeTrees::MarkAgreed). One exception: an object
// dead past the grace period is not copied to a side that holds nothing of its key; that side
// collected it already, and the holder collects its own copy (node/tombstone_gc.h).
//
// When: every interval_ms (0: never), a round over the ranges this node is the first replica of,
// with each other replica that is up, one exchange at a time (so the other replicas of a range do
// not repeat it, and foreground traffic keeps the loop), paced to round_bytes_per_s; and on demand, Repair(keyspace) (`kvctl
// repair`): every range this node replicates, with every other replica. A round or repair that
// finds the ring moving (a join or leave), or the trees building, skips what it cannot do.
//
// Thread safety: none; the node's loop. Pointers must outlive it.
#ifndef RINGKV_NODE_ANTI_ENTROPY_H_
#define RINGKV_NODE_ANTI_ENTROPY_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aae/exchange.h"
#include "node/aae_transport.h"
#include "node/aae_trees.h"
#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/log.h"

namespace ringkv {

// How long to wait before the next step of work that has sent `bytes` in `elapsed_us` so that it
// averages at most `bytes_per_s` (0: no limit): 0 when it is within the rate.
int64_t PaceDelayUs(uint64_t bytes, int64_t elapsed_us, uint64_t bytes_per_s);

struct AntiEntropyOptions {
  int64_t interval_ms = 600'000;  // scheduled rounds; 0: only on demand
  int64_t request_timeout_ms = 10'000;
  ExchangeOptions exchange;
  // The tombstone grace period (node/tombstone_gc.h): a dead object past it is not copied to a
  // replica that holds nothing of the key, which collected it or never needed it.
  int64_t gc_grace_s = 864'000;
  // Scheduled rounds send at most this many bytes a second on average (exchanges and repaired
  // objects; 0: no limit), so a round never crowds out foreground traffic. `kvctl repair` runs
  // at full speed: an operator asked for it.
  uint64_t round_bytes_per_s = 4u << 20;
};

// What a repair (or the last scheduled round) did, for `kvctl repair` and netstats.
struct RepairReport {
  std::string what;            // "repair KEYSPACE", "repair" (all), "round"
  std::string state = "idle";  // running, done
  uint64_t ranges_total = 0;   // (range, peer) exchanges planned
  uint64_t ranges_done = 0;
  uint64_t ranges_agreed = 0;  // of those done: equal roots
  uint64_t failures = 0;       // exchanges that could not run (peer down, refused, timed out)
  uint64_t keys_differing = 0;
  uint64_t keys_repaired = 0;
  uint64_t bytes = 0;          // exchange payload plus the objects sent for repairs
  int64_t elapsed_ms = 0;
  std::string last_error;
};

// `kvctl merkle`: one range this node replicates, and each replica's root as it answered.
struct RangeRoots {
  TokenRange range;
  std::vector<std::string> replicas;   // preference order
  std::vector<std::string> roots;      // per replica: the root in hex, or why it did not answer
  int64_t converged_us = 0;  // when every other replica last agreed with this node (0: never)
};

// `kvctl fingerprint`: one hash of a keyspace's contents, equal on every replica set once they
// converged, and independent of the ring and the tree shape: the XOR of every (key, version)
// contribution, gathered as the XOR of one root per ring range.
struct Fingerprint {
  uint64_t hash = 0;
  size_t ranges = 0;           // ring ranges of the keyspace
  size_t ranges_missing = 0;   // ranges no replica answered for: then `hash` is partial
  std::string last_error;
};

struct AntiEntropyStats {
  uint64_t exchanges = 0, exchanges_failed = 0, keys_repaired = 0, bytes = 0;
};

class AntiEntropy {
 public:
  AntiEntropy(const ClusterView* view, AaeTrees* trees, KvService* service, PeerTransport* peers,
              AaeTransport* aae, Timers* timers, const Clock* clock,
              const KeyspaceCatalog* keyspaces, Logger* log, AntiEntropyOptions options = {});
  ~AntiEntropy();

  // Arms the scheduled rounds (none when interval_ms is 0).
  void Start();
  // `kvctl repair [KEYSPACE]` (empty: every keyspace). InvalidArgument when a repair runs already
  // or the keyspace is unknown.
  Status Repair(const std::string& keyspace);
  bool running() const { return running_; }
  const RepairReport& report() const { return report_; }
  const AntiEntropyStats& stats() const { return stats_; }

  // Gathers RangeRoots for every range of `keyspace` this node replicates (asking the others).
  void Roots(const std::string& keyspace, std::function<void(Result<std::vector<RangeRoots>>)> done);
  // Gathers a Fingerprint of `keyspace`: this node's roots for the ranges it replicates, a live
  // replica's for the others.
  void FingerprintOf(const std::string& keyspace, std::function<void(Result<Fingerprint>)> done);

 private:
  struct Task {
    std::string keyspace;
    TokenRange range;
    std::string peer;
  };
  struct Run;  // one exchange in progress
  void Plan(const std::string& keyspace, bool primary_only);
  void Next();
  void Ask(std::shared_ptr<Run> run);
  void RepairKeys(std::shared_ptr<Run> run, size_t i);
  void Finish(std::shared_ptr<Run> run, Status s);
  void Round();
  // The delay before the next step: a round's pace (PaceDelayUs), 0 for a repair.
  int64_t Pace() const;
  // Asks `peer` for its root of `range`.
  void AskRoot(const std::string& peer, const std::string& keyspace, const TokenRange& range,
               std::function<void(Result<uint64_t>)> done);

  const ClusterView* const view_;
  AaeTrees* const trees_;
  KvService* const service_;
  PeerTransport* const peers_;
  AaeTransport* const aae_;
  Timers* const timers_;
  const Clock* const clock_;
  const KeyspaceCatalog* const keyspaces_;
  Logger* const log_;
  const AntiEntropyOptions options_;
  bool running_ = false;
  std::deque<Task> tasks_;
  RepairReport report_;
  AntiEntropyStats stats_;
  int64_t started_us_ = 0;
  // Callbacks hold a weak_ptr to this: they do nothing once it is gone.
  std::shared_ptr<AntiEntropy*> alive_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_ANTI_ENTROPY_H_
