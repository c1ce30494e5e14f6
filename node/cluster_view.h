// ClusterView: a node's picture of the cluster: the members it knows (itself included), the ring
// their tokens make, and which of them its failure detector believes up. It is the production
// Placement the Coordinator routes by.
//
// Gossip (node/membership.h) feeds it: each member's address, tokens and status, and the failure
// detector's verdict. The ring that serves requests holds the members that are NORMAL or LEAVING;
// the future ring holds the NORMAL and JOINING ones; the nodes that gain a range between the two
// are its pending replicas, which writes reach too while a node joins or leaves (DESIGN.md §5).
//
// A member is up when the failure detector believes it alive AND the peer transport has not lost
// its connection to it since (the transport's fast signal, cleared by its next connection): a
// node that lost only its own link to a peer stops sending it requests without the rest of the
// cluster hearing anything of it.
//
// Thread safety: none; owned by the node's loop.
#ifndef RINGKV_NODE_CLUSTER_VIEW_H_
#define RINGKV_NODE_CLUSTER_VIEW_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gossip/state.h"
#include "node/effects.h"
#include "ring/ownership_diff.h"
#include "ring/ring.h"

namespace ringkv {

struct MemberInfo {
  std::string name;
  std::string address;  // HOST:PORT
  uint64_t host_id = 0;
  std::vector<Token> tokens;
  gossip::MemberStatus status = gossip::MemberStatus::kNormal;
  friend bool operator==(const MemberInfo&, const MemberInfo&) = default;
};

class ClusterView final : public Placement {
 public:
  // REQUIRES: self has a name and tokens.
  explicit ClusterView(MemberInfo self);

  const std::string& self() const override { return self_name_; }
  std::vector<std::string> PreferenceList(Token token, size_t n) const override;
  size_t node_count() const { return ring_.node_count(); }
  bool IsUp(const std::string& node) const override;
  std::vector<std::string> PendingReplicas(Token token, size_t n) const override;
  bool IsMember(const std::string& node) const override {
    return ring_.Contains(node) || future_ring_.Contains(node);
  }

  // Adds a member or updates what is known of it (this node's own status too). Returns whether
  // the ring or the future ring changed. Refuses (and changes nothing) a member whose tokens
  // collide with another's, or that claims this node's name with another host id.
  Result<bool> Learn(const MemberInfo& member);
  // Forgets a member (one that left long ago).
  void Forget(const std::string& node);
  // The failure detector's verdict (members start alive).
  void SetAlive(const std::string& node, bool alive);
  // The peer transport's: false when it lost its connection, true when it connected again.
  void SetUp(const std::string& node, bool up);
  bool IsAlive(const std::string& node) const {
    return node == self_name_ || dead_.count(node) == 0;
  }
  // Whether a node joins or leaves (a range movement is in flight), and which.
  std::vector<std::string> Moving() const;
  // OK when none moves; else InvalidArgument "nX is JOINING; <what> once the range movement is
  // over", for the operations that must wait for it (decommission, cleanup, repair).
  Status RefuseWhileMoving(std::string_view what) const;
  // The ring once every JOINING member is NORMAL and every LEAVING one gone.
  const Ring& future_ring() const { return future_ring_; }

  const std::map<std::string, MemberInfo>& members() const { return members_; }
  const Ring& ring() const override { return ring_; }
  std::optional<std::string> AddressOf(const std::string& node) const;

  // A node that does not yet know its seeds' tokens knows only part of the ring; a write it placed
  // on that part could land where a later read of the whole ring does not look. Until membership
  // calls it settled, every preference list holds only placeholder replicas that are never up,
  // so every request is UNAVAILABLE (needed / alive say why) instead of silently misplaced.
  // Settled from construction: a node without seeds, the simulator and unit tests.
  void set_settled(bool settled) { settled_ = settled; }
  bool settled() const { return settled_; }
  bool MembershipSettled() const override { return settled_; }
  bool Departed() const override { return gossip::Gone(members_.at(self_name_).status); }

 private:
  std::string self_name_;
  std::map<std::string, MemberInfo> members_;
  std::set<std::string> dead_;         // the failure detector's
  std::set<std::string> unreachable_;  // the transport's
  Ring ring_;
  Ring future_ring_;
  bool moving_ = false;
  // OwnershipDiff(ring_, future_ring_, n) by n, computed when first asked after a change.
  mutable std::map<size_t, std::vector<RangeChange>> pending_;
  bool settled_ = true;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_CLUSTER_VIEW_H_
