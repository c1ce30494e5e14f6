// LevelDbStorage: the production Storage engine.
//
// Reads run on the caller's (the event loop's) thread. Writes go to one writer thread, which is
// where the sync mode is carried out:
//   always   - one LevelDB write with sync=true per Write() call;
//   batch    - group commit: every Write() queued while the previous fsync ran is combined into one
//              LevelDB batch with sync=true, so concurrent writers share one fsync;
//   periodic - writes without sync, every Write() queued while the previous group was written
//              combined into one LevelDB batch; the writer thread fsyncs the log sync_period_ms
//              after the first write not yet synced (and never while nothing waits to be synced).
// Completions are handed back to the owner's loop through the Poster.
//
// Thread safety: as Storage. The writer thread touches only the LevelDB handle (thread-safe) and
// the queue (under mu_).
#ifndef RINGKV_STORAGE_LEVELDB_STORAGE_H_
#define RINGKV_STORAGE_LEVELDB_STORAGE_H_

#include <leveldb/db.h>
#include <leveldb/filter_policy.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/storage.h"

namespace ringkv {

struct LevelDbOptions {
  std::string path;
  SyncMode sync_mode = SyncMode::kBatch;
  int64_t sync_period_ms = 1000;
  // Writes queued but not yet applied; past this, Write fails with kOverloaded.
  size_t queue_bytes_max = 256u << 20;
  // One group commit takes at most this many bytes, so a flood of writes still gets fsyncs.
  size_t group_bytes_max = 8u << 20;
  size_t block_cache_bytes = 32u << 20;
};

class LevelDbStorage final : public Storage {
 public:
  // Opens (creating if needed) the database at options.path. `post` must stay callable until the
  // engine is destroyed.
  static Result<std::unique_ptr<LevelDbStorage>> Open(const LevelDbOptions& options, Poster post);
  ~LevelDbStorage() override;

  Result<VersionedObject> Get(std::string_view storage_key) override;
  void Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) override;
  Status Scan(std::string_view keyspace, Token from_exclusive, Token to_inclusive,
              const std::function<bool(std::string_view, Token, const VersionedObject&)>& fn)
      override;
  Result<std::string> GetMeta(std::string_view name) override;
  Status PutMeta(std::string_view name, std::string_view value) override;
  StorageStats Stats() override;
  void Drain() override;

 private:
  struct Pending {
    std::vector<ObjectWrite> writes;
    size_t bytes = 0;
    std::function<void(Status)> done;
  };

  LevelDbStorage(const LevelDbOptions& options, Poster post, std::unique_ptr<leveldb::DB> db);
  void WriterLoop();
  void CountObjects();

  const LevelDbOptions options_;
  const Poster post_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // the writer waits for work or shutdown
  std::condition_variable idle_cv_;   // Drain waits for an empty queue
  std::deque<Pending> queue_;         // guarded by mu_
  size_t queued_bytes_ = 0;           // guarded by mu_
  bool writing_ = false;              // guarded by mu_: a group is being written
  bool stopping_ = false;             // guarded by mu_
  std::atomic<uint64_t> objects_approx_{0};
  std::atomic<uint64_t> fsyncs_{0};
  std::thread writer_;
};

}  // namespace ringkv

#endif  // RINGKV_STORAGE_LEVELDB_STORAGE_H_
