// MemoryStorage: a Storage held in a std::map, for unit tests and the simulator. Write completions
// are not run at once but queued: the test (or the simulator's scheduler) runs them with
// RunCompletions(), so it controls when a write becomes "durable" relative to other events.
// FailWrites(n) makes the next n writes fail with an I/O error, as a full disk would.
//
// Thread safety: none; single-threaded use only.
#ifndef RINGKV_STORAGE_MEMORY_STORAGE_H_
#define RINGKV_STORAGE_MEMORY_STORAGE_H_

#include <deque>
#include <map>
#include <string>

#include "storage/storage.h"

namespace ringkv {

class MemoryStorage final : public Storage {
 public:
  Result<VersionedObject> Get(std::string_view storage_key) override;
  void Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) override;
  Status Scan(std::string_view keyspace, Token from_exclusive, Token to_inclusive,
              const std::function<bool(std::string_view, Token, const VersionedObject&)>& fn)
      override;
  Result<std::string> GetMeta(std::string_view name) override;
  Status PutMeta(std::string_view name, std::string_view value) override;
  StorageStats Stats() override;
  void Drain() override { RunCompletions(); }

  // Applies queued writes in order and runs their completions. Returns how many ran.
  size_t RunCompletions();
  size_t pending() const { return queue_.size(); }
  void FailWrites(int n) { fail_writes_ = n; }

 private:
  struct Pending {
    std::vector<ObjectWrite> writes;
    std::function<void(Status)> done;
  };
  std::map<std::string, std::string> objects_;
  std::map<std::string, std::string, std::less<>> meta_;
  std::deque<Pending> queue_;
  int fail_writes_ = 0;
  uint64_t writes_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_STORAGE_MEMORY_STORAGE_H_
