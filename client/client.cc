// The Client: a registry of pending requests, their deadlines and retries, over one Connection per
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
// (a node that has not settled its ring) is retried as any failure is; a plain UNAVAILABLE only
// once, and only on another node, which may see more replicas (the DataStax drivers' default
// retry policy). Timeouts are never retried: a write that timed out may have been applied.
//
// Lifetime design. Handlers capture `this` (the Impl) raw and Connections / Requests by
// shared_ptr or weak_ptr. That is safe because handlers run only on the I/O thread, and
// ~Client joins that thread before the Impl dies; handlers still queued then are destroyed
// unrun with the io_context, which Asio supports (the io_context is the Impl's first member, so
// it outlives everything that holds its sockets and timers).
#include "ringkv/client.h"

#include <fmt/format.h>
#include <kj/exception.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cassert>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/address.h"
#include "client/codec.h"
#include "client/connection.h"
#include "client/request.h"
#include "client/ring_snapshot.h"
#include "client/router.h"
#include "common/token.h"

namespace ringkv {
namespace asio = boost::asio;
using client_internal::Connection;
using client_internal::HostPort;
using client_internal::Outcome;
using client_internal::Request;
using client_internal::RingSnapshot;
using client_internal::Router;
using Snapshot = std::shared_ptr<const RingSnapshot>;

namespace {

constexpr int kRetriesMax = 16;
constexpr std::chrono::milliseconds kRingRetryAfterFailure{1000};
constexpr std::chrono::milliseconds kRingStaleRefetchMin{1000};
// How a node that has not settled its ring says so (node/coordinator.cc), in an UNAVAILABLE.
constexpr std::string_view kNotReadyPrefix = "not ready: ";
constexpr std::chrono::milliseconds kRingRefreshIntervalMax{24 * 3600 * 1000};
// Back-off before retrying an overloaded read elsewhere: doubling from the first, capped, so a
// shedding cluster is not hammered but a request still gets its retries within a deadline.
constexpr std::chrono::milliseconds kOverloadBackoffFirst{10};
constexpr std::chrono::milliseconds kOverloadBackoffMax{200};

Error CancelledError() {
  return Error(ErrorCode::kCancelled, "the client was destroyed with the request pending");
}

// Parses the contact points; the first bad one is recorded in *error.
std::vector<HostPort> ParseContacts(const std::vector<std::string>& texts,
                                    std::optional<Error>* error) {
  std::vector<HostPort> out;
  for (const std::string& text : texts) {
    auto parsed = client_internal::ParseHostPort(text);
    if (!parsed.ok()) {
      *error = parsed.error();
      return {};
    }
    out.push_back(std::move(parsed.value()));
  }
  return out;
}

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

}  // namespace

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
  // Chooses the endpoints the request will try.
  void Route(Request& request);
  // Starts the next attempt, on request->route[request->hop].
  void Dispatch(const std::shared_ptr<Request>& request);
  bool CanRetry(const Request& request) const;
  // Chooses the endpoint of the next attempt: routes again, then takes the first endpoint not
  // tried yet, else the one after the current. Returns whether it differs from the current one.
  bool Advance(Request& request);
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

Client::Impl::Impl(ClientOptions options)
    : work_(asio::make_work_guard(io_)),
      options_(std::move(options)),
      router_(ParseContacts(options_.contact_points, &options_error_)) {
  auto invalid = [this](std::string why) {
    if (!options_error_) options_error_ = Error(ErrorCode::kInvalidArgument, std::move(why));
  };
  if (options_.contact_points.empty()) invalid("no contact points");
  if (options_.connect_timeout.count() <= 0) invalid("connect_timeout must be positive");
  if (options_.request_timeout.count() <= 0) invalid("request_timeout must be positive");
  if (options_.retries < 0 || options_.retries > kRetriesMax) {
    invalid(fmt::format("retries must be within 0..{}", kRetriesMax));
  }
  if (options_.in_flight_max == 0) invalid("in_flight_max must be positive");
  if (options_.ring_refresh_interval <= std::chrono::milliseconds::zero() ||
      options_.ring_refresh_interval > kRingRefreshIntervalMax) {
    invalid(fmt::format("ring_refresh_interval must be within 1..{} ms",
                        kRingRefreshIntervalMax.count()));
  }
  connections_.resize(router_.size());
  thread_ = std::thread([this] { io_.run(); });
  io_thread_id_ = thread_.get_id();
}

std::shared_ptr<Request> Client::Impl::NewRequest(const char* what, bool idempotent,
                                                  Request::Target target,
                                                  std::chrono::milliseconds timeout) {
  auto request = std::make_shared<Request>(io_, what, idempotent, target);
  request->timeout = timeout.count() > 0 ? timeout : options_.request_timeout;
  request->deadline = std::chrono::steady_clock::now() + request->timeout;
  return request;
}

void Client::Impl::Submit(std::shared_ptr<Request> request) {
  {
    std::unique_lock lock(mu_);
    if (!stopping_) {
      request->id = next_id_++;
      pending_.emplace(request->id, request);
      lock.unlock();
      asio::post(io_, [this, request] { Begin(request); });
      return;
    }
  }
  // Only a callback run by Shutdown (or a caller racing the destructor, which the contract
  // forbids) gets here. The I/O loop is about to stop, so complete now, on this thread.
  request->done = true;
  auto complete = std::move(request->complete);
  complete(CancelledError());
}

void Client::Impl::Begin(const std::shared_ptr<Request>& request) {
  if (request->done) return;  // cancelled by Shutdown before it began
  if (request->early_error) {
    Complete(request, *request->early_error);
    return;
  }
  if (options_error_) {
    Complete(request, *options_error_);
    return;
  }
  request->deadline_timer.expires_at(request->deadline);
  request->deadline_timer.async_wait(
      [this, weak = std::weak_ptr<Request>(request)](const boost::system::error_code& ec) {
        auto request = weak.lock();
        if (ec || request == nullptr || request->done) return;
        OnDeadline(request);
      });
  if (request->target == Request::Target::kKey && options_.token_aware) {
    if (ring_state_ == RingState::kNone && !ring_unsupported_) StartRingFetch();
    if (ring_state_ == RingState::kFirstFetch) {
      awaiting_ring_.push_back(request);
      return;
    }
    MaybeRefreshRing();
  }
  Route(*request);
  Dispatch(request);
}

void Client::Impl::Route(Request& request) {
  const auto now = std::chrono::steady_clock::now();
  // One endpoint per attempt the request may make; a shorter route wraps round.
  const size_t length_max = static_cast<size_t>(options_.retries) + 1;
  switch (request.target) {
    case Request::Target::kKey:
      request.route = options_.token_aware
                          ? router_.KeyRoute(request.token, request.keyspace, length_max, now)
                          : router_.ContactRoute(false, length_max, now);
      break;
    case Request::Target::kContact:
      request.route = router_.ContactRoute(false, length_max, now);
      break;
    case Request::Target::kAnyNode:
      request.route = router_.ContactRoute(true, length_max, now);
      break;
    case Request::Target::kAddress: {
      auto parsed = client_internal::ParseHostPort(*request.address);
      if (parsed.ok()) request.route = router_.AddressRoute(parsed.value());
      connections_.resize(router_.size());  // the address may be a new endpoint
      if (request.route.empty()) request.route = router_.ContactRoute(false, 1, now);
      break;
    }
  }
  request.hop = 0;
  assert(!request.route.empty());  // there is at least one contact point
}

void Client::Impl::Dispatch(const std::shared_ptr<Request>& request) {
  ++request->attempts;
  const uint32_t endpoint = request->route[request->hop % request->route.size()];
  request->endpoint = endpoint;
  if (std::find(request->tried.begin(), request->tried.end(), endpoint) == request->tried.end()) {
    request->tried.push_back(endpoint);
  }
  std::shared_ptr<Connection>& connection = connections_[endpoint];
  if (connection == nullptr || connection->closed()) {
    connection =
        std::make_shared<Connection>(io_, endpoint, router_.address(endpoint), options_, this);
  }
  // Keep a reference: Submit may close the connection and OnClosed clears the slot.
  std::shared_ptr<Connection> keep = connection;
  keep->Submit(request);
}

bool Client::Impl::CanRetry(const Request& request) const {
  return request.attempts <= options_.retries &&
         std::chrono::steady_clock::now() < request.deadline;
}

bool Client::Impl::Advance(Request& request) {
  const uint32_t current = request.endpoint;
  if (request.target == Request::Target::kAddress) {
    ++request.hop;  // one endpoint: the same again
  } else {
    Route(request);
    const auto untried = std::find_if(request.route.begin(), request.route.end(), [&](uint32_t e) {
      return std::find(request.tried.begin(), request.tried.end(), e) == request.tried.end();
    });
    if (untried != request.route.end()) {
      request.hop = static_cast<size_t>(untried - request.route.begin());
    } else {  // every endpoint was tried: round again, from the one after the current
      const auto at = std::find(request.route.begin(), request.route.end(), current);
      request.hop =
          at == request.route.end() ? 0 : static_cast<size_t>(at - request.route.begin()) + 1;
    }
  }
  return request.route[request.hop % request.route.size()] != current;
}

bool Client::Impl::RetryUnavailable(const std::shared_ptr<Request>& request,
                                    wire::Error::Reader error) {
  const capnp::Text::Reader message = error.getMessage();
  const bool not_ready =
      std::string_view(message.cStr(), message.size()).substr(0, kNotReadyPrefix.size()) ==
      kNotReadyPrefix;
  if (not_ready) {
    // Its ring is not settled yet; the others' probably is.
    router_.OnNotReady(request->endpoint, std::chrono::steady_clock::now());
  } else {
    // The coordinator saw too few replicas: perhaps nodes left or joined since our ring.
    RefreshStaleRing();
  }
  // A keyed request was refused before anything was written. Others only if sending them twice
  // is harmless: a createKeyspace refused UNAVAILABLE may have been applied on some nodes.
  if (request->target != Request::Target::kKey && !request->idempotent) return false;
  if (!CanRetry(*request) || (!not_ready && request->unavailable_retried)) return false;
  // Another node, and one the client believes up: the retry is worth its round trip only if it
  // may be answered.
  if (!Advance(*request)) return false;
  const uint32_t next = request->route[request->hop % request->route.size()];
  if (!router_.Healthy(next, std::chrono::steady_clock::now())) return false;
  if (!not_ready) request->unavailable_retried = true;
  request->refusal = client_internal::ErrorFromWire(error);
  request->last_error = request->refusal;
  Dispatch(request);
  return true;
}

void Client::Impl::OnAnswer(const std::shared_ptr<Request>& request,
                            std::unique_ptr<proto::DecodedFrame> frame) {
  if (request->done) return;
  auto root = frame->root();
  if (root.isError() && root.getError().getCode() == wire::ErrorCode::OVERLOADED &&
      request->idempotent && CanRetry(*request)) {
    // Another node may have room; wait a little first so that a cluster-wide overload is not
    // made worse by every client retrying at once.
    request->last_error = client_internal::ErrorFromWire(root.getError());
    Advance(*request);
    const auto backoff =
        std::min(kOverloadBackoffFirst * (1 << std::min(request->attempts - 1, 8)), kOverloadBackoffMax);
    request->retry_timer.expires_after(backoff);
    request->retry_timer.async_wait(
        [this, weak = std::weak_ptr<Request>(request)](const boost::system::error_code& ec) {
          auto request = weak.lock();
          if (ec || request == nullptr || request->done) return;
          Dispatch(request);
        });
    return;
  }
  if (root.isError() && root.getError().getCode() == wire::ErrorCode::UNAVAILABLE &&
      RetryUnavailable(request, root.getError())) {
    return;
  }
  Complete(request, std::move(frame));
}

void Client::Impl::OnAttemptFailed(const std::shared_ptr<Request>& request, const Error& error,
                                   bool sent) {
  if (request->done) return;
  if (sent && !request->idempotent) {
    // The node may have applied it; sending it again could apply it twice. Report the doubt now
    // rather than wait out the deadline: nothing will answer on a closed connection.
    Complete(request, Error(ErrorCode::kTimeout,
                            fmt::format("{} (the {} was sent; it may have been applied)",
                                        error.message(), request->what))
                          .set_in_doubt(true));
    return;
  }
  request->last_error = error;
  const bool retryable =
      error.code() != ErrorCode::kInvalidArgument && error.code() != ErrorCode::kCancelled;
  if (retryable && CanRetry(*request)) {
    Advance(*request);  // the next replica (or contact point), the same one if there is no other
    Dispatch(request);
    return;
  }
  if (request->refusal) {
    // A node refused it UNAVAILABLE and no node answered since: that refusal is the answer.
    Error refusal(request->refusal->code(),
                  fmt::format("{} (then: {})", request->refusal->message(), error.message()));
    refusal.set_counts(request->refusal->needed(), request->refusal->alive());
    Complete(request, std::move(refusal));
    return;
  }
  if (request->attempts <= 1) {
    Complete(request, error);
    return;
  }
  Error final_error(error.code(),
                    fmt::format("{} (after {} attempts)", error.message(), request->attempts));
  final_error.set_counts(error.needed(), error.alive()).set_in_doubt(error.in_doubt());
  Complete(request, std::move(final_error));
}

void Client::Impl::OnReady(Connection* connection) {
  router_.OnConnected(static_cast<uint32_t>(connection->index()));
}

void Client::Impl::OnClosed(Connection* connection, const Error& error) {
  const size_t index = connection->index();
  if (connections_[index].get() == connection) connections_[index] = nullptr;
  if (shutting_down_) return;
  // Send new requests elsewhere first; this node is tried again when its turn comes round.
  router_.OnConnectionFailed(static_cast<uint32_t>(index), std::chrono::steady_clock::now());
  // The node may have died or moved: ask the cluster now rather than at the next refresh.
  if (ring_state_ == RingState::kKnown && !ring_fetch_in_flight_ && !ring_unsupported_) {
    StartRingFetch();
  }
}

void Client::Impl::OnDeadline(const std::shared_ptr<Request>& request) {
  std::string message;
  if (request->route.empty()) {
    message = fmt::format("the {} could not be sent within {} ms: no answer to the ring request",
                          request->what, request->timeout.count());
  } else {
    const std::string where =
        router_.address(request->route[request->hop % request->route.size()]).ToString();
    message = request->ever_sent ? fmt::format("no answer to the {} from {} within {} ms",
                                               request->what, where, request->timeout.count())
                                 : fmt::format("the {} could not be sent to {} within {} ms",
                                               request->what, where, request->timeout.count());
  }
  if (request->last_error) message += "; earlier: " + request->last_error->message();
  // A read that timed out changed nothing; a write that reached the socket may have been applied.
  const bool in_doubt = !request->idempotent && request->ever_sent;
  Complete(request, Error(ErrorCode::kTimeout, std::move(message)).set_in_doubt(in_doubt));
}

void Client::Impl::Complete(const std::shared_ptr<Request>& request_ref, Outcome outcome) {
  std::shared_ptr<Request> request = request_ref;  // the registry may hold the last reference
  assert(!request->done);
  request->done = true;
  request->deadline_timer.cancel();
  request->retry_timer.cancel();
  if (request->connection != nullptr) request->connection->Abandon(request.get());
  {
    std::lock_guard lock(mu_);
    pending_.erase(request->id);
  }
  request->frame.reset();
  auto complete = std::move(request->complete);
  complete(std::move(outcome));
}

void Client::Impl::Shutdown() {
  assert(!OnIoThread() && "a callback must not destroy the Client that runs it");
  std::promise<void> finished;
  asio::post(io_, [this, &finished] {
    ShutdownOnIoThread();
    finished.set_value();
  });
  finished.get_future().wait();
  work_.reset();
  io_.stop();
  thread_.join();
}

void Client::Impl::ShutdownOnIoThread() {
  shutting_down_ = true;
  std::vector<std::shared_ptr<Request>> pending;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, request] : pending_) pending.push_back(request);
  }
  // In the order they were issued, which is the order a caller would expect callbacks in.
  std::sort(pending.begin(), pending.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  for (auto& request : pending) {
    if (!request->done) Complete(request, CancelledError());
  }
  awaiting_ring_.clear();
  for (auto& connection : connections_) {
    if (connection != nullptr) {
      std::shared_ptr<Connection> keep = connection;
      keep->Close(CancelledError());
    }
  }
  connections_.clear();
}

