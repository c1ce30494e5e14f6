// One client request as it moves between the Client and its connections: the frame to send, the
// deadline, the attempts made so far and the completion to run once.
//
// Thread safety: created on the caller's thread, then touched only on the client's I/O thread
// (the hand-over is an asio::post, which orders the two).
#ifndef RINGKV_CLIENT_REQUEST_H_
#define RINGKV_CLIENT_REQUEST_H_

#include <capnp/message.h>
#include <kj/array.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/token.h"
#include "proto/frame.h"
#include "ringkv/error.h"

namespace ringkv::client_internal {

class Connection;

// What a request's completion receives: the node's answer (possibly an `error` frame, which the
// typed layer turns into an Error) or a failure of the client's own making.
using Outcome = Expected<std::unique_ptr<proto::DecodedFrame>>;

struct Request {
  enum class Stage : uint8_t {
    kIdle,         // not on any connection (between attempts, or done)
    kQueued,       // waiting on a connection for it to be ready or for an in-flight slot
    kWriteQueued,  // holds an in-flight slot; its bytes are not yet handed to the socket
    kWritten,      // handed to the socket: the node may have it
  };

  // Where the request may go.
  enum class Target : uint8_t {
    kKey,      // a replica of `token` (get, put, del); waits for the client's first ring
    kContact,  // a contact point (info, createKeyspace): the node the caller named
    kAnyNode,  // a contact point, else any member the ring names (ring, scan)
    kAddress,  // the node at `address` only (InfoOf)
  };

  Request(boost::asio::io_context& io, const char* what, bool idempotent, Target target)
      : what(what), idempotent(idempotent), target(target), deadline_timer(io), retry_timer(io) {}

  const char* what;       // "get", "put", ... for messages
  const bool idempotent;  // safe to send twice (get, info)
  const Target target;
  Token token = 0;        // kKey: the key's token
  std::string keyspace;   // kKey: as the caller named it (empty: "default")
  std::optional<std::string> address;  // kAddress: "host:port" (parsed on the I/O thread)
  uint64_t id = 0;        // the Client's registry key; not the wire id
  // TODO(perf): a put/del, once written, is never encoded again; its builder (a copy of the
  // value) could be released then instead of at completion.
  // Sized for a small request (proto::FrameBuilder); a large value grows it by a segment.
  proto::FrameBuilder message;
  // The encoded frame of the current attempt. Shared so that a write in progress keeps its bytes
  // alive even if the request moves on to another attempt meanwhile.
  std::shared_ptr<const kj::Array<capnp::word>> frame;
  std::optional<Error> early_error;  // failed validation: completes without touching the network

  std::chrono::milliseconds timeout{0};
  std::chrono::steady_clock::time_point deadline;
  boost::asio::steady_timer deadline_timer;
  boost::asio::steady_timer retry_timer;  // back-off after an overloaded answer

  int attempts = 0;         // attempts started
  // The endpoints (Router numbering) to try, best first, chosen when the request begins and again
  // before each retry (so that what the client learnt meanwhile counts). Empty until then.
  std::vector<uint32_t> route;
  size_t hop = 0;           // index into route of the current attempt
  uint32_t endpoint = 0;    // where the current attempt went (valid once attempts > 0)
  std::vector<uint32_t> tried;  // endpoints attempted so far, each once (at most retries + 1)
  // A coordinator refused it UNAVAILABLE and it was sent once more elsewhere: never again.
  bool unavailable_retried = false;
  // The last UNAVAILABLE answer that was retried: if no node answers after it, the caller gets
  // it rather than a connection error, since it says more.
  std::optional<Error> refusal;
  bool ever_sent = false;   // some attempt reached kWritten
  bool done = false;        // the completion has run (or is running)
  std::optional<Error> last_error;  // why the previous attempt failed, for the final message

  // Owned by the connection while the request is on it: set and cleared by Connection only.
  Stage stage = Stage::kIdle;
  Connection* connection = nullptr;
  uint64_t wire_id = 0;

  std::function<void(Outcome)> complete;
};

}  // namespace ringkv::client_internal

#endif  // RINGKV_CLIENT_REQUEST_H_
