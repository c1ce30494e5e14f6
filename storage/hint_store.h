// HintStore: where a coordinator keeps the writes a replica missed (hinted handoff, DESIGN.md §4,
// §5), until the replica is back and node/hinted_handoff.h delivers them. The production binding is
// LevelDbHintStore (storage/leveldb_hint_store.h, its own database DATA/hints); MemoryHintStore is
// for unit tests and the simulator (sim/sim_hint_store.h adds a disk's latency and crash losses).
//
// A hint is the whole object the coordinator stored for the key (not the client's bare value):
// delivering it is a replica merge (KvService::ReplicaWrite), so a hint delivered twice, or one
// the replica already holds through read repair, makes no new sibling.
//
// Hints of one target are kept in the order they were added (ids increase), so Oldest returns
// them oldest first. Per-target counts, bytes and oldest stored-at time are kept in memory, so
// Stats and the caps of the handoff cost nothing per write.
//
// Thread safety: every method is called on the owning event loop thread; Add's completion runs on
// that same thread (through the Poster given to the engine, or RunCompletions for the in-memory one).
#ifndef RINGKV_STORAGE_HINT_STORE_H_
#define RINGKV_STORAGE_HINT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/version.h"

namespace ringkv {

struct Hint {
  uint64_t id = 0;           // assigned by the store on Add; increasing in the order of Adds
  std::string target;        // the replica the write is for (a node name)
  std::string keyspace;
  std::string key;           // user key
  VersionedObject object;    // what the coordinator stored: merged into the target on delivery
  int64_t stored_at_us = 0;  // the coordinator's wall clock when the hint was made
  size_t bytes = 0;          // the encoded record's size (set by the store)
};

struct HintTargetStats {
  uint64_t count = 0;
  uint64_t bytes = 0;
  int64_t oldest_stored_at_us = 0;  // 0 when count == 0
};

// The record format, shared by every engine so a hint's size means the same everywhere:
//   byte 0         format version (1)
//   bytes 1..8     stored_at_us, int64 big-endian
//   u32 BE + bytes keyspace
//   u32 BE + bytes user key
//   u32 BE + bytes EncodeObject(object) (storage/object_codec.h)
//   u32 BE         FNV-1a 32 of everything before it
// The target and id are in LevelDB's key ("h" target "\0" id as u64 BE), not in the value.
std::string EncodeHintRecord(const Hint& hint);
// The same record from its parts, without a Hint (so without copying the object into one).
std::string EncodeHintRecord(int64_t stored_at_us, std::string_view keyspace, std::string_view key,
                             const VersionedObject& object);
// Fills keyspace, key, object, stored_at_us and bytes; kCorruption on any mismatch.
[[nodiscard]] Status DecodeHintRecord(std::string_view record, Hint* out);

// Per-target metadata of the hints an engine holds, in memory (what Stats and the caps read). An
// entry is added when a hint is added and marked durable when its write completes; Oldest returns
// durable entries only, so a hint is never delivered before it is stored.
class HintIndex {
 public:
  void Add(const std::string& target, uint64_t id, uint64_t bytes, int64_t stored_at_us);
  void MarkDurable(const std::string& target, uint64_t id);
  bool Has(const std::string& target, uint64_t id) const;
  bool IsDurable(const std::string& target, uint64_t id) const;
  // Returns whether it was there.
  bool Remove(const std::string& target, uint64_t id);
  // Removes every entry of `target`; returns their ids.
  std::vector<uint64_t> RemoveTarget(const std::string& target);
  std::map<std::string, HintTargetStats> Stats() const;

 private:
  struct Meta {
    uint64_t bytes = 0;
    int64_t stored_at_us = 0;
    bool durable = false;
  };
  struct Target {
    std::map<uint64_t, Meta> hints;  // by id: oldest first
    uint64_t bytes = 0;
  };
  std::map<std::string, Target> targets_;
};

class HintStore {
 public:
  virtual ~HintStore() = default;

  // Stores `hint` (its id is assigned here). `done` runs on the owner's loop once the hint is
  // durable (synced); a non-OK status means it was not stored. A hint whose `done` has not run
  // may be lost in a crash. Its stats count from the call on (so caps see hints in flight).
  void Add(const Hint& hint, std::function<void(Status)> done) {
    AddRecord(hint.target, hint.stored_at_us, EncodeHintRecord(hint), std::move(done));
  }
  // The same for a record the caller has already encoded (EncodeHintRecord): the handoff encodes
  // once, to check its size against the caps, and hands that record over.
  virtual void AddRecord(const std::string& target, int64_t stored_at_us, std::string record,
                         std::function<void(Status)> done) = 0;

  // Up to max_count durable hints for `target`, oldest first, stopping once max_bytes is reached
  // (at least one hint is returned when any is stored). A record that fails to decode is removed,
  // counted in corrupt_skipped(), and skipped.
  virtual std::vector<Hint> Oldest(const std::string& target, size_t max_count,
                                   size_t max_bytes) = 0;

  // Removes one hint (after delivery). Not synced: a removal lost in a crash only means the hint
  // is delivered again, which the replica merge absorbs. Removing an absent id is a no-op.
  virtual Status Remove(const std::string& target, uint64_t id) = 0;
  // Removes every hint of `target`; returns how many there were.
  virtual Result<uint64_t> Truncate(const std::string& target) = 0;

  // Targets with at least one hint.
  virtual std::map<std::string, HintTargetStats> Stats() const = 0;
  virtual uint64_t corrupt_skipped() const = 0;
};

}  // namespace ringkv

#endif  // RINGKV_STORAGE_HINT_STORE_H_
