// Gossip messages (gossip/state.h) to and from their wire form (proto/ringkv.capnp). Reading
// bounds every list by the gossip limits; the states are validated later by the Gossiper.
//
// Thread safety: pure functions.
#ifndef RINGKV_NODE_SERVER_GOSSIP_WIRE_H_
#define RINGKV_NODE_SERVER_GOSSIP_WIRE_H_

#include "gossip/state.h"
#include "proto/ringkv.capnp.h"

namespace ringkv {

void FillGossipSyn(wire::GossipSyn::Builder out, const gossip::Syn& syn);
void FillGossipAck(wire::GossipAck::Builder out, const gossip::Ack& ack);
void FillGossipAck2(wire::GossipAck2::Builder out, const gossip::Ack2& ack2);

// Protocol error when a list is over its limit or a status is unknown.
Result<gossip::Syn> ReadGossipSyn(wire::GossipSyn::Reader in);
Result<gossip::Ack> ReadGossipAck(wire::GossipAck::Reader in);
Result<gossip::Ack2> ReadGossipAck2(wire::GossipAck2::Reader in);

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_GOSSIP_WIRE_H_
