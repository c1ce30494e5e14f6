// The Client: a registry of pending requests, their deadlines and retries, over one Connection per
// contact point, all driven by one I/O thread.
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

namespace ringkv {
namespace asio = boost::asio;
using client_internal::Connection;
using client_internal::HostPort;
using client_internal::Outcome;
using client_internal::Request;

namespace {

constexpr int kRetriesMax = 16;
// Back-off before retrying an overloaded read elsewhere: doubling from the first, capped, so a
// shedding cluster is not hammered but a request still gets its retries within a deadline.
constexpr std::chrono::milliseconds kOverloadBackoffFirst{10};
constexpr std::chrono::milliseconds kOverloadBackoffMax{200};

Error CancelledError() {
  return Error(ErrorCode::kCancelled, "the client was destroyed with the request pending");
}

}  // namespace

class Client::Impl final : public Connection::Listener {
 public:
  explicit Impl(ClientOptions options);
  // REQUIRES: Shutdown() has returned.
  ~Impl() override { assert(!thread_.joinable()); }

  // A request due `timeout` from now (0: the default). Called on any thread.
  std::shared_ptr<Request> NewRequest(const char* what, bool idempotent,
                                      std::chrono::milliseconds timeout);
  // Hands `request` to the I/O thread; its completion will run exactly once. Any thread.
  void Submit(std::shared_ptr<Request> request);
  // Fails everything pending with kCancelled, then stops and joins the I/O thread.
  // REQUIRES: not on the I/O thread.
  void Shutdown();
  bool OnIoThread() const { return std::this_thread::get_id() == io_thread_id_; }

  // Connection::Listener. I/O thread.
  void OnAnswer(const std::shared_ptr<Request>& request,
                std::unique_ptr<proto::DecodedFrame> frame) override;
  void OnAttemptFailed(const std::shared_ptr<Request>& request, const Error& error,
                       bool sent) override;
  void OnClosed(Connection* connection, const Error& error) override;

 private:
  // All private methods run on the I/O thread.
  void Begin(const std::shared_ptr<Request>& request);
  // Starts the next attempt, on contact point request->contact.
  void Dispatch(const std::shared_ptr<Request>& request);
  bool CanRetry(const Request& request) const;
  void OnDeadline(const std::shared_ptr<Request>& request);
  void Complete(const std::shared_ptr<Request>& request, Outcome outcome);
  void ShutdownOnIoThread();

  asio::io_context io_;  // first member: destroyed last
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  const ClientOptions options_;
  std::vector<HostPort> contacts_;
  std::optional<Error> options_error_;  // set: every request fails with it

  // I/O thread only. One slot per contact point; null or closed: connect on next use.
  std::vector<std::shared_ptr<Connection>> connections_;
  // Where new requests go first: the contact point that last worked, as far as we know.
  size_t preferred_ = 0;

  std::mutex mu_;
  bool stopping_ = false;                                            // guarded by mu_
  uint64_t next_id_ = 1;                                             // guarded by mu_
  std::unordered_map<uint64_t, std::shared_ptr<Request>> pending_;  // guarded by mu_

