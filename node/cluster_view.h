// ClusterView: a node's picture of the cluster: the members it knows (itself included), the ring
// their tokens make, and which of them its failure detector believes up. It is the production
// Placement the Coordinator routes by.
//
// With static membership (every node started with --seeds), members are learnt from the seeds'
// ring answers and never leave; gossip will later feed the same view.
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

#include "node/effects.h"
#include "ring/ring.h"

namespace ringkv {

struct MemberInfo {
  std::string name;
  std::string address;  // HOST:PORT
  uint64_t host_id = 0;
  std::vector<Token> tokens;
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

  // Adds a member or updates what is known of it. Returns whether the ring changed. Refuses (and
  // changes nothing) a member whose tokens collide with another's, or that claims this node's name
  // with another host id.
  Result<bool> Learn(const MemberInfo& member);
  void SetUp(const std::string& node, bool up);

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

 private:
  std::string self_name_;
  std::map<std::string, MemberInfo> members_;
  std::set<std::string> up_;
  Ring ring_;
  bool settled_ = true;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_CLUSTER_VIEW_H_
