#include "node/server/aae_wire.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include "common/limits.h"
#include "node/server/wire_convert.h"

namespace ringkv {
namespace {

template <typename... Fs>
struct Visitor : Fs... {
  using Fs::operator()...;
};

// The wire kind of a request or an answer: the same index in both variants.
wire::AaeKind KindOf(size_t variant_index) {
  static constexpr wire::AaeKind kKinds[] = {wire::AaeKind::ROOT, wire::AaeKind::BRANCHES,
                                             wire::AaeKind::LEAVES, wire::AaeKind::KEYS};
  static_assert(std::size(kKinds) == std::variant_size_v<AaeRequest>);
  static_assert(std::size(kKinds) == std::variant_size_v<AaeAnswer>);
  return kKinds[variant_index];
}

const char* KindName(wire::AaeKind kind) {
  switch (kind) {
    case wire::AaeKind::ROOT:
      return "root";
    case wire::AaeKind::BRANCHES:
      return "branches";
    case wire::AaeKind::LEAVES:
      return "leaves";
    case wire::AaeKind::KEYS:
      return "keys";
  }
  return "unknown";
}

void FillIds(wire::AaeRequest::Builder out, const std::vector<uint32_t>& ids) {
  auto list = out.initIds(static_cast<unsigned>(ids.size()));
  for (unsigned i = 0; i < ids.size(); ++i) list.set(i, ids[i]);
}

void FillHashes(wire::AaeResult::Builder out, const std::vector<uint64_t>& hashes) {
  auto list = out.initHashes(static_cast<unsigned>(hashes.size()));
  for (unsigned i = 0; i < hashes.size(); ++i) list.set(i, hashes[i]);
}

template <typename T>
std::vector<T> ReadList(typename capnp::List<T>::Reader in) {
  std::vector<T> out;
  out.reserve(in.size());
  for (T v : in) out.push_back(v);
  return out;
}

}  // namespace

void FillAaeRequest(wire::AaeRequest::Builder out, const std::string& keyspace,
                    const TokenRange& range, const AaeRequest& request) {
  out.setKeyspace(keyspace);
  out.setStartToken(range.start);
  out.setEndToken(range.end);
  out.setKind(KindOf(request.index()));
  std::visit(Visitor{
                 [&](const RootRequest& r) {
                   out.setBranches(r.shape.branches);
                   out.setLeavesPerBranch(r.shape.leaves_per_branch);
                 },
                 [&](const BranchesRequest& r) { FillIds(out, r.branches); },
                 [&](const LeavesRequest& r) { FillIds(out, r.branches); },
                 [&](const KeysRequest& r) { FillIds(out, r.segments); },
             },
             request);
}

Result<AaeCall> ReadAaeRequest(wire::AaeRequest::Reader in) {
  AaeCall call;
  const auto keyspace = WireView(in.getKeyspace());
  if (keyspace.size() > kKeyspaceNameBytesMax) {
    return Status::InvalidArgument(fmt::format("anti-entropy: a keyspace name of {} bytes (max {})",
                                               keyspace.size(), kKeyspaceNameBytesMax));
  }
  call.keyspace.assign(keyspace);
  call.range = TokenRange{in.getStartToken(), in.getEndToken()};
  const auto ids = in.getIds();
  if (ids.size() > kAaeIdsMax) {
    return Status::InvalidArgument(
        fmt::format("anti-entropy: {} ids in one request (max {})", ids.size(), kAaeIdsMax));
  }
  switch (in.getKind()) {
    case wire::AaeKind::ROOT:
      call.request = RootRequest{TreeShape{in.getBranches(), in.getLeavesPerBranch()}};
      return call;
    case wire::AaeKind::BRANCHES:
      call.request = BranchesRequest{ReadList<uint32_t>(ids)};
      return call;
    case wire::AaeKind::LEAVES:
      call.request = LeavesRequest{ReadList<uint32_t>(ids)};
      return call;
    case wire::AaeKind::KEYS:
      call.request = KeysRequest{ReadList<uint32_t>(ids)};
      return call;
  }
  return Status::InvalidArgument(
      fmt::format("anti-entropy: unknown request kind {}", static_cast<int>(in.getKind())));
}

void FillAaeResult(wire::AaeResult::Builder out, const AaeAnswer& answer) {
  out.setKind(KindOf(answer.index()));
  std::visit(Visitor{
                 [&](const RootAnswer& a) {
                   out.setBranches(a.shape.branches);
                   out.setLeavesPerBranch(a.shape.leaves_per_branch);
                   out.setRoot(a.root);
                 },
                 [&](const BranchesAnswer& a) { FillHashes(out, a.hashes); },
                 [&](const LeavesAnswer& a) { FillHashes(out, a.hashes); },
                 [&](const KeysAnswer& a) {
                   auto keys = out.initKeys(static_cast<unsigned>(a.keys.size()));
                   for (unsigned i = 0; i < a.keys.size(); ++i) {
                     keys[i].setKey(WireData(a.keys[i].key));
                     keys[i].setVersionHash(a.keys[i].version_hash);
                   }
                 },
             },
             answer);
}

Result<AaeAnswer> ReadAaeResult(wire::AaeResult::Reader in) {
  const auto hashes = in.getHashes();
  if (hashes.size() > kAaeHashesMax) {
    return Status::Protocol(fmt::format("anti-entropy: {} hashes in one answer (max {})",
                                        hashes.size(), kAaeHashesMax));
  }
  switch (in.getKind()) {
    case wire::AaeKind::ROOT:
      return AaeAnswer{
          RootAnswer{TreeShape{in.getBranches(), in.getLeavesPerBranch()}, in.getRoot()}};
    case wire::AaeKind::BRANCHES:
      return AaeAnswer{BranchesAnswer{ReadList<uint64_t>(hashes)}};
    case wire::AaeKind::LEAVES:
      return AaeAnswer{LeavesAnswer{ReadList<uint64_t>(hashes)}};
    case wire::AaeKind::KEYS:
      break;
    default:
      return Status::Protocol(
          fmt::format("anti-entropy: unknown answer kind {}", static_cast<int>(in.getKind())));
  }
  const auto keys = in.getKeys();
  if (keys.size() > kAaeKeysMax) {
    return Status::Protocol(
        fmt::format("anti-entropy: {} keys in one answer (max {})", keys.size(), kAaeKeysMax));
  }
  KeysAnswer answer;
  answer.keys.reserve(keys.size());
  for (auto k : keys) {
    const auto key = WireView(k.getKey());
    if (key.empty() || key.size() > kKeyBytesMax) {
      return Status::Protocol(fmt::format("anti-entropy: a key of {} bytes in an answer (1 to {})",
                                          key.size(), kKeyBytesMax));
    }
    answer.keys.push_back(KeyVersion{std::string(key), k.getVersionHash()});
  }
  return AaeAnswer{std::move(answer)};
}

Result<AaeAnswer> AnswerAae(const AaeAnswerFn& handler, std::string_view self,
                            wire::AaeRequest::Reader in) {
  if (!handler) return Status::InvalidArgument(fmt::format("anti-entropy is off on {}", self));
  auto call = ReadAaeRequest(in);
  if (!call.ok()) return call.status();
  return handler(call->keyspace, call->range, call->request);
}

void AaeClient::AskAae(const std::string& address, const std::string& keyspace,
                       const TokenRange& range, const AaeRequest& request, int64_t timeout_ms,
                       std::function<void(Result<AaeAnswer>)> done) {
  const wire::AaeKind asked = KindOf(request.index());
  auto answer = std::make_shared<std::optional<AaeAnswer>>();
  client_->Ask(
      address, timeout_ms,
      [&](wire::Frame::Builder f) { FillAaeRequest(f.initAae(), keyspace, range, request); },
      [answer, asked](wire::Frame::Reader f) -> Status {
        if (f.which() != wire::Frame::AAE_RESULT) return Status::Protocol("expected aaeResult");
        const wire::AaeKind kind = f.getAaeResult().getKind();
        if (kind != asked) {
          return Status::Protocol(fmt::format("anti-entropy: asked for {}, answered {}",
                                              KindName(asked), KindName(kind)));
        }
        auto read = ReadAaeResult(f.getAaeResult());
        if (!read.ok()) return read.status();
        *answer = std::move(read).value();
        return Status::Ok();
      },
      [answer, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        done(std::move(**answer));
      });
}

}  // namespace ringkv
