// Storage: the versioned-object engine as the replication core sees it (DESIGN.md §2). The
// production binding is LevelDbStorage; tests may use MemoryStorage.
//
// Keys are storage keys (EncodeStorageKey): ordered by (keyspace, token, user key), so one token
// range of one keyspace is one contiguous scan.
//
// Thread safety: Get, Scan and Write may be called from the owning event loop thread only. Write's
// completion runs on that same thread, through the Poster given to the engine.
#ifndef RINGKV_STORAGE_STORAGE_H_
#define RINGKV_STORAGE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "common/version.h"

namespace ringkv {

// Runs a task on the owner's event loop. Engines deliver completions through it.
using Poster = std::function<void(std::function<void()>)>;

enum class SyncMode {
  kAlways,    // every write is fsynced on its own before it is acknowledged
  kBatch,     // group commit: writes queued together share one fsync, then are acknowledged
  kPeriodic,  // acknowledged when written to the OS; fsynced every sync_period_ms
};
std::string_view SyncModeName(SyncMode mode);
bool ParseSyncMode(std::string_view name, SyncMode* mode);

// (keyspace, token, user key) -> a byte string whose order is that tuple's order.
// REQUIRES: keyspace is a valid name (no NUL byte).
std::string EncodeStorageKey(std::string_view keyspace, Token token, std::string_view user_key);
struct StorageKeyParts {
  std::string_view keyspace;
  Token token = 0;
  std::string_view user_key;
};
[[nodiscard]] bool DecodeStorageKey(std::string_view storage_key, StorageKeyParts* out);

struct ObjectWrite {
  std::string storage_key;
  std::string encoded_object;  // EncodeObject()
  bool creates = false;        // no object was stored under the key before: counts a new object
  bool erase = false;          // remove the object stored under the key (encoded_object unused);
                               // counts one object fewer (dropping a keyspace)
};

struct StorageStats {
  uint64_t objects_approx = 0;
  uint64_t bytes_approx = 0;  // on disk: table files plus the write-ahead log (LevelDB)
  uint64_t writes_queued = 0;
  uint64_t fsyncs = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The object stored under the key; NotFound if none; Corruption if it fails to decode.
  virtual Result<VersionedObject> Get(std::string_view storage_key) = 0;

  // Stores whole objects atomically. `done` runs on the owner's loop once the writes are as durable
  // as the sync mode promises; a non-OK status means none was acknowledged (an I/O error, a full
  // disk, or kOverloaded when the write queue is full). Reads made after `done` see the writes.
  virtual void Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) = 0;

  // Calls fn for every object of `keyspace` with token in (from_exclusive, to_inclusive], in storage
  // order, until fn returns false.
  virtual Status Scan(std::string_view keyspace, Token from_exclusive, Token to_inclusive,
                      const std::function<bool(std::string_view user_key, Token token,
                                               const VersionedObject& object)>& fn) = 0;

  // Small metadata records (the node's identity), outside the object key space. PutMeta is synced.
  virtual Result<std::string> GetMeta(std::string_view name) = 0;
  virtual Status PutMeta(std::string_view name, std::string_view value) = 0;

  virtual StorageStats Stats() = 0;

  // Waits until every queued write has completed (their callbacks are posted). For shutdown.
  virtual void Drain() = 0;
};

// A page of a paged scan: storage->Scan over (from_exclusive, to_inclusive], resumed after the
// cursor (after_token, after_key) when `has_after`, so objects at or before it are skipped.
inline Status ScanAfter(Storage* storage, std::string_view keyspace, Token from_exclusive,
                        Token to_inclusive, bool has_after, Token after_token,
                        std::string after_key,
                        const std::function<bool(std::string_view user_key, Token token,
                                                 const VersionedObject& object)>& fn) {
  // Keys at the cursor's own token may follow it: start the scan just before that token.
  if (has_after && after_token > from_exclusive + 1) from_exclusive = after_token - 1;
  return storage->Scan(keyspace, from_exclusive, to_inclusive,
                       [&](std::string_view key, Token token, const VersionedObject& object) {
                         if (has_after && (token < after_token ||
                                           (token == after_token && key <= after_key))) {
                           return true;
                         }
                         return fn(key, token, object);
                       });
}

}  // namespace ringkv

#endif  // RINGKV_STORAGE_STORAGE_H_