// ---- The ring ----

void Client::Impl::FetchRing(std::function<void(Expected<Snapshot>)> done) {
  auto request = NewRequest("ring", /*idempotent=*/true, Request::Target::kAnyNode,
                            std::chrono::milliseconds(0));
  BuildOrFail(*request, Expected<void>(),
              [](wire::Frame::Builder frame) { client_internal::BuildRing(frame); });
  request->complete = [this, done = std::move(done)](Outcome outcome) {
    if (!outcome.ok()) {
      done(outcome.error());
      return;
    }
    auto ring =
        client_internal::ParseRingAnswer(outcome.value()->root(), std::chrono::steady_clock::now());
    if (ring.ok()) InstallRing(ring.value());  // answers complete on the I/O thread
    done(std::move(ring));
  };
  Submit(std::move(request));
}

Snapshot Client::Impl::CurrentRing() const {
  std::lock_guard lock(ring_mu_);
  return ring_;
}

void Client::Impl::ExpireRing() {
  asio::post(io_, [this] { next_ring_fetch_ = {}; });
}

void Client::Impl::InstallRing(Snapshot ring) {
  next_ring_fetch_ = ring->fetched_at + options_.ring_refresh_interval;
  router_.Install(ring);
  connections_.resize(router_.size());
  {
    std::lock_guard lock(ring_mu_);
    ring_ = std::move(ring);
  }
  if (ring_state_ != RingState::kKnown) {
    ring_state_ = RingState::kKnown;
    ReleaseAwaitingRing();
  }
}

