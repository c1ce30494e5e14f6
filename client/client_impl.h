// Client::Impl, the Client's engine: a registry of pending requests, their deadlines and retries, over one Connection per
// endpoint (contact point or ring member, see client/router.h), all driven by one I/O thread.
//
// The ring. Before the first keyed request is routed, the client fetches the ring from a contact
// point; keyed requests wait for that answer (one round trip, once), so even a one-shot tool's
// single request goes straight to a replica. Later fetches never hold requests up: the first
// request that finds the ring older than ring_refresh_interval starts one in the background, and
// so does a failed connection. A failed fetch leaves the ring as it was (none: contact points)
// and is retried after kRingRetryAfterFailure. An UNAVAILABLE answer (a coordinator saw too few
// replicas: the membership may have changed) also starts one, at most once per
// kRingStaleRefetchMin. A node that answers the ring request with a
// protocol error (an older node that does not know it closes the connection) turns ring fetching
// off for the client's life, so that no later fetch can cost the requests sharing a connection.
//
// Retries. A connection failure, an OVERLOADED answer to an idempotent request, and an
// UNAVAILABLE answer (to any request: the coordinator refused it before writing anything) move
// the request on to another endpoint, chosen afresh from the router with what the client has
// learnt since: the first of the new route not tried yet. An UNAVAILABLE that says "not ready: "
// (a node that has not settled its ring) is retried as any failure is, on a node believed
// healthy; a plain UNAVAILABLE only once, and only on another node, which may see more replicas
// (the DataStax drivers' default retry policy). A node that sees too few replicas is likely cut
// off from some; so the retry goes first to a node the ring says is down but that the client
// has no evidence of its own against (it may sit on the other side of a partition, with the
// replicas the first could not see), else to a healthy one. If no node answers after such a
// retry, the caller gets the refusal, not a connection error. Timeouts are never retried: a
// write that timed out may have been applied.
//
// Lifetime design. Handlers capture `this` (the Impl) raw and Connections / Requests by
// shared_ptr or weak_ptr. That is safe because handlers run only on the I/O thread, and
// ~Client joins that thread before the Impl dies; handlers still queued then are destroyed
// unrun with the io_context, which Asio supports (the io_context is the Impl's first member, so
// it outlives everything that holds its sockets and timers).
//
// The public surface (client_api.cc) builds requests and hands them to the Impl (client.cc).
#ifndef RINGKV_CLIENT_CLIENT_IMPL_H_
#define RINGKV_CLIENT_CLIENT_IMPL_H_

#include <fmt/format.h>
#include <kj/exception.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/connection.h"
#include "client/request.h"
#include "client/ring_snapshot.h"
#include "client/router.h"
#include "ringkv/client.h"

namespace ringkv {
namespace client_internal {

// Builds the request's frame on the caller's thread (so that copying a large value does not stall
// the I/O thread), unless validation failed.
template <typename Build>
void BuildOrFail(Request& request, Expected<void> valid, Build build) {
  if (!valid.ok()) {
    request.early_error = valid.error();
    return;
  }
  try {
    build(request.message.initRoot<wire::Frame>());
  } catch (const kj::Exception& e) {
    request.early_error =
        Error(ErrorCode::kInternal,
              fmt::format("cannot encode the {}: {}", request.what, e.getDescription().cStr()));
  }
}

}  // namespace client_internal

namespace asio = boost::asio;
using client_internal::Connection;
using client_internal::HostPort;
using client_internal::Outcome;
using client_internal::Request;
using client_internal::RingSnapshot;
using client_internal::Router;
using Snapshot = std::shared_ptr<const RingSnapshot>;

class Client::Impl final : public Connection::Listener {
 public:
  explicit Impl(ClientOptions options);
  // REQUIRES: Shutdown() has returned.
  ~Impl() override { assert(!thread_.joinable()); }

  // A request due `timeout` from now (0: the default). Called on any thread.
  std::shared_ptr<Request> NewRequest(const char* what, bool idempotent, Request::Target target,
                                      std::chrono::milliseconds timeout);
  // Hands `request` to the I/O thread; its completion will run exactly once. Any thread.
  void Submit(std::shared_ptr<Request> request);
  // Fetches the ring through a contact point (or, failing those, a member), installs it as the
  // ring to route by, then passes it to `done`: on the I/O thread, except that a fetch submitted
  // during shutdown fails with kCancelled on the submitting thread. Any thread.
  void FetchRing(std::function<void(Expected<Snapshot>)> done);
  // The ring routed by (null: none yet). Any thread.
  Snapshot CurrentRing() const;
  // The next keyed request refetches the ring (a keyspace was created). Any thread.
  void ExpireRing();
  // Fails everything pending with kCancelled, then stops and joins the I/O thread.
  // REQUIRES: not on the I/O thread.
  void Shutdown();
  bool OnIoThread() const { return std::this_thread::get_id() == io_thread_id_; }
  const ClientOptions& options() const { return options_; }

