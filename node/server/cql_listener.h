// CqlListener: kvnode's CQL native protocol port (--cql HOST:PORT). It accepts driver
// connections, frames their bytes (cql/native/frame.h), and runs each connection's requests, in
// order, through a cql::native::Conversation over a cql::Session: the same statements kvsh runs.
//
// The Session is a client of the cluster (ringkv::Client, contact point: this node's own
// --listen address), and its calls block, so the listener keeps off the node's event loop: it
// has its own I/O thread, and a pool of worker threads where conversations run. Statements
// (QUERY, PREPARE, EXECUTE, BATCH) of one connection run in parallel, each on a Session of the
// conversation's own; STARTUP, AUTH_RESPONSE, REGISTER and OPTIONS run in arrival order.
//
// Limits: connections_max open connections (more are closed at accept); per connection at most
// requests_queued_max requests and requests_queued_bytes_max bytes of them waiting or running
// (reads pause beyond either, so a driver that floods one connection is slowed, not buffered
// without bound); frames over limits.body_bytes_max are refused from their header and the
// connection closed after the error frame.
//
// Thread safety: Start and Stop from one thread (main); everything else runs on the listener's
// own threads.
#ifndef RINGKV_NODE_SERVER_CQL_LISTENER_H_
#define RINGKV_NODE_SERVER_CQL_LISTENER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "cql/native/auth.h"
#include "cql/native/frame.h"
#include "cql/partition.h"
#include "node/log.h"

namespace ringkv {

struct CqlListenerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9042;      // 0: any free port (tests)
  std::string node_address;  // REQUIRED: this node's HOST:PORT for clients (--listen)
  std::string cluster_name = "ringkv";
  size_t workers = 8;  // threads running statements (they mostly wait on the cluster)
  uint32_t connections_max = 1024;
  size_t requests_queued_max = 1024;  // per connection
  // Per connection; raised to a little over limits.body_bytes_max if below, so that one
  // largest frame always fits.
  size_t requests_queued_bytes_max = size_t{64} << 20;
  cql::native::FrameLimits limits;
  // A connection that has not completed STARTUP (and authentication) this long after it was
  // accepted, or that stops in the middle of a frame for this long, is closed. An idle
  // connection between frames is not: drivers keep them open and send heartbeats.
  int64_t startup_timeout_ms = 10'000;
  int64_t frame_timeout_ms = 30'000;
  // Set: drivers authenticate with one of these users (cql/native/auth.h).
  std::optional<cql::native::Credentials> credentials;
  // The node's --gc-grace-s: how long the tables keep tombstones at least (cql/partition.h).
  int64_t tombstone_grace_s = cql::kTombstoneGraceS;
};

class CqlListener {
 public:
  // `log` must outlive the listener.
  CqlListener(Logger* log, CqlListenerOptions options);
  ~CqlListener();  // Stop()s
  CqlListener(const CqlListener&) = delete;
  CqlListener& operator=(const CqlListener&) = delete;

  // Binds and starts the listener's threads.
  [[nodiscard]] Status Start();
  // Closes the port and every connection, without waiting: statements running finish on their
  // own. For a node shutting down gracefully, whose loop must keep serving them.
  void Close();
  // Closes, waits for running statements (each bounded by the client's request timeout) and
  // joins the threads. Idempotent.
  void Stop();

  uint16_t port() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_CQL_LISTENER_H_
