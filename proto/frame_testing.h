// Test support for the frame decoder's tests and fuzz target: reads every field of a frame
// through its which(), with the schema's types, as the node's handlers do. Written independently
// of the decoder's own validation (which walks the frame through Cap'n Proto's dynamic API), so
// each checks the other. Throws kj::Exception on a frame a handler could not read.
#ifndef RINGKV_PROTO_FRAME_TESTING_H_
#define RINGKV_PROTO_FRAME_TESTING_H_

#include <cstddef>

#include "proto/ringkv.capnp.h"

namespace ringkv::proto::testing {

// Touches the last byte (so a sanitizer sees an out-of-bounds blob) and returns something that
// depends on it (so the read is not optimised away).
inline size_t Consume(const kj::ArrayPtr<const kj::byte>& b) { return b.size() ? b[b.size() - 1] : 0; }
inline size_t Consume(const capnp::Text::Reader& t) {
  return t.size() ? static_cast<size_t>(t[0]) : 0;
}

// What a handler does: reads every field of the message it was sent, through its which().
inline size_t ReadEveryField(wire::Frame::Reader f) {
  using wire::Frame;
  size_t n = f.getRequestId();
  switch (f.which()) {
    case Frame::HELLO: {
      auto m = f.getHello();
      n += m.getProtocolVersion() + static_cast<size_t>(m.getRole()) + Consume(m.getClusterName()) +
           Consume(m.getNodeName()) + Consume(m.getSecret());
      break;
    }
    case Frame::HELLO_OK: {
      auto m = f.getHelloOk();
      n += m.getProtocolVersion() + Consume(m.getNodeName()) + Consume(m.getClusterName()) +
           m.getFrameBytesMax() + m.getInFlightMax();
      break;
    }
    case Frame::ERROR: {
      auto m = f.getError();
      n += static_cast<size_t>(m.getCode()) + Consume(m.getMessage()) + m.getNeeded() +
           m.getAlive() + m.getInDoubt();
      break;
    }
    case Frame::GET: {
      auto m = f.getGet();
      n += Consume(m.getKeyspace()) + Consume(m.getKey()) +
           static_cast<size_t>(m.getConsistency()) + m.getR() + m.getTimeoutMs();
      break;
    }
    case Frame::GET_RESULT: {
      auto m = f.getGetResult();
      n += m.getFound() + Consume(m.getContext());
      for (auto s : m.getSiblings()) {
        n += Consume(s.getValue()) + s.getDot().getActor() + s.getDot().getCounter() +
             static_cast<size_t>(s.getTimestampUs()) + s.getTombstone() +
             static_cast<size_t>(s.getExpiresAtUs());
      }
      break;
    }
    case Frame::PUT: {
      auto m = f.getPut();
      n += Consume(m.getKeyspace()) + Consume(m.getKey()) + Consume(m.getValue()) +
           Consume(m.getContext()) + m.getTtlS() + static_cast<size_t>(m.getConsistency()) +
           m.getW() + m.getTimeoutMs();
      break;
    }
    case Frame::PUT_RESULT: {
      auto m = f.getPutResult();
      n += Consume(m.getContext()) + m.getSiblings();
      break;
    }
    case Frame::DEL: {
      auto m = f.getDel();
      n += Consume(m.getKeyspace()) + Consume(m.getKey()) + Consume(m.getContext()) +
           static_cast<size_t>(m.getConsistency()) + m.getW() + m.getTimeoutMs();
      break;
    }
    case Frame::DEL_RESULT:
      (void)f.getDelResult();
      break;
    case Frame::INFO:
      (void)f.getInfo();
      break;
    case Frame::INFO_RESULT: {
      auto m = f.getInfoResult();
      n += Consume(m.getNodeName()) + Consume(m.getClusterName()) + Consume(m.getVersion()) +
           m.getProtocolVersion() + Consume(m.getListen()) + Consume(m.getDataDir()) +
           Consume(m.getSyncMode()) + m.getUptimeS() + m.getActor() + m.getKeysApprox() +
           m.getStorageBytesApprox() + m.getConnections() + m.getRequestsServed();
      break;
    }
    case Frame::REPLICA_WRITE: {
      auto m = f.getReplicaWrite();
      n += Consume(m.getKeyspace()) + Consume(m.getKey()) + Consume(m.getObject()) + Consume(m.getHintFor());
      break;
    }
    case Frame::REPLICA_WRITE_RESULT:
      (void)f.getReplicaWriteResult();
      break;
    case Frame::REPLICA_READ: {
      auto m = f.getReplicaRead();
      n += Consume(m.getKeyspace()) + Consume(m.getKey());
      break;
    }
    case Frame::REPLICA_READ_RESULT: {
      auto m = f.getReplicaReadResult();
      n += m.getFound() + Consume(m.getObject());
      break;
    }
    case Frame::RING_RESULT: {
      auto m = f.getRingResult();
      n += Consume(m.getSelf());
      for (auto member : m.getMembers()) {
        auto d = member.getDescription();
        n += member.getUp() + Consume(d.getNodeName()) + Consume(d.getAddress()) +
             d.getTokens().size();
      }
      for (auto ks : m.getKeyspaces()) n += Consume(ks.getName()) + ks.getReplicationFactor();
      break;
    }
    case Frame::CREATE_KEYSPACE:
      n += Consume(f.getCreateKeyspace().getName());
      break;
    default:
      break;  // a union member newer than this reader: a handler answers "unknown request"
  }
  return n;
}

}  // namespace ringkv::proto::testing

#endif  // RINGKV_PROTO_FRAME_TESTING_H_
