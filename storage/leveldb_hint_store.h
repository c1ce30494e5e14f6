// LevelDbHintStore: the production HintStore, in its own LevelDB database (kvnode: DATA/hints), so
// hints never mix with the object key space and a truncate or a compaction of hints leaves the data
// alone.
//
// Keys: "h" target "\0" id (u64 big-endian), so one target's hints are one contiguous scan in the
// order they were added. Values: the record of storage/hint_store.h (with its checksum). Ids
// continue from the highest stored one after a restart.
//
// Writes are off the loop, as LevelDbStorage's: one writer thread takes every queued Add and
// Remove as one LevelDB batch, synced when it holds an Add (hints are durable before their
// completion, always, whatever kvnode's --sync: a hint replaces a replica's acknowledgement, and a
// synced group commit costs one fsync per batch, not per hint). A batch of removals alone is not
// synced (a lost removal only means a second, idempotent delivery). Completions are posted back
// to the loop. Reads (Oldest) run on the loop and see only hints the index marks durable.
//
// Thread safety: as HintStore. The writer thread touches only the LevelDB handle and the queue
// (under mu_).
#ifndef RINGKV_STORAGE_LEVELDB_HINT_STORE_H_
#define RINGKV_STORAGE_LEVELDB_HINT_STORE_H_

#include <leveldb/db.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/hint_store.h"
#include "storage/storage.h"

namespace ringkv {

class LevelDbHintStore final : public HintStore {
 public:
  // Opens (creating if needed) the database at `path` and indexes the stored hints; a record that
  // fails to decode is removed and counted in corrupt_skipped(). `post` must stay callable until
  // the store is destroyed.
  static Result<std::unique_ptr<LevelDbHintStore>> Open(const std::string& path, Poster post);
  // Waits for queued writes; their completions are posted.
  ~LevelDbHintStore() override;

  void AddRecord(const std::string& target, int64_t stored_at_us, std::string record,
                 std::function<void(Status)> done) override;
  std::vector<Hint> Oldest(const std::string& target, size_t max_count,
                           size_t max_bytes) override;
  Status Remove(const std::string& target, uint64_t id) override;
  Result<uint64_t> Truncate(const std::string& target) override;
  std::map<std::string, HintTargetStats> Stats() const override { return index_.Stats(); }
  uint64_t corrupt_skipped() const override { return corrupt_skipped_; }

  // For tests: writes raw bytes as the record of (target, id), synced, bypassing the index.
  Status PutRawForTest(const std::string& target, uint64_t id, std::string_view record);

 private:
  struct Op {
    std::string key;
    std::string value;  // empty: a delete
    bool is_delete = false;
    std::function<void(Status)> done;  // Adds only
  };

  LevelDbHintStore(Poster post, std::unique_ptr<leveldb::DB> db);
  void Load();
  void Enqueue(Op op);
  void WriterLoop();

  const Poster post_;
  std::unique_ptr<leveldb::DB> db_;
  HintIndex index_;  // the loop's
  uint64_t next_id_ = 1;
  uint64_t corrupt_skipped_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Op> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread writer_;
};

}  // namespace ringkv

#endif  // RINGKV_STORAGE_LEVELDB_HINT_STORE_H_