  std::thread thread_;
  std::thread::id io_thread_id_;
};

Client::Impl::Impl(ClientOptions options)
    : work_(asio::make_work_guard(io_)), options_(std::move(options)) {
  for (const std::string& text : options_.contact_points) {
    auto parsed = client_internal::ParseHostPort(text);
    if (!parsed.ok()) {
      options_error_ = parsed.error();
      break;
    }
    contacts_.push_back(std::move(parsed.value()));
  }
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
  connections_.resize(contacts_.size());
  thread_ = std::thread([this] { io_.run(); });
  io_thread_id_ = thread_.get_id();
}

std::shared_ptr<Request> Client::Impl::NewRequest(const char* what, bool idempotent,
                                                  std::chrono::milliseconds timeout) {
  auto request = std::make_shared<Request>(io_, what, idempotent);
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
  request->contact = preferred_;
  Dispatch(request);
}

void Client::Impl::Dispatch(const std::shared_ptr<Request>& request) {
  ++request->attempts;
  std::shared_ptr<Connection>& connection = connections_[request->contact];
  if (connection == nullptr || connection->closed()) {
    connection = std::make_shared<Connection>(io_, request->contact, contacts_[request->contact],
                                              options_, this);
  }
  // Keep a reference: Submit may close the connection and OnClosed clears the slot.
  std::shared_ptr<Connection> keep = connection;
  keep->Submit(request);
}

bool Client::Impl::CanRetry(const Request& request) const {
  return request.attempts <= options_.retries &&
         std::chrono::steady_clock::now() < request.deadline;
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
    request->contact = (request->contact + 1) % contacts_.size();
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
    request->contact = (request->contact + 1) % contacts_.size();
    Dispatch(request);
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

void Client::Impl::OnClosed(Connection* connection, const Error& error) {
  const size_t index = connection->index();
  if (connections_[index].get() == connection) connections_[index] = nullptr;
  // Send new requests elsewhere first; this node is tried again when its turn comes round.
  if (preferred_ == index) preferred_ = (index + 1) % contacts_.size();
}

void Client::Impl::OnDeadline(const std::shared_ptr<Request>& request) {
  const std::string& where = contacts_[request->contact].ToString();
  std::string message =
      request->ever_sent
          ? fmt::format("no answer to the {} from {} within {} ms", request->what, where,
                        request->timeout.count())
          : fmt::format("the {} could not be sent to {} within {} ms", request->what, where,
                        request->timeout.count());
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
  for (auto& connection : connections_) {
    if (connection != nullptr) {
      std::shared_ptr<Connection> keep = connection;
      keep->Close(CancelledError());
    }
  }
  connections_.clear();
}

// ---- The public surface ----

namespace {

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
        Error(ErrorCode::kInternal, fmt::format("cannot encode the {}: {}", request.what,
                                                e.getDescription().cStr()));
  }
}

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
  auto request = impl_->NewRequest("get", /*idempotent=*/true, options.timeout);
  BuildOrFail(*request, client_internal::ValidateRead(key, options),
              [&](wire::Frame::Builder frame) { client_internal::BuildGet(frame, key, options); });
  request->complete = Typed<GetResult>(std::move(done), client_internal::ParseGetAnswer);
  impl_->Submit(std::move(request));
}

void Client::PutAsync(std::string_view key, std::string_view value, const WriteOptions& options,
                      std::function<void(Expected<PutResult>)> done) {
  auto request = impl_->NewRequest("put", /*idempotent=*/false, options.timeout);
  BuildOrFail(*request, client_internal::ValidateWrite(key, &value, options),
              [&](wire::Frame::Builder frame) {
                client_internal::BuildPut(frame, key, value, options);
              });
  request->complete = Typed<PutResult>(std::move(done), client_internal::ParsePutAnswer);
  impl_->Submit(std::move(request));
}

void Client::DelAsync(std::string_view key, const WriteOptions& options,
                      std::function<void(Expected<void>)> done) {
  auto request = impl_->NewRequest("del", /*idempotent=*/false, options.timeout);
  BuildOrFail(*request, client_internal::ValidateWrite(key, nullptr, options),
              [&](wire::Frame::Builder frame) { client_internal::BuildDel(frame, key, options); });
  request->complete = Typed<void>(std::move(done), client_internal::ParseDelAnswer);
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

std::future<Expected<void>> Client::DelAsync(std::string_view key, const WriteOptions& options) {
  auto promise = std::make_shared<std::promise<Expected<void>>>();
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

Expected<void> Client::Del(std::string_view key, const WriteOptions& options) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  return DelAsync(key, options).get();
}

Expected<NodeInfo> Client::Info() {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto promise = std::make_shared<std::promise<Expected<NodeInfo>>>();
  auto future = promise->get_future();
  auto request = impl_->NewRequest("info", /*idempotent=*/true, std::chrono::milliseconds(0));
  BuildOrFail(*request, Expected<void>(),
              [&](wire::Frame::Builder frame) { client_internal::BuildInfo(frame); });
  request->complete = Typed<NodeInfo>(Fulfil(promise), client_internal::ParseInfoAnswer);
  impl_->Submit(std::move(request));
  return future.get();
}

}  // namespace ringkv