void Client::Impl::StartRingFetch() {
  assert(!ring_fetch_in_flight_);
  ring_fetch_in_flight_ = true;
  if (ring_state_ == RingState::kNone) ring_state_ = RingState::kFirstFetch;
  FetchRing([this](Expected<Snapshot> result) {
    // Cancelled: the client is shutting down, perhaps on another thread; touch nothing.
    if (!result.ok() && result.error().code() == ErrorCode::kCancelled) return;
    OnRingFetched(result);
  });
}

void Client::Impl::OnRingFetched(const Expected<Snapshot>& result) {
  ring_fetch_in_flight_ = false;
  if (result.ok()) return;  // FetchRing installed it
  // A protocol error is what a node that predates the ring request answers, closing the
  // connection as it does so; asking again could cost the requests sharing a connection with it.
  if (result.error().code() == ErrorCode::kProtocol) ring_unsupported_ = true;
  next_ring_fetch_ = std::chrono::steady_clock::now() + kRingRetryAfterFailure;
  if (ring_state_ == RingState::kFirstFetch) {
    ring_state_ = RingState::kAbsent;
    ReleaseAwaitingRing();
  }
}

void Client::Impl::MaybeRefreshRing() {
  if (ring_fetch_in_flight_ || ring_unsupported_) return;
  if (std::chrono::steady_clock::now() < next_ring_fetch_) return;
  StartRingFetch();
}

