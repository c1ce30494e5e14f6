// What gossip carries (DESIGN.md §5): each member's own account of itself, versioned so that any
// two nodes can tell whose copy is newer without a clock.
//
// A member's account has two parts that change at very different rates:
//   - its state (address, host id, status, tokens, load, schema version), changed by the member
//     itself a few times in its life, each change bumping `version`;
//   - its heartbeat, bumped by the member once per gossip round: the failure detector's input.
// Both are ordered within a generation, which the member takes anew at every start (its wall
// clock in microseconds at start, and always above the last one it used), so the first state of a
// restarted node beats everything its previous run said.
//
// So one digest (name, generation, version, heartbeat) per member is enough to say which side of
// an exchange is behind and on what: the full state travels only when (generation, version)
// differs, a heartbeat alone when only the heartbeat does. In a steady cluster a round moves
// digests and heartbeats, a few dozen bytes per member.
//
// Thread safety: plain values.
#ifndef RINGKV_GOSSIP_STATE_H_
#define RINGKV_GOSSIP_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/token.h"

namespace ringkv::gossip {

// Limits (STYLE.md): every field below arrives from peers.
inline constexpr size_t kMembersMax = 4096;              // as kRingNodesMax
inline constexpr size_t kMemberTokensMax = 1024;         // as kTokensPerNodeMax
inline constexpr size_t kNameBytesMax = 255;             // as kNodeNameBytesMax
inline constexpr size_t kAddressBytesMax = 300;
inline constexpr size_t kStatesPerMessageMax = 512;      // full states in one Ack or Ack2

// The life of a member (Cassandra's names). A node is part of the ring that serves reads while
// NORMAL or LEAVING; JOINING and LEAVING nodes are pending replicas of the ranges they gain or
// lose; LEFT and REMOVED nodes own nothing and are remembered only so that an old copy of their
// NORMAL state cannot bring them back.
enum class MemberStatus : uint8_t { kJoining, kNormal, kLeaving, kLeft, kRemoved };

std::string_view StatusName(MemberStatus status);  // "JOINING", "NORMAL", ...
bool ParseStatus(std::string_view name, MemberStatus* status);
// Whether the member's tokens are in the ring that serves reads.
inline bool InRing(MemberStatus s) { return s == MemberStatus::kNormal || s == MemberStatus::kLeaving; }
inline bool Gone(MemberStatus s) { return s == MemberStatus::kLeft || s == MemberStatus::kRemoved; }

struct MemberState {
  std::string address;  // HOST:PORT other nodes and clients reach it at (its broadcast address)
  uint64_t host_id = 0;
  MemberStatus status = MemberStatus::kNormal;
  std::vector<Token> tokens;  // ascending
  uint64_t load_bytes = 0;    // what it stores, roughly
  uint64_t schema = 0;        // its keyspace catalog's version: differing ones pull the catalog
  friend bool operator==(const MemberState&, const MemberState&) = default;
};

struct Endpoint {
  std::string name;
  int64_t generation = 0;  // taken at each start; greater wins
  uint64_t version = 0;    // of `state`, within the generation
  uint64_t heartbeat = 0;  // within the generation
  MemberState state;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// InvalidArgument naming the first field out of its limits (name, address, tokens: count, order,
// kTokenMin). Every endpoint from a peer is checked before it is looked at.
Status Validate(const Endpoint& endpoint);

struct Digest {
  std::string name;
  int64_t generation = 0;
  uint64_t version = 0;
  uint64_t heartbeat = 0;
  uint64_t host_id = 0;  // so two nodes claiming one name are told apart (0: not known)
  friend bool operator==(const Digest&, const Digest&) = default;
};

// The exchange, a push-pull in three messages (Cassandra's SYN / ACK / ACK2):
//   A -> B  Syn:  a digest of every member A knows.
//   B -> A  Ack:  the full states and heartbeats B holds newer than A's digests (and members A did
//                 not list), and B's digests of the members where A is newer.
//   A -> B  Ack2: for each of those, A's full state or heartbeat.
// After it both hold the newer of the two copies of everything either knew.
struct Syn {
  std::string from;
  std::vector<Digest> digests;
};
struct Ack {
  std::vector<Endpoint> states;     // newer state (and heartbeat) than the Syn's digest
  std::vector<Digest> heartbeats;   // same state, newer heartbeat
  std::vector<Digest> requests;     // B's digests of members A holds newer
};
struct Ack2 {
  std::string from;
  std::vector<Endpoint> states;
  std::vector<Digest> heartbeats;
};

}  // namespace ringkv::gossip

#endif  // RINGKV_GOSSIP_STATE_H_
