// Membership: gossip (gossip/gossiper.h) run on the node's loop, feeding its ClusterView.
//
// Every period the node ticks its Gossiper and sends the round's Syn to the addresses it names
// (one exchange: Syn -> Ack, then Ack2 if the peer asked for anything). Peers' Syns and Ack2s
// arrive through the server (OnSyn, OnAck2). After each step the Gossiper's events are applied:
// a member's new state goes into the ClusterView (address, tokens, status) and to the peer
// transport (its address); the failure detector's verdicts set it alive or dead; refusals are
// logged and counted. What the node knows is saved (`on_save`) whenever it changes, so a node
// restarted while every seed is down serves the ring it knew at once.
//
// Keyspaces: each member gossips a digest of its keyspace catalog (its schema version). A node
// that sees a live member with another digest pulls that member's catalog (the ring answer, as
// clients use) and merges it (create and drop times decide), so a node that was down when a
// keyspace was created or dropped learns it on return. Gossip is also how a new keyspace spreads
// at once: a node whose catalog changes (a create or drop here, or a catalog it pulled) exchanges
// with every live member right away instead of waiting for its next round, so each of them sees
// the new digest and pulls within a few round trips. A create or drop answers its client once
// every live member gossips the same digest (WhenSchemaAgrees), or after schema_agreement_ms.
//
// Settled: a node started with seeds serves once it has heard, from anyone, of every seed (or
// restored a ring from disk, or waited settle_timeout_ms); until then every request is refused
// as "not ready" rather than placed on a partial ring (ClusterView::settled).
//
// Sans-IO: the exchanges go through MembershipTransport; time through Timers and Clock.
//
// Thread safety: none; owned by the node's loop. Pointers must outlive the Membership.
#ifndef RINGKV_NODE_MEMBERSHIP_H_
#define RINGKV_NODE_MEMBERSHIP_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gossip/gossiper.h"
#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/log.h"

namespace ringkv {

struct RingAnswer {
  std::string self;  // the answering node's name
  std::vector<std::pair<MemberInfo, bool>> members;  // with its view of who is up
  std::vector<KeyspaceDef> keyspaces;
  std::vector<std::pair<std::string, int64_t>> dropped;  // keyspace name, when it was dropped
  bool settled = true;  // false: the members are only those heard of so far (ClusterView)
};

// The exchanges membership needs, addressed by HOST:PORT (a seed's name is not known before it
// answers). Each answers exactly once, on the loop.
class MembershipTransport {
 public:
  virtual ~MembershipTransport() = default;
  virtual void GossipSyn(const std::string& address, const gossip::Syn& syn, int64_t timeout_ms,
                         std::function<void(Result<gossip::Ack>)> done) = 0;
  virtual void GossipAck2(const std::string& address, const gossip::Ack2& ack2,
                          int64_t timeout_ms, std::function<void(Status)> done) = 0;
  virtual void FetchRing(const std::string& address, int64_t timeout_ms,
                         std::function<void(Result<RingAnswer>)> done) = 0;
};

struct MembershipOptions {
  std::vector<std::string> seeds;  // HOST:PORT; this node's own address may be among them
  int64_t period_ms = 1000;
  int64_t timeout_ms = 800;
  int64_t settle_timeout_ms = 10'000;
  int64_t generation = 1;     // this start's (above every earlier one of this node)
  uint64_t rng_seed = 1;
  gossip::GossipOptions gossip;
};

struct MembershipStats {
  uint64_t rounds = 0;
  uint64_t exchanges_ok = 0;
  uint64_t exchanges_failed = 0;
  uint64_t states_received = 0;  // full member states in the answers to this node's Syns
  uint64_t refused = 0;
  uint64_t convicted = 0;       // alive -> dead verdicts
  uint64_t schema_pulls = 0;
};

class Membership {
 public:
  struct Callbacks {
    std::function<void(const MemberInfo&)> on_member;    // learnt or changed (not self)
    std::function<void(const KeyspaceDef&)> on_keyspace;  // learnt (to persist it)
    std::function<void(const std::string&, int64_t)> on_drop;  // dropped here
    std::function<void(const std::vector<gossip::Endpoint>&)> on_save;  // what to persist
    std::function<void()> on_removed;  // the cluster removed this node
    // Another member was removed (removenode); `before` is the ring that still held it.
    std::function<void(const std::string&, const Ring&)> on_member_removed;
    // What this node stores, in bytes, gossiped as its load (checked every 10th round).
    std::function<uint64_t()> load_bytes;
  };

  Membership(ClusterView* view, KeyspaceCatalog* keyspaces, MembershipTransport* transport,
             Timers* timers, const Clock* clock, Logger* log, MembershipOptions options,
             Callbacks callbacks);

  // Seeds the gossip state with what a previous run saved (before Start).
  void Restore(const std::vector<gossip::Endpoint>& endpoints);
  // Starts the periodic rounds (the first at once).
  void Start();

  // The server's side of the exchange.
  gossip::Ack OnSyn(const gossip::Syn& syn);
  void OnAck2(const gossip::Ack2& ack2);

  // This node's own status and tokens (join, decommission), gossiped from the next round.
  void SetSelf(gossip::MemberStatus status, const std::vector<Token>& tokens);
  // removenode: declares a dead member REMOVED.
  Status Remove(const std::string& name);

  // Keyspaces: create or drop here; gossip spreads it (above). `propagated`: a peer's create or
  // drop passed on by a node that predates gossip, with that node's time.
  Status CreateKeyspace(const KeyspaceDef& keyspace, bool if_not_exists, bool propagated,
                        bool* created);
  void LearnKeyspace(const KeyspaceDef& keyspace);
  Status DropKeyspace(const std::string& name, bool if_exists, int64_t dropped_us,
                      bool propagated, bool* dropped);
  // `done(true)` once every live member gossips this node's schema digest, `done(false)` after
  // timeout_ms (they learn it later, through gossip).
  void WhenSchemaAgrees(int64_t timeout_ms, std::function<void(bool agreed)> done);
  void SetDropCallback(std::function<void(const std::string&, int64_t)> fn) {
    callbacks_.on_drop = std::move(fn);
  }

  // The ring answer this node gives.
  RingAnswer Answer() const;
  const gossip::Gossiper& gossiper() const { return gossiper_; }
  const MembershipStats& stats() const { return stats_; }
  int64_t now_us() const { return clock_->MonoUs(); }

 private:
  void Round();
  void Judge();
  void Exchange(const std::string& address, const gossip::Syn& syn);
  void ApplyEvents();
  void Save();  // what gossip knows, through on_save
  void UpdateSchema();
  void PullSchema();
  void Absorb(const RingAnswer& answer);
  void CheckSettled(const char* why);
  // Every live member's address (gone ones excluded).
  std::vector<std::string> LiveAddresses() const;
  bool SchemaAgrees() const;
  void PollSchemaAgreement(int64_t deadline_us, std::function<void(bool)> done);

  ClusterView* const view_;
  KeyspaceCatalog* const keyspaces_;
  MembershipTransport* const transport_;
  Timers* const timers_;
  const Clock* const clock_;
  Logger* const log_;
  const MembershipOptions options_;
  Callbacks callbacks_;
  gossip::Gossiper gossiper_;
  MembershipStats stats_;
  bool pulling_schema_ = false;
  int64_t last_pull_us_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_MEMBERSHIP_H_
