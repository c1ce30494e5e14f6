// RingSnapshot: one `ring` answer, checked and indexed: the members with their addresses and
// tokens, the Ring (ring/ring.h) their tokens make, and the keyspaces' replication factors.
//
// Thread safety: immutable once parsed; shared between the I/O thread and callers as
// shared_ptr<const RingSnapshot>.
#ifndef RINGKV_CLIENT_RING_SNAPSHOT_H_
#define RINGKV_CLIENT_RING_SNAPSHOT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/address.h"
#include "common/token.h"
#include "proto/ringkv.capnp.h"
#include "ring/ring.h"
#include "ringkv/client.h"
#include "ringkv/error.h"

namespace ringkv::client_internal {

inline constexpr std::string_view kDefaultKeyspace = "default";
// The replication factor of "default" when a node does not list it (DESIGN.md section 3).
inline constexpr uint32_t kDefaultReplicationFactor = 3;
// Limits on what a ring answer may hold beyond what Ring::Build checks (STYLE.md).
inline constexpr size_t kRingKeyspacesMax = 4096;
inline constexpr size_t kRingAddressBytesMax = 512;

// A member's place in the cluster, as gossip says (RingMember.status on the wire).
enum class MemberStatus : uint8_t {
  kNormal,   // owns its ranges; also an empty status (a node that predates gossip) or one unknown
  kJoining,  // taking its ranges over: not yet a replica to route to, but it can coordinate
  kLeaving,  // handing its ranges over: still an owner until it has left
  kLeft,     // decommissioned: no longer a member; never tried
  kRemoved,  // removed by removenode: likewise
};
MemberStatus ParseMemberStatus(std::string_view text);
std::string_view MemberStatusName(MemberStatus status);  // "NORMAL", "JOINING", ...

struct RingSnapshot {
  struct Member {
    std::string name;
    std::string address;               // as the node advertised it
    std::optional<HostPort> endpoint;  // unset: not an address the client can connect to
    uint64_t host_id = 0;
    std::vector<Token> tokens;  // ascending
    bool up = false;
    MemberStatus status = MemberStatus::kNormal;

    // Gone from the cluster: neither a contact nor a replica.
    bool departed() const {
      return status == MemberStatus::kLeft || status == MemberStatus::kRemoved;
    }
    // Among the current owners of its ranges: what the ring (and so routing) is made of.
    bool owner() const {
      return status == MemberStatus::kNormal || status == MemberStatus::kLeaving;
    }
  };

  // By name. Every member the answer listed, departed ones included; those without tokens, joining
  // or departed own nothing.
  std::vector<Member> members;
  ringkv::Ring ring;  // the owners (NORMAL or LEAVING) that hold tokens
  // ring.nodes()[i] is members[member_of_node[i]].
  std::vector<uint32_t> member_of_node;
  std::map<std::string, uint32_t, std::less<>> replication_factors;  // by keyspace name
  std::set<std::string, std::less<>> sloppy_keyspaces;               // writes: sloppy quorum
  std::string self;                                                  // the node that answered
  // false: the node that answered had not settled its ring: the members it listed are only those
  // it had heard of (a node just started). Installed only when the client has no ring yet.
  bool settled = true;
  std::chrono::steady_clock::time_point fetched_at;

  // The factor of `keyspace` (empty: "default"); nullopt if the answer did not list it.
  std::optional<uint32_t> FindReplicationFactor(std::string_view keyspace) const;
  // The factor to route `keyspace` by: its own, else the default keyspace's. Only failover order
  // depends on it (the primary replica does not), so a keyspace created after this snapshot is
  // still routed to its primary.
  uint32_t RoutingReplicationFactor(std::string_view keyspace) const;
  // The public view, ownership at `replication_factor`.
  RingInfo Describe(std::string keyspace, uint32_t replication_factor) const;
};

// Parses and checks a `ringResult` frame (or passes an `error` frame through). An answer that
// breaks the ring's invariants (repeated names, colliding tokens, past the limits) is kProtocol.
Expected<std::shared_ptr<const RingSnapshot>> ParseRingAnswer(
    wire::Frame::Reader frame, std::chrono::steady_clock::time_point now);

}  // namespace ringkv::client_internal

#endif  // RINGKV_CLIENT_RING_SNAPSHOT_H_
