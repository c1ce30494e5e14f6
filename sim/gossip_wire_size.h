// The size of a gossip message on the wire, for the gossip simulator's byte counts.
//
// kvnode sends gossip as Cap'n Proto frames (node/membership.cc); the simulator links no Cap'n
// Proto (sans-IO), so it counts the bytes of a plain explicit encoding instead, field by field:
//
//   frame      = 4 (length) + 1 (message type)
//   string     = 2 (length) + its bytes
//   list       = 4 (count) + its elements
//   integer    = 8 (generation, version, heartbeat, host id, token, load, schema), fixed width
//   status     = 1
//   Digest     = string name + 4 * 8 (generation, version, heartbeat, host id)  (name + 34 bytes)
//   Endpoint   = string name + 3 * 8 + string address + 8 host id + 1 status
//                + list of 8-byte tokens + 8 load + 8 schema
//                                                    (name + address + 8 * tokens + 57 bytes)
//   Syn        = frame + string from + list of Digest
//   Ack        = frame + list of Endpoint + list of Digest (heartbeats) + list of Digest (requests)
//   Ack2       = frame + string from + list of Endpoint + list of Digest (heartbeats)
//
// Fixed-width integers overstate what a varint encoding would send (heartbeats and versions are
// small), so the figures are an upper bound of a compact encoding, and in the range of Cap'n
// Proto's (8-byte words, with pointers).
//
// Thread safety: pure functions.
#ifndef RINGKV_SIM_GOSSIP_WIRE_SIZE_H_
#define RINGKV_SIM_GOSSIP_WIRE_SIZE_H_

#include <cstddef>

#include "gossip/state.h"

namespace ringkv::sim {

inline constexpr size_t kFrameBytes = 4 + 1;
inline constexpr size_t kStringLengthBytes = 2;
inline constexpr size_t kListCountBytes = 4;
inline constexpr size_t kIntegerBytes = 8;
inline constexpr size_t kStatusBytes = 1;

size_t WireBytes(const gossip::Digest& digest);
size_t WireBytes(const gossip::Endpoint& endpoint);
size_t WireBytes(const gossip::Syn& syn);
size_t WireBytes(const gossip::Ack& ack);
size_t WireBytes(const gossip::Ack2& ack2);

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_GOSSIP_WIRE_SIZE_H_
