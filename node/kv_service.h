// KvService: the single-node request core. It turns get / put / del / replica requests into
// version operations on the local Storage. It is sans-IO (DESIGN.md §2): it knows nothing of
// sockets or threads, and reaches the world only through the Storage and Clock it is given.
//
// Operations on one key are serialised: while a write to a key waits for its fsync, later requests
// for that key wait behind it. So a read never returns a version that is not yet durable, and every
// read-modify-write starts from the latest acknowledged object. TODO(perf): chain queued writes to
// a hot key into the pending group instead of waiting one fsync each.
//
// Thread safety: none. Every call, and every callback it makes, happens on the owning event loop
// thread (the Storage posts its completions there).
#ifndef RINGKV_NODE_KV_SERVICE_H_
#define RINGKV_NODE_KV_SERVICE_H_

#include <cstdint>
#include <list>
#include <optional>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/limits.h"
#include "common/status.h"
#include "common/version.h"
#include "node/keyspaces.h"
#include "node/requests.h"
#include "node/table_stats.h"
#include "storage/storage.h"

namespace ringkv {

inline constexpr uint32_t kReplicaScanEntriesMax = 1000;
inline constexpr size_t kPurgeBatchKeys = 1000;
inline constexpr size_t kReplicaScanBytesMax = 8u << 20;

// Told of every change to a stored object when its write completes, so anti-entropy's trees
// (node/aae_trees.h) follow the data: the key's version hash (aae/version_hash.h) before and after
// (nullopt: no object). A failed write reports after == before.
class StoredObjectObserver {
 public:
  virtual ~StoredObjectObserver() = default;
  virtual void OnStored(std::string_view keyspace, std::string_view key, Token token,
                        std::optional<uint64_t> before, std::optional<uint64_t> after) = 0;
};

struct KvServiceOptions {
  size_t value_bytes_max = kValueBytesMaxDefault;
  // A write that would make the key's stored object larger is refused with kTooManySiblings.
  size_t object_bytes_max = kObjectBytesMaxDefault;
};

class KvService {
 public:
  // `storage`, `clock` and `keyspaces` must outlive the service. `actor` names this node's writes
  // (node/identity.h). Without a catalog only the default keyspace exists.
  KvService(Storage* storage, const Clock* clock, uint64_t actor, KvServiceOptions options = {},
            const KeyspaceCatalog* keyspaces = nullptr);

  using ReadDone = std::function<void(Result<ReadReply>)>;
  using WriteDone = std::function<void(Result<WriteReply>)>;
  using ReplicaReadDone = std::function<void(Result<ReplicaReadReply>)>;

  void Get(std::string_view keyspace, std::string_view key, ReadDone done);
  // A coordinated write: supersedes what `context` covers (an encoded VersionVector; empty: nothing).
  void Put(std::string_view keyspace, std::string_view key, std::string_view value,
           std::string_view context, uint32_t ttl_s, WriteDone done);
  // A tombstone write. An empty context deletes everything the node has seen of the key.
  void Del(std::string_view keyspace, std::string_view key, std::string_view context,
           WriteDone done);

  // Node-to-node: merge a whole object into the local copy; read the whole local object
  // (tombstones and clock included; found = false when there is none).
  void ReplicaWrite(std::string_view keyspace, std::string_view key, VersionedObject object,
                    std::function<void(Status)> done);
  void ReplicaRead(std::string_view keyspace, std::string_view key, ReplicaReadDone done);

  // Node-to-node: the local objects of one non-wrapping range (spec.start_token <
  // spec.end_token), tombstones included, in (token, key) order, after the cursor when
  // spec.has_after, at most spec.limit (capped at kReplicaScanEntriesMax) and about
  // kReplicaScanBytesMax of encoded objects; `more` when it stopped at either bound. Reads
  // storage directly, outside the per-key queues: a write still waiting for its fsync may or may
  // not be seen, as with any read racing a write. `done` runs before ReplicaScan returns.
  using ReplicaScanDone = std::function<void(Result<ReplicaScanReply>)>;
  void ReplicaScan(const ScanSpec& spec, ReplicaScanDone done);

  // Deletes every stored object of `keyspace`, which the catalog must no longer hold (a dropped
  // keyspace), in batches of kPurgeBatchKeys erasures; `done` gets the count removed. Stops early
  // (OK) if the keyspace exists again, so a keyspace created anew keeps its new data.
  void PurgeKeyspace(std::string keyspace, std::function<void(Status, uint64_t removed)> done);