void Client::Impl::RefreshStaleRing() {
  if (ring_state_ != RingState::kKnown || ring_fetch_in_flight_ || ring_unsupported_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < last_stale_fetch_ + kRingStaleRefetchMin) return;
  last_stale_fetch_ = now;
  StartRingFetch();
}

void Client::Impl::ReleaseAwaitingRing() {
  std::vector<std::shared_ptr<Request>> waiting;
  waiting.swap(awaiting_ring_);
  for (const auto& request : waiting) {
    if (request->done) continue;  // its deadline passed while it waited
    Route(*request);
    Dispatch(request);
  }
}

// ---- The public surface ----

namespace {

// The completion of a typed request: a failure passes through, an answer is parsed.
template <typename T, typename Parse>
std::function<void(Outcome)> Typed(std::function<void(Expected<T>)> done, Parse parse) {
  return [done = std::move(done), parse](Outcome outcome) {
    if (!outcome.ok()) {
      done(outcome.error());
      return;
    }
    done(parse(outcome.value()->root()));
  };
}

template <typename T>
std::function<void(Expected<T>)> Fulfil(const std::shared_ptr<std::promise<Expected<T>>>& promise) {
  return [promise](Expected<T> result) { promise->set_value(std::move(result)); };
}

// Where a keyed request routes: its key's token, in its keyspace. Computed on the caller's thread.
void SetKey(Request& request, std::string_view key, std::string_view keyspace) {
  if (request.early_error) return;
  request.token = TokenOf(key);
  request.keyspace = std::string(keyspace);
}

Error UnknownKeyspace(std::string_view keyspace) {
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("unknown keyspace '{}' (the node's ring does not list it)", keyspace));
}