  // Connection::Listener. I/O thread.
  void OnAnswer(const std::shared_ptr<Request>& request,
                std::unique_ptr<proto::DecodedFrame> frame) override;
  void OnAttemptFailed(const std::shared_ptr<Request>& request, const Error& error,
                       bool sent) override;
  void OnReady(Connection* connection) override;
  void OnClosed(Connection* connection, const Error& error) override;

 private:
  enum class RingState : uint8_t {
    kNone,        // never fetched
    kFirstFetch,  // the first fetch is in flight; keyed requests wait in awaiting_ring_
    kKnown,       // a ring is installed
    kAbsent,      // the first fetch failed; keyed requests go to the contact points
  };

  // All private methods run on the I/O thread.
  void Begin(const std::shared_ptr<Request>& request);
  // Chooses the endpoints the request will try: at most `length_max`, or (0) one per attempt it
  // may make.
  void Route(Request& request, size_t length_max = 0);
  // Starts the next attempt, on request->route[request->hop].
  void Dispatch(const std::shared_ptr<Request>& request);
  bool CanRetry(const Request& request) const;
  // Chooses the endpoint of the next attempt: routes again, then takes the first endpoint not
  // tried yet, else the one after the current. Returns whether it differs from the current one.
  bool Advance(Request& request);
  // Routes `request` again and points it at the first endpoint of the new route not tried yet
  // that `accept` takes, the route `length_max` long as for Route. Returns whether there was one
  // (if not, the request is left routed anew but pointing nowhere in particular).
  bool PickUntried(Request& request, const std::function<bool(uint32_t)>& accept,
                   size_t length_max = 0);
  // An UNAVAILABLE answer: sends the request on to another node if the policy allows (see the top
  // of this file). Returns whether it did.
  bool RetryUnavailable(const std::shared_ptr<Request>& request, wire::Error::Reader error);
  void OnDeadline(const std::shared_ptr<Request>& request);
  void Complete(const std::shared_ptr<Request>& request, Outcome outcome);
  void ShutdownOnIoThread();

  void InstallRing(Snapshot ring);
  // Starts the client's own ring fetch. REQUIRES: !ring_fetch_in_flight_.
  void StartRingFetch();
  void OnRingFetched(const Expected<Snapshot>& result);
  // Starts a background fetch if the ring is due for one.
  void MaybeRefreshRing();
  // Something suggests the ring is stale: fetch it now, unless one was fetched for that reason
  // within kRingStaleRefetchMin.
  void RefreshStaleRing();
  // Routes and dispatches the requests that waited for the first ring.
  void ReleaseAwaitingRing();

  asio::io_context io_;  // first member: destroyed last
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  const ClientOptions options_;
  std::optional<Error> options_error_;  // set: every request fails with it

  // I/O thread only.
  Router router_;
  // One slot per endpoint of router_; null or closed: connect on next use.
  std::vector<std::shared_ptr<Connection>> connections_;
  RingState ring_state_ = RingState::kNone;
  bool ring_fetch_in_flight_ = false;  // the client's own fetch (Ring() calls are not counted)
  bool ring_unsupported_ = false;      // a node refused the ring request: never fetch again
  std::chrono::steady_clock::time_point next_ring_fetch_{};
  std::chrono::steady_clock::time_point last_stale_fetch_{};
  std::vector<std::shared_ptr<Request>> awaiting_ring_;
  bool shutting_down_ = false;

  mutable std::mutex ring_mu_;
  Snapshot ring_;  // written on the I/O thread under ring_mu_; read elsewhere under it

  std::mutex mu_;
  bool stopping_ = false;                                            // guarded by mu_
  uint64_t next_id_ = 1;                                             // guarded by mu_
  std::unordered_map<uint64_t, std::shared_ptr<Request>> pending_;  // guarded by mu_

  std::thread thread_;
  std::thread::id io_thread_id_;
};

}  // namespace ringkv

#endif  // RINGKV_CLIENT_CLIENT_IMPL_H_
