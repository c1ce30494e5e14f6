// Client::Impl (client/client_impl.h): routing, retries, deadlines and the ring, on the I/O thread.
#include "client/client_impl.h"

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


}  // namespace


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

void Client::Impl::Route(Request& request, size_t length_max) {
  const auto now = std::chrono::steady_clock::now();
  // By default one endpoint per attempt the request may make; a shorter route wraps round.
  if (length_max == 0) length_max = static_cast<size_t>(options_.retries) + 1;
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

bool Client::Impl::PickUntried(Request& request, const std::function<bool(uint32_t)>& accept,
                               size_t length_max) {
  Route(request, length_max);
  for (size_t i = 0; i < request.route.size(); ++i) {
    const uint32_t e = request.route[i];
    if (std::find(request.tried.begin(), request.tried.end(), e) == request.tried.end() &&
        accept(e)) {
      request.hop = i;
      return true;
    }
  }
  return false;
}

bool Client::Impl::Advance(Request& request) {
  const uint32_t current = request.endpoint;
  if (request.target == Request::Target::kAddress) {
    ++request.hop;  // one endpoint: the same again
  } else if (!PickUntried(request, [](uint32_t) { return true; })) {
    // Every endpoint was tried: round again, from the one after the current.
    const auto at = std::find(request.route.begin(), request.route.end(), current);
    request.hop =
        at == request.route.end() ? 0 : static_cast<size_t>(at - request.route.begin()) + 1;
  }
  return request.route[request.hop % request.route.size()] != current;
}

bool Client::Impl::RetryUnavailable(const std::shared_ptr<Request>& request,
                                    wire::Error::Reader error) {
  const capnp::Text::Reader message = error.getMessage();
  const bool not_ready =
      std::string_view(message.cStr(), message.size()).substr(0, kNotReadyPrefix.size()) ==
      kNotReadyPrefix;
  const auto now = std::chrono::steady_clock::now();
  if (not_ready) {
    // Its ring is not settled yet; the others' probably is.
    router_.OnNotReady(request->endpoint, now);
  } else {
    // The coordinator saw too few replicas: perhaps nodes left or joined since our ring.
    RefreshStaleRing();
  }
  // A keyed request was refused before anything was written. Others only if sending them twice
  // is harmless: a createKeyspace refused UNAVAILABLE may have been applied on some nodes.
  if (request->target != Request::Target::kKey && !request->idempotent) return false;
  if (!CanRetry(*request) || (!not_ready && request->unavailable_retried)) return false;
  if (request->target == Request::Target::kAddress) return false;  // no other node to ask
  // Only a node that may answer is worth the round trip (see the top of client_impl.h).
  const auto other_side = [&](uint32_t e) {
    return router_.RingDown(e) && !router_.Avoided(e, now);
  };
  const auto healthy = [&](uint32_t e) { return router_.Healthy(e, now); };
  // The other side is looked for among every endpoint: a route of retries + 1 lists the healthy
  // nodes first, and when the refusing node's side holds that many (the majority of a 2|3
  // split at the default 2 retries) the nodes it sees down, which hold the replicas it could
  // not count, would never be listed.
  const bool picked = not_ready ? PickUntried(*request, healthy)
                                : PickUntried(*request, other_side, router_.size()) ||
                                      PickUntried(*request, healthy);
  if (!picked) return false;
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
  client_internal::BuildOrFail(*request, Expected<void>(),
              [](wire::Frame::Builder frame) { client_internal::BuildRing(frame); });
  request->complete = [this, done = std::move(done)](Outcome outcome) {
    if (!outcome.ok()) {
      done(outcome.error());
      return;
    }
    auto ring =
        client_internal::ParseRingAnswer(outcome.value()->root(), std::chrono::steady_clock::now());
    // A node that has not settled its ring lists only the members it heard of so far: better
    // than no ring, worse than the one the client has. Either way, ask again soon.
    if (ring.ok() && !ring.value()->settled && ring_state_ == RingState::kKnown) {
      done(Error(ErrorCode::kUnavailable,
                 fmt::format("not ready: {} has not settled its ring yet", ring.value()->self)));
      return;
    }
    if (ring.ok()) InstallRing(ring.value());  // answers complete on the I/O thread
    if (ring.ok() && !ring.value()->settled) {
      next_ring_fetch_ = std::chrono::steady_clock::now() + kRingRetryAfterFailure;
    }
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

}  // namespace ringkv