Error SyncOnIoThreadError() {
  return Error(ErrorCode::kInvalidArgument,
               "synchronous call from a callback would wait for the thread running it; use the "
               "asynchronous form");
}

}  // namespace

Client::Client(ClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Client::~Client() {
  impl_->Shutdown();
  impl_.reset();
}

void Client::GetAsync(std::string_view key, const ReadOptions& options,
                      std::function<void(Expected<GetResult>)> done) {
  auto request =
      impl_->NewRequest("get", /*idempotent=*/true, Request::Target::kKey, options.timeout);
  BuildOrFail(*request, client_internal::ValidateRead(key, options),
              [&](wire::Frame::Builder frame) { client_internal::BuildGet(frame, key, options); });
  SetKey(*request, key, options.keyspace);
  request->complete = Typed<GetResult>(std::move(done), client_internal::ParseGetAnswer);
  impl_->Submit(std::move(request));
}

void Client::PutAsync(std::string_view key, std::string_view value, const WriteOptions& options,
                      std::function<void(Expected<PutResult>)> done) {
  auto request =
      impl_->NewRequest("put", /*idempotent=*/false, Request::Target::kKey, options.timeout);
  BuildOrFail(*request, client_internal::ValidateWrite(key, &value, options),
              [&](wire::Frame::Builder frame) {
                client_internal::BuildPut(frame, key, value, options);
              });
  SetKey(*request, key, options.keyspace);
  request->complete = Typed<PutResult>(std::move(done), client_internal::ParsePutAnswer);
  impl_->Submit(std::move(request));
}

void Client::DelAsync(std::string_view key, const WriteOptions& options,
                      std::function<void(Expected<DelResult>)> done) {
  auto request =
      impl_->NewRequest("del", /*idempotent=*/false, Request::Target::kKey, options.timeout);
  BuildOrFail(*request, client_internal::ValidateWrite(key, nullptr, options),
              [&](wire::Frame::Builder frame) { client_internal::BuildDel(frame, key, options); });
  SetKey(*request, key, options.keyspace);
  request->complete = Typed<DelResult>(std::move(done), client_internal::ParseDelAnswer);
  impl_->Submit(std::move(request));
}

std::future<Expected<GetResult>> Client::GetAsync(std::string_view key,
                                                  const ReadOptions& options) {
  auto promise = std::make_shared<std::promise<Expected<GetResult>>>();
  auto future = promise->get_future();
  GetAsync(key, options, Fulfil(promise));
  return future;
}

std::future<Expected<PutResult>> Client::PutAsync(std::string_view key, std::string_view value,
                                                  const WriteOptions& options) {
  auto promise = std::make_shared<std::promise<Expected<PutResult>>>();
  auto future = promise->get_future();
  PutAsync(key, value, options, Fulfil(promise));
  return future;
}

std::future<Expected<DelResult>> Client::DelAsync(std::string_view key,
                                                  const WriteOptions& options) {
  auto promise = std::make_shared<std::promise<Expected<DelResult>>>();
  auto future = promise->get_future();
  DelAsync(key, options, Fulfil(promise));
  return future;
}

Expected<GetResult> Client::Get(std::string_view key, const ReadOptions& options) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  return GetAsync(key, options).get();
}

