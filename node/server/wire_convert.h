// Conversions between the node's request types (node/requests.h, node/trace.h) and their wire
// form (proto/ringkv.capnp), shared by the server (answers) and the peer client (requests).
//
// Thread safety: free functions; builders and readers belong to the caller.
#ifndef RINGKV_NODE_SERVER_WIRE_CONVERT_H_
#define RINGKV_NODE_SERVER_WIRE_CONVERT_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "node/requests.h"
#include "node/trace.h"
#include "proto/ringkv.capnp.h"

namespace ringkv {

inline std::string_view WireView(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}
inline std::string_view WireView(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
inline capnp::Data::Reader WireData(std::string_view s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

// A peer's error frame as the Status its code means (a code from a newer protocol: kInternal), its
// message prefixed with `context` and ": " unless `context` is empty.
Status StatusFromWire(wire::Error::Reader e, std::string_view context);

void FillTrace(wire::Trace::Builder out, const Trace& trace);
Trace ReadTrace(wire::Trace::Reader in);

// ReplicaScan requests and answers. ReadReplicaScanResult fails with kCorruption on an object that
// does not decode.
void FillReplicaScan(wire::ReplicaScan::Builder out, const ScanSpec& spec);
ScanSpec ReadReplicaScan(wire::ReplicaScan::Reader in);
void FillReplicaScanResult(wire::ReplicaScanResult::Builder out, const ReplicaScanReply& reply);
Result<ReplicaScanReply> ReadReplicaScanResult(wire::ReplicaScanResult::Reader in);

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_WIRE_CONVERT_H_
