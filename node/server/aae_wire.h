// Anti-entropy's wire (proto/ringkv.capnp: the aae and aaeResult frames): the messages of an
// exchange (aae/messages.h) to and from their wire form, the server's answer to an aae frame, and
// AaeClient, the AaeTransport (node/aae_transport.h) over the short peer connections of
// MembershipClient.
//
// Reading is the boundary with an untrusted peer: an unknown kind, a list longer than any tree
// allows, a key over the key bound or a keyspace name over its bound is a clear Status, never a
// crash. Only sizes are checked here; whether the ids fit the receiver's tree (ascending, in
// range, the same shape) is aae's ValidateRequest, run by whoever answers, and whether an answer
// fits its request is the Exchange's.
//
// Thread safety: the functions are pure; AaeClient as MembershipClient (the io_context's thread).
#ifndef RINGKV_NODE_SERVER_AAE_WIRE_H_
#define RINGKV_NODE_SERVER_AAE_WIRE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "aae/messages.h"
#include "common/status.h"
#include "node/aae_transport.h"
#include "node/server/membership_client.h"
#include "proto/ringkv.capnp.h"
#include "ring/token_range.h"

namespace ringkv {

// Ids in one request, and hashes in one answer: no tree has more segments (a leaves answer of
// every branch holds one hash per segment).
inline constexpr uint32_t kAaeIdsMax = kSegmentsMax;
inline constexpr uint32_t kAaeHashesMax = kSegmentsMax;
// Keys in one keys answer. The frame size bounds their bytes; this bounds the list itself, at
// four keys per segment of the largest tree.
// TODO(limits): the answerer does not cap its answer yet (aae/messages.h, KeysAnswerBuilder).
inline constexpr uint32_t kAaeKeysMax = 4 * kSegmentsMax;

// One request as it arrives: what it concerns, and what it asks.
struct AaeCall {
  std::string keyspace;
  TokenRange range;
  AaeRequest request;
};

void FillAaeRequest(wire::AaeRequest::Builder out, const std::string& keyspace,
                    const TokenRange& range, const AaeRequest& request);
// InvalidArgument (the request is wrong; do not retry) for an unknown kind, too many ids or a
// keyspace name over kKeyspaceNameBytesMax.
Result<AaeCall> ReadAaeRequest(wire::AaeRequest::Reader in);

void FillAaeResult(wire::AaeResult::Builder out, const AaeAnswer& answer);
// Protocol (the peer broke the protocol) for an unknown kind, too many hashes or keys, or a key
// empty or over kKeyBytesMax.
Result<AaeAnswer> ReadAaeResult(wire::AaeResult::Reader in);

// Node `self`'s answer to an aae frame from a peer: `handler`'s for the request read from `in`.
// InvalidArgument when `handler` is empty ("anti-entropy is off on SELF": kvnode --anti-entropy
// false) or the request does not read; the handler's own errors as they are.
Result<AaeAnswer> AnswerAae(const AaeAnswerFn& handler, std::string_view self,
                            wire::AaeRequest::Reader in);

// AaeTransport over MembershipClient's one-shot peer exchanges: one connection per request. An
// exchange asks a few rounds per range, seconds apart at most, so a pooled connection would save
// little. The peer's error frame comes back as its Status; an answer of another kind than the
// request's as kProtocol.
class AaeClient final : public AaeTransport {
 public:
  // `client` must outlive this object.
  explicit AaeClient(MembershipClient* client) : client_(client) {}

  void AskAae(const std::string& address, const std::string& keyspace, const TokenRange& range,
              const AaeRequest& request, int64_t timeout_ms,
              std::function<void(Result<AaeAnswer>)> done) override;

 private:
  MembershipClient* const client_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_AAE_WIRE_H_