Expected<PutResult> Client::Put(std::string_view key, std::string_view value,
                                const WriteOptions& options) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  return PutAsync(key, value, options).get();
}

Expected<DelResult> Client::Del(std::string_view key, const WriteOptions& options) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  return DelAsync(key, options).get();
}

Expected<NodeInfo> Client::Info() {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto promise = std::make_shared<std::promise<Expected<NodeInfo>>>();
  auto future = promise->get_future();
  auto request = impl_->NewRequest("info", /*idempotent=*/true, Request::Target::kContact,
                                   std::chrono::milliseconds(0));
  BuildOrFail(*request, Expected<void>(),
              [&](wire::Frame::Builder frame) { client_internal::BuildInfo(frame); });
  request->complete = Typed<NodeInfo>(Fulfil(promise), client_internal::ParseInfoAnswer);
  impl_->Submit(std::move(request));
  return future.get();
}

Expected<NodeInfo> Client::InfoOf(std::string_view address) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto parsed = client_internal::ParseHostPort(address);
  if (!parsed.ok()) return parsed.error();
  auto promise = std::make_shared<std::promise<Expected<NodeInfo>>>();
  auto future = promise->get_future();
  auto request = impl_->NewRequest("info", /*idempotent=*/true, Request::Target::kAddress,
                                   std::chrono::milliseconds(0));
  request->address = std::string(address);
  BuildOrFail(*request, Expected<void>(),
              [&](wire::Frame::Builder frame) { client_internal::BuildInfo(frame); });
  request->complete = Typed<NodeInfo>(Fulfil(promise), client_internal::ParseInfoAnswer);
  impl_->Submit(std::move(request));
  return future.get();
}

