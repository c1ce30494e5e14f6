#include <cstring>

#include "common/coding.h"
#include "storage/storage.h"

namespace ringkv {
namespace {

constexpr char kObjectPrefix = '\x01';

// Tokens are signed; flipping the sign bit makes their big-endian bytes sort as the numbers do.
uint64_t OrderedToken(Token t) { return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63); }
Token TokenFromOrdered(uint64_t v) { return static_cast<Token>(v ^ (uint64_t{1} << 63)); }

}  // namespace

std::string_view SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAlways: return "always";
    case SyncMode::kBatch: return "batch";
    case SyncMode::kPeriodic: return "periodic";
  }
  return "unknown";
}

bool ParseSyncMode(std::string_view name, SyncMode* mode) {
  for (SyncMode m : {SyncMode::kAlways, SyncMode::kBatch, SyncMode::kPeriodic}) {
    if (name == SyncModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

std::string EncodeStorageKey(std::string_view keyspace, Token token, std::string_view user_key) {
  std::string out;
  out.reserve(1 + keyspace.size() + 1 + 8 + user_key.size());
  out.push_back(kObjectPrefix);
  out.append(keyspace);
  out.push_back('\0');
  PutFixed64BE(&out, OrderedToken(token));
  out.append(user_key);
  return out;
}

bool DecodeStorageKey(std::string_view storage_key, StorageKeyParts* out) {
  if (storage_key.empty() || storage_key[0] != kObjectPrefix) return false;
  storage_key.remove_prefix(1);
  const size_t nul = storage_key.find('\0');
  if (nul == std::string_view::npos) return false;
  out->keyspace = storage_key.substr(0, nul);
  Decoder in(storage_key.substr(nul + 1));
  uint64_t ordered = 0;
  if (!in.GetFixed64BE(&ordered)) return false;
  out->token = TokenFromOrdered(ordered);
  out->user_key = in.rest();
  return true;
}

}  // namespace ringkv