  // Erases this keyspace's stored objects whose token `keep` refuses, examining at most
  // kPurgeBatchKeys objects after the cursor (from the first when !spec.has_after; spec's
  // start_token < end_token, key_prefix and limit unused). A key with an operation in flight is
  // kept (a later run finds it). `done` runs once the erasures are durable, with the page's
  // figures and, when `more`, the cursor to go on from. For `kvctl cleanup` (node/cleanup.h):
  // REQUIRES: the node took a new actor first (node/identity.h, RenewActor).
  struct ErasePage {
    uint64_t examined = 0, erased = 0, bytes = 0;
    bool more = false;
    Token last_token = 0;  // the cursor, when more
    std::string last_key;
  };
  void EraseUnowned(const ScanSpec& spec, const std::function<bool(Token)>& keep,
                    std::function<void(Result<ErasePage>)> done);

  // Erases the key's stored object if its version hash (aae/version_hash.h) is still
  // `version_hash`, through the key's queue (after any operation in flight on it); `done` gets
  // whether it erased, once the erasure is durable. For tombstone collection
  // (node/tombstone_gc.h). REQUIRES: the object's clock does not name this node's actor (else
  // the node takes a new actor first, node/identity.h).
  void EraseIfUnchanged(std::string_view keyspace, std::string_view key, uint64_t version_hash,
                        std::function<void(Result<bool>)> done);

  // At most one; null: none. Set before the first request.
  void set_observer(StoredObjectObserver* observer) { observer_ = observer; }
  // Whether an operation on the key is in flight or queued: its stored object may be about to
  // change (a scan that meets it may see the old object or the new).
  bool Busy(const std::string& storage_key) const { return busy_.count(storage_key) > 0; }

  uint64_t actor() const { return actor_; }
  // The actor of the writes this node coordinates from now on (node/identity.h, RenewActor).
  void set_actor(uint64_t actor) { actor_ = actor; }
  uint64_t requests_served() const { return requests_served_; }
  // Local replica reads and writes completed (all keyspaces), and per keyspace / table.
  uint64_t replica_reads() const { return reads_; }
  uint64_t replica_writes() const { return writes_; }
  const TableStats& table_stats() const { return table_stats_; }
  TableStats* mutable_table_stats() { return &table_stats_; }

  Status ValidateKeyspace(std::string_view keyspace) const;
  static Status ValidateKey(std::string_view key);

 private:
  // A key with a write in flight, and the operations waiting for it.
  // An operation on one key. Returns true when it started a storage write and so still holds the
  // key: the write's completion must call Release.
  using KeyOp = std::function<bool()>;
  struct KeyQueue {
    // A list, not a deque: an empty std::deque allocates, and most keys never have a waiter.
    std::list<KeyOp> waiting;
    bool held = false;
  };

  // Runs `op` (callable as bool()) now if the key is free, else after the operations ahead of it.
  // A template so that the common case, a free key, runs `op` without wrapping it in a KeyOp.
  template <typename Op>
  void WithKey(const std::string& skey, Op&& op);
  // The write that held the key completed: run what waits for it.
  void Release(const std::string& skey);
  // Runs waiting operations until one holds the key or none is left. Iterative, so a long queue of
  // reads behind a write does not recurse.
  void Drain(const std::string& skey);

  // Validates the keyspace and the key, and makes the storage key.
  Result<std::string> StorageKeyFor(std::string_view keyspace, std::string_view key) const;
  // Reads the stored object (an empty one if none) for a read-modify-write.
  Result<VersionedObject> Load(const std::string& skey, bool* exists);
  // Encodes an object for storage, refusing one past the object byte bound.
  Result<std::string> EncodeBounded(const VersionedObject& object) const;
  void Coordinate(std::string_view keyspace, std::string_view key, Sibling sibling,
                  std::string_view context, bool context_is_everything_seen, WriteDone done);

  // Tells the observer, if any, of a completed write of `skey`.
  void Notify(const std::string& skey, std::optional<uint64_t> before,
              std::optional<uint64_t> after);
  std::optional<uint64_t> HashOf(const VersionedObject& object, bool exists) const;

  Storage* const storage_;
  const Clock* const clock_;
  StoredObjectObserver* observer_ = nullptr;
  uint64_t actor_;
  const KvServiceOptions options_;
  const KeyspaceCatalog* const keyspaces_;  // may be null
  std::unordered_map<std::string, KeyQueue> busy_;
  void CountRead(const std::string& skey, int64_t start_us);
  void CountWrite(const std::string& skey, int64_t start_us, bool existed, size_t old_bytes,
                  size_t new_bytes);

  uint64_t requests_served_ = 0;
  uint64_t reads_ = 0, writes_ = 0;
  TableStats table_stats_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_KV_SERVICE_H_