Expected<ScanPage> Client::Scan(const ScanOptions& options) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto promise = std::make_shared<std::promise<Expected<ScanPage>>>();
  auto future = promise->get_future();
  // Any node coordinates a scan; TODO(perf): send it to a replica of the range's first token.
  auto request = impl_->NewRequest("scan", /*idempotent=*/true, Request::Target::kAnyNode,
                                   options.timeout);
  BuildOrFail(*request, client_internal::ValidateScan(options),
              [&](wire::Frame::Builder frame) { client_internal::BuildScan(frame, options); });
  request->complete = Typed<ScanPage>(Fulfil(promise), client_internal::ParseScanAnswer);
  impl_->Submit(std::move(request));
  return future.get();
}

int64_t Client::TokenOf(std::string_view key) { return ringkv::TokenOf(key); }

namespace {

// Fetches the ring synchronously. REQUIRES: not on the I/O thread.
template <typename Impl>
Expected<Snapshot> FetchRingSync(Impl& impl) {
  auto promise = std::make_shared<std::promise<Expected<Snapshot>>>();
  auto future = promise->get_future();
  impl.FetchRing(Fulfil(promise));
  return future.get();
}

}  // namespace

Expected<RingInfo> Client::Ring(std::string_view keyspace) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto ring = FetchRingSync(*impl_);
  if (!ring.ok()) return ring.error();
  const std::string name(keyspace.empty() ? client_internal::kDefaultKeyspace : keyspace);
  const auto rf = ring.value()->FindReplicationFactor(name);
  if (!rf) return UnknownKeyspace(name);
  return ring.value()->Describe(name, *rf);
}

