#include "node/identity.h"

#include <fmt/format.h>

#include <cstdio>
#include <sstream>

#include "ring/tokens.h"

namespace ringkv {
namespace {

constexpr std::string_view kMetaName = "identity";

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser: spreads host id and epoch over the actor id
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The record: "<host id hex> <epoch> <clean 0|1> <sync mode>". Records written before the sync
// mode was recorded lack the fourth field; they still parse, as periodic (see identity.h).
Status Store(Storage* storage, const NodeIdentity& id, bool clean) {
  return storage->PutMeta(kMetaName, fmt::format("{:016x} {} {} {}", id.host_id, id.epoch,
                                                 clean ? 1 : 0, SyncModeName(id.sync_mode)));
}

// Whether a run under `mode` that stopped uncleanly may have lost a dot it had exposed (sent to a
// replica or acknowledged): only if it acknowledged writes before their fsync.
bool MayHaveLostExposedDots(SyncMode mode) { return mode == SyncMode::kPeriodic; }

}  // namespace

Result<NodeIdentity> OpenIdentity(Storage* storage, uint64_t fresh_host_id,
                                  SyncMode sync_mode) {
  NodeIdentity id;
  id.sync_mode = sync_mode;
  auto stored = storage->GetMeta(kMetaName);
  if (stored.ok()) {
    unsigned long long host = 0, epoch = 0;
    int clean = 0;
    char mode_name[16] = {0};
    const int fields =
        std::sscanf(stored->c_str(), "%llx %llu %d %15s", &host, &epoch, &clean, mode_name);
    if (fields < 3 || (clean != 0 && clean != 1)) {
      return Status::Corruption(fmt::format("unreadable node identity '{}'", stored.value()));
    }
    SyncMode last_mode = SyncMode::kPeriodic;  // a record from before modes: assume the worst
    if (fields == 4 && !ParseSyncMode(mode_name, &last_mode)) {
      return Status::Corruption(
          fmt::format("node identity '{}' names an unknown sync mode", stored.value()));
    }
    id.host_id = host;
    id.recovered_unclean = !clean;
    id.last_sync_mode = last_mode;
    id.new_actor = id.recovered_unclean && MayHaveLostExposedDots(last_mode);
    id.epoch = id.new_actor ? epoch + 1 : epoch;
  } else if (stored.status().code() == Code::kNotFound) {
    id.host_id = fresh_host_id;
    id.epoch = 1;
  } else {
    return stored.status();
  }
  id.actor = Mix(id.host_id ^ Mix(id.epoch));
  if (Status s = Store(storage, id, false); !s.ok()) return s;
  return id;
}

Status CloseIdentity(Storage* storage, const NodeIdentity& identity) {
  return Store(storage, identity, true);
}

Status RenewActor(Storage* storage, NodeIdentity* identity) {
  NodeIdentity next = *identity;
  ++next.epoch;
  next.actor = Mix(next.host_id ^ Mix(next.epoch));
  if (Status s = Store(storage, next, false); !s.ok()) return s;
  *identity = next;
  return Status::Ok();
}

Result<std::vector<Token>> OpenTokens(Storage* storage, const std::string& name, uint64_t host_id,
                                      uint32_t count) {
  auto stored = storage->GetMeta("tokens");
  if (stored.ok()) {
    std::vector<Token> tokens;
    std::istringstream in(stored.value());
    long long t = 0;
    while (in >> t) tokens.push_back(t);
    if (tokens.empty()) return Status::Corruption("stored token list is empty");
    return tokens;
  }
  if (stored.status().code() != Code::kNotFound) return stored.status();
  // Every node of a static cluster starts at once, so none can balance against the others'
  // tokens yet: random tokens, as Cassandra did before its allocator. A node that joins a running
  // cluster takes balanced ones instead (node/bootstrap.h, SaveTokens).
  auto tokens = RandomTokens(Ring(), name, count, host_id ^ static_cast<uint64_t>(TokenOf(name)));
  if (!tokens.ok()) return tokens.status();
  if (Status s = SaveTokens(storage, tokens.value()); !s.ok()) return s;
  return tokens;
}

Status SaveTokens(Storage* storage, const std::vector<Token>& tokens) {
  std::string text;
  for (Token t : tokens) text += fmt::format("{} ", t);
  return storage->PutMeta("tokens", text);
}

bool HasTokens(Storage* storage) { return storage->GetMeta("tokens").ok(); }

}  // namespace ringkv
