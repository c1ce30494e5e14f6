#include "sim/gossip_wire_size.h"

#include <string>
#include <vector>

namespace ringkv::sim {

namespace {

size_t StringBytes(const std::string& s) { return kStringLengthBytes + s.size(); }

template <typename T>
size_t ListBytes(const std::vector<T>& items) {
  size_t bytes = kListCountBytes;
  for (const T& item : items) bytes += WireBytes(item);
  return bytes;
}

}  // namespace

// generation, version, heartbeat, host id
size_t WireBytes(const gossip::Digest& d) { return StringBytes(d.name) + 4 * kIntegerBytes; }

size_t WireBytes(const gossip::Endpoint& e) {
  const size_t header = StringBytes(e.name) + 3 * kIntegerBytes;  // generation, version, heartbeat
  const size_t state = StringBytes(e.state.address) + kIntegerBytes /* host id */ + kStatusBytes +
                       kListCountBytes + e.state.tokens.size() * kIntegerBytes +
                       2 * kIntegerBytes /* load, schema */;
  return header + state;
}

size_t WireBytes(const gossip::Syn& syn) {
  return kFrameBytes + StringBytes(syn.from) + ListBytes(syn.digests);
}

size_t WireBytes(const gossip::Ack& ack) {
  return kFrameBytes + ListBytes(ack.states) + ListBytes(ack.heartbeats) + ListBytes(ack.requests);
}

size_t WireBytes(const gossip::Ack2& ack2) {
  return kFrameBytes + StringBytes(ack2.from) + ListBytes(ack2.states) + ListBytes(ack2.heartbeats);
}

}  // namespace ringkv::sim