Expected<std::vector<std::string>> Client::Endpoints(std::string_view key,
                                                     std::string_view keyspace) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  ReadOptions read;
  read.keyspace = std::string(keyspace);
  if (auto valid = client_internal::ValidateRead(key, read); !valid.ok()) return valid.error();
  const std::string name(keyspace.empty() ? client_internal::kDefaultKeyspace : keyspace);

  Snapshot ring = impl_->CurrentRing();
  const auto now = std::chrono::steady_clock::now();
  // A cached ring that does not know the keyspace may predate it: ask again before failing.
  if (ring == nullptr || now - ring->fetched_at >= impl_->options().ring_refresh_interval ||
      !ring->FindReplicationFactor(name)) {
    auto fetched = FetchRingSync(*impl_);
    if (!fetched.ok()) return fetched.error();
    ring = std::move(fetched.value());
  }
  const auto rf = ring->FindReplicationFactor(name);
  if (!rf) return UnknownKeyspace(name);
  if (ring->ring.empty()) {
    return Error(ErrorCode::kUnavailable,
                 fmt::format("node '{}' knows no member holding tokens", ring->self))
        .set_counts(*rf, 0);
  }
  return ring->ring.PreferenceList(TokenOf(key), *rf);
}

Expected<bool> Client::CreateKeyspace(std::string_view name, uint32_t replication_factor,
                                      bool if_not_exists, bool sloppy) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto promise = std::make_shared<std::promise<Expected<bool>>>();
  auto future = promise->get_future();
  // Without if_not_exists a second copy fails when the first created the keyspace, so it is sent
  // at most once, like a write.
  auto request = impl_->NewRequest("createKeyspace", /*idempotent=*/if_not_exists,
                                   Request::Target::kContact, std::chrono::milliseconds(0));
  BuildOrFail(*request, client_internal::ValidateCreateKeyspace(name, replication_factor),
              [&](wire::Frame::Builder frame) {
                client_internal::BuildCreateKeyspace(frame, name, replication_factor,
                                                     if_not_exists, sloppy);
              });
  request->complete = Typed<bool>(Fulfil(promise), client_internal::ParseCreateKeyspaceAnswer);
  impl_->Submit(std::move(request));
  auto created = future.get();
  // Route the new keyspace by its own factor from the next request on.
  if (created.ok()) impl_->ExpireRing();
  return created;
}

Expected<uint64_t> Client::TruncateHints(std::string_view target) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto promise = std::make_shared<std::promise<Expected<uint64_t>>>();
  auto future = promise->get_future();
  // Idempotent: a second copy finds nothing left to remove.
  auto request = impl_->NewRequest("truncateHints", /*idempotent=*/true, Request::Target::kContact,
                                   std::chrono::milliseconds(0));
  BuildOrFail(*request, Expected<void>(), [&](wire::Frame::Builder frame) {
    client_internal::BuildTruncateHints(frame, target);
  });
  request->complete =
      Typed<uint64_t>(Fulfil(promise), client_internal::ParseTruncateHintsAnswer);
  impl_->Submit(std::move(request));
  return future.get();
}

Expected<bool> Client::DropKeyspace(std::string_view name, bool if_exists) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  if (auto valid = client_internal::ValidateCreateKeyspace(name, 1); !valid.ok()) {
    return valid.error();
  }
  auto promise = std::make_shared<std::promise<Expected<bool>>>();
  auto future = promise->get_future();
  // As CreateKeyspace: sent at most once unless a second copy is harmless.
  auto request = impl_->NewRequest("dropKeyspace", /*idempotent=*/if_exists,
                                   Request::Target::kContact, std::chrono::milliseconds(0));
  BuildOrFail(*request, Expected<void>(), [&](wire::Frame::Builder frame) {
    client_internal::BuildDropKeyspace(frame, name, if_exists);
  });
  request->complete = Typed<bool>(Fulfil(promise), client_internal::ParseDropKeyspaceAnswer);
  impl_->Submit(std::move(request));
  auto dropped = future.get();
  if (dropped.ok()) impl_->ExpireRing();
  return dropped;
}

}  // namespace ringkv
