// The Client's public surface (ringkv/client.h): each call validates and encodes its request on the
// caller's thread, then hands it to Client::Impl (client/client_impl.h), and waits for or passes on
// the answer.
#include <fmt/format.h>

#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/client_impl.h"
#include "client/codec.h"
#include "client/ring_snapshot.h"
#include "common/token.h"
#include "ringkv/client.h"

namespace ringkv {

using client_internal::BuildOrFail;


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
  // A cached ring that does not know the keyspace may predate it: ask again before failing. An
  // unsettled node's ring is partial: ask again too.
  if (ring == nullptr || now - ring->fetched_at >= impl_->options().ring_refresh_interval ||
      !ring->FindReplicationFactor(name) || !ring->settled) {
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

Expected<std::string> Client::Admin(std::string_view command, std::string_view argument) {
  if (impl_->OnIoThread()) return SyncOnIoThreadError();
  auto promise = std::make_shared<std::promise<Expected<std::string>>>();
  auto future = promise->get_future();
  // Not idempotent in general (decommission, removenode): sent once, and only to the contact.
  auto request = impl_->NewRequest("admin", /*idempotent=*/false, Request::Target::kContact,
                                   std::chrono::milliseconds(0));
  BuildOrFail(*request, Expected<void>(), [&](wire::Frame::Builder frame) {
    client_internal::BuildAdmin(frame, command, argument);
  });
  request->complete = Typed<std::string>(Fulfil(promise), client_internal::ParseAdminAnswer);
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
